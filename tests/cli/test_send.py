"""`postvak send`: a JSON-lines file of letters through the batch API of a live server."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from sqlalchemy import func, select

from postvak.cli import batch_client
from postvak.cli.batch_client import send_file
from postvak.messages.models import Message
from postvak.runtime import Runtime
from tests.support.letters import letter
from tests.support.live import live_server


@dataclass
class LetterFile:
    path: Path
    good: int
    bad_lines: dict[int, str]  # 1-based line number -> the problem slug expected for it


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    with live_server(runtime) as base_url:
        yield base_url


def write_letters(path: Path, count: int, bsns: list[str], *, bad: bool) -> LetterFile:
    """`count` good letters; with `bad`, also a wrong BSN, a letter without subject, broken lines."""
    lines = [json.dumps(letter(bsns[i % len(bsns)], f"L-{i:05d}")) for i in range(count)]
    bad_lines: dict[int, str] = {}
    if bad:
        no_subject = letter(bsns[0], "NO-SUBJECT")
        del no_subject["subject"]
        for number, text, slug in [  # in file order, so that each lands on its line number
            (7, json.dumps(letter("123456789", "BAD-BSN")), "invalid-recipient"),
            (1001, json.dumps(no_subject), "validation-failed"),
            (1200, '{"recipient": {"type": "BSN", "value": ', "validation-failed"),
            (1500, "   ", None),
            (2100, "[1, 2, 3]", "validation-failed"),
        ]:
            lines.insert(number - 1, text)
            if slug:
                bad_lines[number] = slug
    path.write_text("\n".join(lines) + "\n\n")
    return LetterFile(path, count, bad_lines)


def stored(runtime: Runtime) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Message))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "postvak.cli", "send", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_file_is_sent_in_batches_and_every_line_is_accounted_for(server, runtime, sender, bsns, tmp_path):
    letters = write_letters(tmp_path / "letters.jsonl", 2496, bsns, bad=True)
    summary = send_file(letters.path, server, sender.api_key, batch_size=1000, progress=False)
    assert (summary.created, summary.existing, summary.rejected) == (2496, 0, 4)
    assert (summary.failed_batches, summary.unsent, summary.stopped) == (0, 0, None)
    slugs = {r["line"]: r["problem"]["type"].rsplit("/", 1)[-1] for r in summary.rejections}
    assert slugs == letters.bad_lines
    assert [r["line"] for r in summary.rejections] == sorted(letters.bad_lines)
    assert summary.rejected_by_type == {"validation-failed": 3, "invalid-recipient": 1}
    by_line = {r["line"]: r for r in summary.rejections}
    assert by_line[7]["senderReference"] == "BAD-BSN"
    assert by_line[1200]["problem"]["detail"] == "not valid JSON"
    assert by_line[2100]["problem"]["detail"] == "not a JSON object"
    assert summary.rejected_lines == sorted(letters.bad_lines) and summary.exit_code == 1
    assert stored(runtime) == 2496
    printed = json.dumps(summary.as_dict()) + "\n".join(summary.lines())
    assert not any(bsn in printed for bsn in [*bsns, "123456789"])  # never a BSN in the output


def test_sending_the_same_file_again_delivers_nothing_new(server, runtime, sender, bsns, tmp_path):
    letters = write_letters(tmp_path / "letters.jsonl", 1500, bsns, bad=False)
    first = send_file(letters.path, server, sender.api_key, batch_size=500, progress=False)
    again = send_file(letters.path, server, sender.api_key, batch_size=500, progress=False)
    assert (first.created, first.existing) == (1500, 0)
    assert (again.created, again.existing, again.rejected, again.failed_batches) == (0, 1500, 0, 0)
    assert stored(runtime) == 1500


def test_the_progress_bar_goes_to_the_given_console_only(server, sender, bsns, tmp_path, capsys):
    letters = write_letters(tmp_path / "letters.jsonl", 30, bsns, bad=False)
    screen = io.StringIO()
    send_file(
        letters.path,
        server,
        sender.api_key,
        batch_size=10,
        console=Console(file=screen, force_terminal=True, width=100),
    )
    assert "30/30" in screen.getvalue()
    assert capsys.readouterr().out == ""


def test_the_command_prints_one_json_object(server, runtime, sender, bsns, tmp_path):
    letters = write_letters(tmp_path / "letters.jsonl", 120, bsns, bad=False)
    with letters.path.open("a") as f:
        f.write("not json\n")
    done = run_cli(
        str(letters.path),
        "--api-url",
        server,
        "--api-key",
        sender.api_key,
        "--json",
        "--batch-size",
        "50",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # a line was rejected
    result = json.loads(done.stdout)  # the whole of stdout: exactly one object
    counts = (result["created"], result["existing"], result["rejected"], result["failedBatches"])
    assert counts == (120, 0, 1, 0) and (result["unsent"], result["stopped"]) == (0, None)
    assert result["rejectedLines"] == [122]  # 120 letters, a blank line, then the broken one
    [rejection] = result["rejections"]
    assert (rejection["line"], rejection["problem"]["detail"]) == (122, "not valid JSON")
    assert rejection["problem"]["type"].endswith("/problems/validation-failed")
    assert stored(runtime) == 120


def test_the_command_exits_zero_only_when_every_line_was_delivered(server, sender, bsns, tmp_path):
    letters = write_letters(tmp_path / "letters.jsonl", 40, bsns, bad=False)
    done = run_cli(
        str(letters.path), "--api-url", server, "--api-key", sender.api_key, "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rejectedLines"] == []
    again = run_cli(str(letters.path), "--api-url", server, "--api-key", sender.api_key, cwd=tmp_path)
    assert again.returncode == 0 and "0 created, 40 existing" in again.stdout


def test_the_command_names_each_rejected_line_once(server, sender, bsns, tmp_path):
    path = tmp_path / "letters.jsonl"
    good = [json.dumps(letter(bsns[n], f"ONCE-{n}")) for n in range(3)]
    bad_bsn = json.dumps(letter("123456789", "ONCE-BAD"))
    path.write_text("\n".join([good[0], good[1], bad_bsn, "{not json", good[2], "[1]"]) + "\n")
    done = run_cli(str(path), "--api-url", server, "--api-key", sender.api_key, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    said = [" ".join(line.split()) for line in done.stdout.splitlines()]
    assert "3 created, 0 existing (sent before), 3 rejected" in said
    assert "line 4: not valid JSON" in said and "line 6: not a JSON object" in said
    [line_3] = [line for line in said if line.startswith("line 3 ")]
    assert line_3.startswith("line 3 (ONCE-BAD): recipient.value: ")
    for number in (3, 4, 6):
        assert sum(f"line {number}" in line for line in said) == 1, said
    assert "123456789" not in done.stdout


def test_a_wrong_api_key_stops_the_run_with_a_clear_message(server, runtime, bsns, tmp_path):
    letters = write_letters(tmp_path / "letters.jsonl", 300, bsns, bad=False)
    summary = send_file(letters.path, server, "pv_not-a-key", batch_size=100, concurrency=2, progress=False)
    assert summary.stopped and "API key" in summary.stopped
    assert summary.failed_batches >= 1 and summary.created == 0
    assert summary.unsent == 300
    done = run_cli(str(letters.path), "--api-url", server, "--api-key", "pv_not-a-key", cwd=tmp_path)
    assert done.returncode == 2  # not a rejected line: the run itself could not be done
    said = " ".join(done.stdout.split())  # the console wraps long lines
    assert "the server refused the API key" in said and "check --api-key" in said
    as_json = run_cli(str(letters.path), "--api-url", server, "--api-key", "pv_x", "--json", cwd=tmp_path)
    assert as_json.returncode == 2
    result = json.loads(as_json.stdout)
    assert "API key" in result["stopped"] and result["unsent"] == 300 and result["created"] == 0
    assert stored(runtime) == 0


def test_an_address_where_nothing_listens_stops_at_once(bsns, tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago and now has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    letters = write_letters(tmp_path / "letters.jsonl", 50, bsns, bad=False)
    started = time.monotonic()
    summary = send_file(letters.path, f"http://127.0.0.1:{port}", "pv_any", batch_size=10, progress=False)
    assert time.monotonic() - started < 5
    assert summary.stopped and "check --api-url" in summary.stopped
    assert (summary.created, summary.unsent) == (0, 50)


class Flaky(httpx.BaseTransport):
    """The real transport, except for the answers scripted per call: ("status", code, headers) fails
    before the server sees the batch, ("lose",) lets the server store it and then drops the answer."""

    def __init__(self, script: dict[int, tuple]) -> None:
        self.real = httpx.HTTPTransport()
        self.script = script
        self.calls: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(time.monotonic())
        step = self.script.get(len(self.calls))
        if step and step[0] == "status":
            return httpx.Response(step[1], headers=step[2], json={"detail": "scripted"})
        response = self.real.handle_request(request)
        if step and step[0] == "lose":
            response.read()
            response.close()
            raise httpx.ReadError("connection lost after the server answered", request=request)
        return response

    def close(self) -> None:
        self.real.close()


def test_a_failed_batch_is_retried_and_counted_once(server, runtime, sender, bsns, tmp_path, monkeypatch):
    flaky = Flaky({1: ("status", 429, {"Retry-After": "1"}), 2: ("lose",), 4: ("status", 503, {})})
    monkeypatch.setattr(batch_client, "_transport", lambda concurrency: flaky)
    monkeypatch.setattr(batch_client, "BACKOFF_FIRST", 0.01)
    letters = write_letters(tmp_path / "letters.jsonl", 300, bsns, bad=False)
    summary = send_file(letters.path, server, sender.api_key, batch_size=100, concurrency=1, progress=False)
    assert len(flaky.calls) == 6  # batch 1 three times, batch 2 twice, batch 3 once
    assert flaky.calls[1] - flaky.calls[0] >= 0.95  # Retry-After was honoured
    # The stored batch whose answer was lost comes back as existing: delivered, and counted once.
    assert (summary.created, summary.existing, summary.rejected, summary.failed_batches) == (200, 100, 0, 0)
    assert stored(runtime) == 300


def test_a_batch_refused_as_a_whole_fails_alone(server, runtime, sender, bsns, tmp_path, monkeypatch):
    flaky = Flaky({2: ("status", 413, {})})
    monkeypatch.setattr(batch_client, "_transport", lambda concurrency: flaky)
    letters = write_letters(tmp_path / "letters.jsonl", 300, bsns, bad=False)
    summary = send_file(letters.path, server, sender.api_key, batch_size=100, concurrency=1, progress=False)
    assert (summary.created, summary.rejected, summary.failed_batches, summary.stopped) == (200, 100, 1, None)
    assert summary.rejections[0]["line"] == 101 and summary.rejections[0]["problem"]["status"] == 413
    assert len(summary.rejections) == batch_client.MAX_REJECTIONS
    assert stored(runtime) == 200
