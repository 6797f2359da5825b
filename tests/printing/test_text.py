"""Text for the standard fonts: Dutch as it is, everything else by a readable stand-in, never an error."""

from hypothesis import given
from hypothesis import strategies as st

from postvak.printing.text import ENCODING, printable


def test_dutch_text_is_kept_as_it_is():
    dutch = "Geachte heer Van Dĳk? — nee: „ë, ï, é, è, ó, ü“ ‘quote’ – € 12,50 … • ½ café coöperatie"
    assert printable(dutch.replace("ĳ", "ij")) == dutch.replace("ĳ", "ij")


def test_what_the_fonts_lack_is_spelled_out():
    assert printable("Ĳmuiden ĳs") == "IJmuiden ijs"
    assert printable("Łódź Kraków Şişli Győr") == "Lódz Kraków Sisli Gyor"  # ó is in Windows-1252
    assert printable("a → b ≥ c ✓") == "a -> b >= c v"
    assert printable("ﬁets x²") == "fiets x²"  # ² is in Windows-1252; the ligature is not
    assert printable("北京 ✈") == "?? ?"


def test_invisible_and_control_characters_do_not_print():
    assert printable("a\u200bb\u200ec\u202ed") == "abcd"  # zero-width space, direction marks and overrides
    assert printable("tab\there") == "tab here"
    assert printable("bel\x07") == "bel?"


@given(st.text())
def test_anything_becomes_encodable(text):
    printable(text).encode(ENCODING)
