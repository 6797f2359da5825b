"""No BSN in logs: the suite-wide check (conftest) and the paths that would be tempted to log one."""

import logging

import pytest

from tests.support.letters import letter
from tests.support.logcheck import bsns_in


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
