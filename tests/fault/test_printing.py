"""Printing under faults: a real `postvak worker` killed with SIGKILL mid-batch, and again after a batch was
handed over but before it was recorded; the print shop collecting folders in between. Every letter ends
up in exactly one complete batch, and gets `fallback-printed` exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postvak.messages.models import MessageEvent
from postvak.printing import service
from postvak.printing.models import PrintBatch, PrintRecord
from postvak.runtime import Runtime
from tests.support.logcheck import bsns_in
from tests.support.printing import (
    attachment_pdf,
    batch_folders,
    inline_pdf,
    register_addresses,
    send_unreachable,
)

pytestmark = pytest.mark.fault

LETTERS, PER_BATCH = 12, 4


class PrintWorker:
    """`postvak worker` on the test's database, printing slowly: a pause after each PDF and hand-over."""

    def __init__(self, runtime: Runtime, log_path: Path, pause: float) -> None:
        self.env = {
            **os.environ,
            "POSTVAK_DATABASE_URL": runtime.settings.resolved_database_url,
            "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
            "POSTVAK_BASE_URL": runtime.settings.base_url,
            "POSTVAK_PRINT_TEST_PAUSE_SECONDS": str(pause),
            "POSTVAK_WORKER_POLL_SECONDS": "0.1",
            "POSTVAK_WORKER_LEASE_SECONDS": "3",  # a killed worker's batch is taken over soon
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "postvak.cli", "worker"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def recorded_batches(runtime: Runtime) -> set[str]:
    with runtime.database.unit_of_work(write=False) as session:
        return {
            str(b) for b in session.scalars(select(PrintBatch.id).where(PrintBatch.state == "handed-over"))
        }


def printed_records(runtime: Runtime) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        query = select(func.count()).select_from(PrintRecord).where(PrintRecord.state == "printed")
        return session.scalar(query)


def pdfs_being_written(print_dir: Path) -> int:
    partial = print_dir / ".partial"
    return max((len(list(folder.glob("*.pdf"))) for folder in partial.glob("*")), default=0)


def test_worker_killed_mid_batch_and_after_a_hand_over_prints_each_letter_once(
    runtime, client, sender, bsns, tmp_path
):
    register_addresses(runtime, bsns[:LETTERS])
    attachments = [inline_pdf(attachment_pdf("Bijlage", 2))]
    ids = [
        send_unreachable(client, sender, bsn, f"FAULT-{n}", attachments=attachments)
        for n, bsn in enumerate(bsns[:LETTERS])
    ]
    with runtime.database.unit_of_work() as session:
        batches = {
            str(b) for b in service.print_messages(session, message_ids=ids, batch_size=PER_BATCH).batches
        }
    assert len(batches) == LETTERS // PER_BATCH

    print_dir = runtime.settings.resolved_print_dir
    collected = tmp_path / "collected"  # where the print shop takes the folders it picks up
    collected.mkdir()
    worker = PrintWorker(runtime, tmp_path / "worker.log", pause=0.4)
    try:
        worker.start()
        wait_until(lambda: pdfs_being_written(print_dir) >= 2, 60, "a batch half written")
        worker.kill()  # mid-batch: PDFs on disk, nothing handed over, nothing recorded
        assert batch_folders(print_dir) == [] and recorded_batches(runtime) == set()

        unrecorded: set[str] = set()
        for _attempt in range(3):  # the kill may come a moment too late (just recorded): then another batch
            worker.start()
            wait_until(
                lambda: {f.name for f in batch_folders(print_dir)} - recorded_batches(runtime),
                60,
                "a batch handed over",
            )
            worker.kill()  # handed over, not yet recorded
            unrecorded = {f.name for f in batch_folders(print_dir)} - recorded_batches(runtime)
            if unrecorded:
                break
        assert unrecorded
        for folder in batch_folders(print_dir):  # the print shop collects what it finds
            shutil.move(folder, collected / folder.name)

        worker.start()
        wait_until(lambda: printed_records(runtime) == LETTERS, 120, "every letter printed")
        wait_until(lambda: recorded_batches(runtime) == batches, 30, "every batch recorded")
    finally:
        worker.stop()

    folders = batch_folders(print_dir) + batch_folders(collected)
    assert sorted(f.name for f in folders) == sorted(batches)  # one folder per batch, none twice
    assert unrecorded <= {f.name for f in batch_folders(collected)}  # collected, never handed over again
    printed = Counter()
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        files = sorted(p.name for p in folder.glob("*.pdf"))
        assert files == sorted(item["file"] for item in manifest["items"])  # complete: every file it lists
        assert manifest["letters"] == len(files) == PER_BATCH
        printed.update(item["messageId"] for item in manifest["items"])
    assert printed == Counter({str(i): 1 for i in ids})  # each letter in exactly one batch
    with runtime.database.unit_of_work(write=False) as session:
        events = Counter(
            str(m)
            for m in session.scalars(
                select(MessageEvent.message_id).where(MessageEvent.type == "fallback-printed")
            )
        )
    assert events == Counter({str(i): 1 for i in ids})
    assert not bsns_in(worker.log_path.read_text(errors="replace"))
