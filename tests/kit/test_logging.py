"""The log's scrub: BSN-shaped numbers masked, control characters escaped, long values cut, in every
line of both renderers, from structlog and from the standard library alike."""

from __future__ import annotations

import json
import logging
import sys
import unicodedata

import pytest
import structlog

from postvak.kit.logging import (
    BSN_MASK,
    MAX_VALUE_CHARS,
    ScrubbedHandler,
    configure_logging,
    mask_bsns,
    scrub,
)
from tests.support.bsns import take_bsns
from tests.support.logcheck import bsns_in

BSN, OTHER = take_bsns(2, start=500)
NOT_A_BSN = BSN[:-1] + str((int(BSN[-1]) + 1) % 10)  # one digit off: fails the check digit


@pytest.fixture(autouse=True)
def plain_logging():
    yield
    configure_logging()  # the next test finds the default (console) configuration


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f"/api/v1/messages/{BSN}", f"/api/v1/messages/{BSN_MASK}"),
        (f"/x?bsn={BSN}&n=1", f"/x?bsn={BSN_MASK}&n=1"),
        (f"{BSN}/{OTHER}", f"{BSN_MASK}/{BSN_MASK}"),
        (f"BSN{BSN}.pdf", f"BSN{BSN_MASK}.pdf"),  # letters around it do not hide it
        (f"recipient {BSN}", f"recipient {BSN_MASK}"),
        (f"/x/{NOT_A_BSN}", f"/x/{NOT_A_BSN}"),  # nine digits that fail the check digit stay
        (f"/x/1{BSN}", f"/x/1{BSN}"),  # ten digits are not a BSN
        (f"/x/{BSN}0", f"/x/{BSN}0"),
        ("ms=123.4 status=200", "ms=123.4 status=200"),
        # A UUID is skipped whole, even where its hex holds nine digits that pass the check digit.
        (f"/letters/0199aaaa-bbbb-7ccc-8ddd-e{BSN}ff", f"/letters/0199aaaa-bbbb-7ccc-8ddd-e{BSN}ff"),
        (f"/letters/e{BSN}ff", f"/letters/e{BSN_MASK}ff"),  # not a UUID: masked
        ("٩٩٩٩٩٣٦٥٣", "٩٩٩٩٩٣٦٥٣"),  # other scripts' digits are not a BSN's
    ],
)
def test_bsn_shaped_numbers_are_masked(text, logged):
    assert mask_bsns(text) == logged


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("/api/v1/nope\x1b]0;pwned\x07", "/api/v1/nope\\x1b]0;pwned\\x07"),
        ("two\nlines\r\n", "two\\x0alines\\x0d\\x0a"),
        ("factuur\u202efdp.exe", "factuur\\u202efdp.exe"),
        ("nul\x00", "nul\\x00"),
        ("c1\x9b31m", "c1\\x9b31m"),
        ("lone \ud800", "lone \\ud800"),
        ("Ĳsselmeer — café 東京 😀", "Ĳsselmeer — café 東京 😀"),
        (int(BSN), BSN_MASK),
        (int(NOT_A_BSN), int(NOT_A_BSN)),
        (12.5, 12.5),
        (None, None),
        (True, True),
        ({"path": f"/{BSN}\x1b"}, {"path": f"/{BSN_MASK}\\x1b"}),
        ([f"a\n{BSN}", 1], [f"a\\x0a{BSN_MASK}", 1]),
        (ValueError(f"bad \x1b[2J {BSN}"), f"bad \\x1b[2J {BSN_MASK}"),
    ],
)
def test_every_value_is_scrubbed(value, logged):
    assert scrub(None, "info", {"value": value}) == {"value": logged}


def test_the_event_itself_is_scrubbed_too():
    assert scrub(None, "info", {"event": f"sent to {BSN}\n"})["event"] == f"sent to {BSN_MASK}\\x0a"


def test_a_traceback_keeps_its_lines_and_nothing_else():
    exception = f"Traceback (most recent call last):\n  File \"x.py\"\nValueError: \x1b[31m{BSN}\r"
    scrubbed = scrub(None, "error", {"exception": exception})["exception"]
    assert scrubbed.splitlines() == [
        "Traceback (most recent call last):",
        '  File "x.py"',
        f"ValueError: \\x1b[31m{BSN_MASK}\\x0d",
    ]


