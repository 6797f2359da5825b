"""No BSN in logs, no control character from outside in them: the suite-wide check (conftest), the
paths that would be tempted to log one, and the access line of odd requests in both renderers."""

import json
import logging
import unicodedata

import pytest
from fastapi.testclient import TestClient

from postvak.app import build_app
from postvak.kit.logging import BSN_MASK, MAX_VALUE_CHARS, configure_logging
from tests.support.bsns import take_bsns
from tests.support.letters import letter
from tests.support.logcheck import bsns_in

BSN = take_bsns(1, start=700)[0]
# A UUID whose hex holds nine digits that pass the check digit (not from the test range, which the
# suite's own leak check would report): an id, that stays whole.
AN_ID = "0199aaaa-bbbb-7ccc-8ddd-e123456782f0"


def test_the_log_check_recognises_test_bsns():
    assert bsns_in("recipient=999993653 path=/x") == ["999993653"]
    assert bsns_in("id=019999993653 n=1999900006") == []


def test_rejections_and_errors_do_not_log_the_recipient(client, sender, bsns, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    broken = bsns[5][:-1] + str((int(bsns[5][-1]) + 1) % 10)
    client.post("/api/v1/messages", json=letter(broken, "LOG-1"), headers=sender.headers)
    client.post("/api/v1/messages", json=letter(bsns[5], "LOG-2"), headers=sender.headers)
    client.post("/api/v1/messages", json=letter(bsns[5], "LOG-2", subject="x"), headers=sender.headers)
    client.post("/api/v1/messages", json=letter(bsns[5], "LOG-3"), headers={"Authorization": "Bearer x"})
    out, err = capfd.readouterr()
    text = out + err + caplog.text
    assert "request" in text  # the access log did run
    assert bsns_in(text) == []
    assert broken not in text


@pytest.mark.parametrize("where", ["stdout", "stderr"])
def test_a_leak_would_be_caught(pytester_like, where):
    assert pytester_like(where) == ["999993653"]


@pytest.fixture
def pytester_like(capsys):
    """Writes a BSN where a careless log line would, and reads it back the way the check does."""
    import sys

    def leak(where: str) -> list[str]:
        print("recipient=999993653", file=getattr(sys, where))
        out, err = capsys.readouterr()  # consumed here, so this test itself stays clean
        return bsns_in(out + err)

    return leak


# --- the access line of odd requests ----------------------------------------------------------

# (what is asked for, the path as the access line holds it). Query strings are never logged: a
# citizen's search words are theirs, and a client may put anything there.
ODD_PATHS = [
    ("/api/v1/nope%1b]0;pwned%07", "/api/v1/nope\\x1b]0;pwned\\x07"),
    ("/api/v1/nope%1b[2J%1b[H", "/api/v1/nope\\x1b[2J\\x1b[H"),
    ("/api/v1/nope%0a2026-12-01 [info] forged", "/api/v1/nope\\x0a2026-12-01 [info] forged"),
    ("/api/v1/nope%0d%0a", "/api/v1/nope\\x0d\\x0a"),
    ("/inbox%00", "/inbox\\x00"),
    ("/inbox%c2%9b31m", "/inbox\\x9b31m"),
    ("/api/v1/factuur%e2%80%aefdp.exe", "/api/v1/factuur\\u202efdp.exe"),
    ("/inbox%e2%80%a8x", "/inbox\\u2028x"),
    ("/inbox%ff%fe", "/inbox\ufffd\ufffd"),
    ("/inbox%ed%a0%80", "/inbox\ufffd\ufffd\ufffd"),  # a lone surrogate's bytes are not UTF-8
    (f"/api/v1/messages/{BSN}", f"/api/v1/messages/{BSN_MASK}"),
    (f"/api/v1/messages/{BSN}/events", f"/api/v1/messages/{BSN_MASK}/events"),
    (f"/letters/{BSN}", f"/letters/{BSN_MASK}"),
    (f"/api/v1/messages?recipient={BSN}", "/api/v1/messages"),
    (f"/inbox?q={BSN}%1b", "/inbox"),
    (f"/api/v1/x{BSN}y", f"/api/v1/x{BSN_MASK}y"),
    (f"/api/v1/{BSN}%1b{BSN}", f"/api/v1/{BSN_MASK}\\x1b{BSN_MASK}"),
    (f"/api/v1/messages/{AN_ID}", f"/api/v1/messages/{AN_ID}"),
]
ODD_HEADERS = {
    "User-Agent": f"curl\x1b]0;{BSN}\x07",
    "X-Forwarded-For": BSN,
    "Referer": f"https://example.nl/?bsn={BSN}",
    "Authorization": f"Bearer {BSN}",
    "X-Odd": "\u202e\x7f".encode(),
}


@pytest.fixture(params=[False, True], ids=["console", "json"])
def logged_client(request, runtime):
    runtime.settings = runtime.settings.model_copy(update={"log_json": request.param})
    with TestClient(build_app(runtime), raise_server_exceptions=False) as client:
        yield client, request.param
    configure_logging()


def access_lines(capsys, as_json: bool) -> list[str]:
    """The access lines written since the last call; each must be one clean line."""
    err = capsys.readouterr().err
    lines = [line for line in err.split("\n") if line]
    for line in lines:
        assert bsns_in(line) == [] and BSN not in line
        assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cs") or c in "\u202e\u2028\u2029"]
    if as_json:
        return [entry for entry in map(json.loads, lines) if entry["event"] == "request"]
    return [line for line in lines if "] request " in line]


@pytest.mark.parametrize(("asked", "logged"), ODD_PATHS)
def test_an_odd_path_is_logged_escaped_masked_and_on_one_line(logged_client, capsys, asked, logged):
    client, as_json = logged_client
    capsys.readouterr()
    status = client.get(asked, headers=ODD_HEADERS, follow_redirects=False).status_code
    [line] = access_lines(capsys, as_json)
    if as_json:
        assert line["path"] == logged and line["status"] == status and line["method"] == "GET"
        assert set(line) == {"event", "method", "path", "status", "ms", "sender", "level", "timestamp"}
    else:
        assert f"path={logged} " in line or f"path={logged!r} " in line, line
        assert f"status={status}" in line
    for value in ODD_HEADERS.values():
        assert str(value) not in str(line)


def test_a_huge_path_is_cut_in_the_log(logged_client, capsys):
    client, as_json = logged_client
    capsys.readouterr()
    client.get("/inbox/" + "x" * 60_000, follow_redirects=False)  # httpx refuses URLs over 64 kB
    [line] = access_lines(capsys, as_json)
    cut = f"/inbox/{'x' * (MAX_VALUE_CHARS - 7)}…[{60_007 - MAX_VALUE_CHARS} more characters]"
    if as_json:
        assert line["path"] == cut
    else:
        assert f"path={cut!r}" in line and len(line) < MAX_VALUE_CHARS + 200


def test_a_bsn_in_a_form_body_or_cookie_is_never_logged(logged_client, capsys):
    client, as_json = logged_client
    capsys.readouterr()
    client.post("/", data={"username": BSN, "password": BSN}, headers={"Cookie": f"lang={BSN}"})
    client.post("/api/v1/messages", json=letter(BSN, "LOG-BODY"), headers={"Authorization": f"Bearer {BSN}"})
    assert len(access_lines(capsys, as_json)) == 2
