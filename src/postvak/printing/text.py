"""Text for the PDF's built-in fonts: every character they cannot show gets a readable stand-in.

The messages are set in the PDF standard fonts (Helvetica, Courier) with the WinAnsi
(Windows-1252) encoding: every PDF reader and printer has them, nothing is embedded, and they
cover all of Dutch — ë ï é ó ü, € „ “ ” ‘ ’ – — … • — and the rest of Western Europe. What they
lack is spelled out: the ligature ĳ as "ij", Ł as "L", accented letters from elsewhere without
their accent (ş → s, ő → o), a few symbols in ASCII (→ as "->"), and anything else as "?".
"""

from __future__ import annotations

import unicodedata

ENCODING = "windows-1252"

_STAND_INS = {
    "\u0132": "IJ",
    "\u0133": "ij",
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0131": "i",
    "\u0149": "'n",
    "\u017f": "s",
    "\t": " ",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2212": "-",
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u200b": "",
    "\u2060": "",
    "\ufeff": "",
    "\u2032": "'",
    "\u2033": '"',
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2192": "->",
    "\u2190": "<-",
    "\u21d2": "=>",
    "\u2713": "v",
    "\u2714": "v",
    "\u2715": "x",
    "\u2717": "x",
}
_cache: dict[str, str] = {}


def printable(text: str) -> str:
    """`text` in characters the standard fonts show (Windows-1252); what they lack, by a stand-in."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(_char(c) for c in unicodedata.normalize("NFC", text))


def _char(char: str) -> str:
    found = _cache.get(char)
    if found is None:
        found = _stand_in(char)
        if len(_cache) < 10_000:
            _cache[char] = found
    return found


def _stand_in(char: str) -> str:
    if char in _STAND_INS:
        return _STAND_INS[char]
    category = unicodedata.category(char)
    if category == "Cf":
        return ""  # format characters (zero-width joiners, direction marks) carry nothing on paper
    if category in ("Cc", "Cs", "Co", "Cn"):
        return "?"
    if _encodable(char):
        return char
    # Compatibility decomposition, accents dropped: ş → s, ő → o, ﬁ → fi, ² → 2.
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and base.isprintable() and _encodable(base) else "?"


def _encodable(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True