def test_a_long_value_is_cut_and_says_by_how_much():
    scrubbed = scrub(None, "info", {"path": "/x" * 3000})["path"]
    assert scrubbed == "/x" * (MAX_VALUE_CHARS // 2) + f"…[{6000 - MAX_VALUE_CHARS} more characters]"


def test_cutting_never_leaves_part_of_a_bsn():
    value = "a" * (MAX_VALUE_CHARS - 4) + BSN + "b" * 100
    scrubbed = scrub(None, "info", {"path": value})["path"]
    assert BSN[:4] not in scrubbed.replace("a", "").replace("b", "")
    assert scrubbed.startswith("a" * (MAX_VALUE_CHARS - 4) + BSN_MASK[:4])


# --- the renderers: what reaches the operator's terminal or the log collector ------------------

ODD = {
    "path": f"/api/v1/nope\x1b]0;pwned\x07/{BSN}\n[info] forged line",
    "agent": "curl\u202e\x00\x9b",
    "count": int(OTHER),
}


def _lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert err.endswith("\n")
    return err[:-1].split("\n")


def _clean(line: str) -> None:
    assert bsns_in(line) == [] and BSN not in line and OTHER not in line
    assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cs") or c in "\u202e\u2028\u2029"]


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_an_odd_event_is_one_clean_line_in_both_renderers(capsys, as_json):
    configure_logging(json=as_json)
    structlog.get_logger("postvak.http").info("request\x1b[2J", **ODD)
    [line] = _lines(capsys)
    _clean(line)
    assert "x1b]0;pwned" in line and "/*********" in line  # console quotes it (repr), JSON escapes it
    if as_json:
        logged = json.loads(line)
        assert logged["path"] == f"/api/v1/nope\\x1b]0;pwned\\x07/{BSN_MASK}\\x0a[info] forged line"
        assert logged["agent"] == "curl\\u202e\\x00\\x9b" and logged["count"] == BSN_MASK
        assert logged["event"] == "request\\x1b[2J" and logged["level"] == "info"


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_an_exception_is_logged_as_a_plain_scrubbed_traceback(capsys, as_json):
    configure_logging(json=as_json)
    try:
        raise ValueError(f"no letter for {BSN}\x1b[31m")
    except ValueError as exc:
        structlog.get_logger("postvak.web").error("unhandled error", path=f"/{BSN}", exc_info=exc)
    err = capsys.readouterr().err
    _clean(err.replace("\n", ""))
    if as_json:
        [line] = err.splitlines()
        exception = json.loads(line)["exception"]
    else:
        exception = err.split("\n", 1)[1]
    assert "Traceback (most recent call last):" in exception
    assert f"ValueError: no letter for {BSN_MASK}\\x1b[31m" in exception


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_standard_library_lines_are_scrubbed_the_same_way(as_json):
    """uvicorn, alembic and httpx log through `logging`; the root handler renders them like ours.

    Formatted here directly: pytest's own log capture would otherwise hold the raw record."""
    configure_logging(json=as_json)
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, ScrubbedHandler)]
    try:
        raise RuntimeError(f"\x1b]0;{BSN}\x07")
    except RuntimeError:
        record = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in %s", (f"/{BSN}\r",), sys.exc_info()
        )
    text = handler.format(record)
    _clean(text.replace("\n", ""))
    first = text.split("\n")[0]
    if as_json:
        logged = json.loads(first)
        assert logged["event"] == f"Exception in /{BSN_MASK}\\x0d" and logged["logger"] == "uvicorn.error"
        assert f"RuntimeError: \\x1b]0;{BSN_MASK}\\x07" in logged["exception"]
    else:
        assert f"Exception in /{BSN_MASK}\\x0d" in first and "[uvicorn.error]" in first
        assert text.endswith(f"RuntimeError: \\x1b]0;{BSN_MASK}\\x07")


def test_configuring_again_replaces_the_handler_instead_of_adding_one():
    configure_logging()
    configure_logging(json=True)
    assert len([h for h in logging.getLogger().handlers if isinstance(h, ScrubbedHandler)]) == 1
