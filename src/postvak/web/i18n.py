"""Dutch and English for the web pages: Babel catalogues from .po files, the language of a request, dates."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from postvak.kit import clock

TEMPLATES = Path(__file__).parent / "templates"
TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANGUAGE_COOKIE = "lang"
_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}  # en_GB writes "31 March 2027"


def load_translations(directory: Path) -> dict[str, NullTranslations]:
    """Every .po file under <directory>/<lang>/LC_MESSAGES/, merged per language; compiled in memory.

    English is the language of the message ids, so it needs no catalogue of its own.
    """
    loaded: dict[str, NullTranslations] = {}
    for language in LANGUAGES:
        merged: NullTranslations | None = None
        for po in sorted((directory / language / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as f:
                catalog = read_po(f, locale=_LOCALES[language])
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            translations = Translations(buffer)
            if merged is None:
                merged = translations
            else:
                merged.merge(translations)
        loaded[language] = merged or NullTranslations()
    return loaded


CATALOGUES = load_translations(TRANSLATIONS)


def choose_language(query: str | None, cookie: str | None, preferred: str | None) -> str:
    """The language asked for in the URL, else the one last chosen on this device, else the account's."""
    for candidate in (query, cookie, preferred):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def language_of(request: Request) -> str:
    return choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        getattr(request.state, "language", None),
    )


def translate(language: str, message: str) -> str:
    return CATALOGUES.get(language, CATALOGUES[DEFAULT_LANGUAGE]).gettext(message)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translate(context.get("lang") or DEFAULT_LANGUAGE, message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    language = context.get("lang") or DEFAULT_LANGUAGE
    return CATALOGUES.get(language, CATALOGUES[DEFAULT_LANGUAGE]).ngettext(singular, plural, n)


@pass_context
def _day(context: Context, value: date | datetime | None, style: str = "long") -> str:
    """A date as people write it in the page's language: "31 maart 2027", "31 March 2027"."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # stored in UTC; the day is the one on Dutch clocks
        value = clock.as_utc(value).astimezone(_TIME_ZONE).date()
    language = context.get("lang") or DEFAULT_LANGUAGE
    return format_date(value, format=style, locale=_LOCALES[language])


@pass_context
def _file_size(context: Context, size: int) -> str:
    """ "12 kB", "1,4 MB" in Dutch or "1.4 MB" in English."""
    locale = _LOCALES[context.get("lang") or DEFAULT_LANGUAGE]
    if size < 1024 * 1024:
        return f"{max(1, -(-size // 1024))} kB"
    return f"{format_decimal(round(size / (1024 * 1024), 1), format='#,##0.#', locale=locale)} MB"


def _page_languages(request: Request) -> dict[str, object]:
    """What every template knows: its language, and where the language switch leads."""
    language = language_of(request)
    other = "en" if language == "nl" else "nl"
    # Back to the same page, without a one-time notice ("3 messages archived") shown again.
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("notice", "count")]
    back = request.url.path + (f"?{urlencode(query)}" if query else "")
    return {"lang": language, "other_lang": other, "language_switch": _switch_url(other, back)}


def _switch_url(language: str, back: str) -> str:
    return "/language?" + urlencode({"lang": language, "back": back})


# What no page shows as it is: C0 and C1 controls (not tabs and line breaks), bidirectional controls
# ("factuur\u202efdp.exe" would read "factuurexe.pdf") and lone surrogates. The edges refuse them;
# this covers text stored before they did, and a refused value shown again in its form.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _showable(value: object) -> object:
    """Jinja's finalize: every value a template outputs, with what no page shows replaced by U+FFFD."""
    if not isinstance(value, str) or value.isprintable():
        return value
    shown = _UNSHOWABLE.sub("\ufffd", value)
    # Markup stays markup: it was safe HTML, and only characters that are no markup were replaced.
    return Markup(shown) if isinstance(value, Markup) else shown  # noqa: S704


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    finalize=_showable,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
_environment.filters["day"] = _day
_environment.filters["file_size"] = _file_size
_environment.filters["host"] = lambda url: urlsplit(url).hostname or ""
templates = Jinja2Templates(env=_environment, context_processors=[_page_languages])


def remember_language(request: Request, response: Response, language: str) -> None:
    """Keep the language on this device for a year (also before log-in)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def safe_local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default`: redirects never lead to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    # Drop a lang parameter: the cookie now holds the choice, and a stale one would override it.
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"])
    return parts.path + (f"?{query}" if query else "")
