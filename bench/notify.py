"""Notification benchmark: e-mails per second from `postvak worker` to a local SMTP sink, and the delay
from a letter's delivery to its notification, against raw smtplib on one connection to the same sink.

Run from the repository root: `.venv/bin/python -m bench.notify [--letters N] [--postgresql]`.
"""

from __future__ import annotations

import argparse
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import orjson
from aiosmtpd.controller import Controller
from bench.ingest import Databases
from sqlalchemy import select
from tests.support.bsns import take_bsns
from tests.support.letters import letter, register
from tests.support.process import ServerProcess, free_port

from postvak.auth import passwords
from postvak.config import Settings
from postvak.flows import activation
from postvak.inbox.models import InboxItem
from postvak.kit import clock
from postvak.migrate import upgrade
from postvak.runtime import build_runtime

TARGET = 500  # e-mails per second on a 2-core machine
BENCH_PASSWORD = "bench-" + "password-12345"  # the citizens only exist for the run
_MESSAGE_ID = re.compile(rb"^Message-ID: <new\.([0-9a-f-]{36})\.email@", re.MULTILINE | re.IGNORECASE)


class Sink:
    """An SMTP server that only notes when each notification arrived (parsing would cost the CPU the
    worker needs: both share this machine)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # letter id → wall-clock time of arrival
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        found = _MESSAGE_ID.search(envelope.original_content)
        with self.lock:
            self.count += 1
            if found:
                self.arrived.setdefault(found.group(1).decode(), time.time())
        return "250 OK"


def setup(url: str, data_dir: Path, citizens_count: int) -> tuple[str, list[str]]:
    settings = Settings(database_url=url, data_dir=data_dir, argon2_time_cost=1, argon2_memory_kib=64)
    runtime = build_runtime(settings)
    upgrade(runtime.database)
    sender = register(runtime)
    bsns = take_bsns(citizens_count)
    hasher = passwords.hasher_for(settings)
    with runtime.database.unit_of_work() as session:
        for n, bsn in enumerate(bsns):
            activation.register_citizen(
                session,
                keyring=runtime.keyring,
                bsn=bsn,
                email=f"burger-{n}@example.nl",
                password=BENCH_PASSWORD,
                activated=True,
                hasher=hasher,
            )
    runtime.database.dispose()
    return sender.api_key, bsns


def deliver(server_url: str, api_key: str, bsns: list[str], letters: int, per_second: float) -> float:
    """All letters through the API, as fast as it takes them (per_second 0) or at a steady pace in
    batches of a tenth of a second's worth; returns the seconds it took."""
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    batch = max(1, min(1000, int(per_second / 10))) if per_second else 1000
    started = time.perf_counter()
    with httpx.Client(timeout=600.0) as http:
        for start in range(0, letters, batch):
            if per_second:
                time.sleep(max(0.0, started + start / per_second - time.perf_counter()))
            items = [
                letter(bsns[n % len(bsns)], f"NOTIFY-{n:07d}")
                for n in range(start, min(letters, start + batch))
            ]
            response = http.post(
                f"{server_url}/api/v1/message-batches",
                content=orjson.dumps({"messages": items}),
                headers=headers,
            )
            response.raise_for_status()
    return time.perf_counter() - started


def start_worker(url: str, data_dir: Path, smtp_url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": url,
        "POSTVAK_DATA_DIR": str(data_dir),
        "POSTVAK_SMTP_URL": smtp_url,
        "POSTVAK_NOTIFY_EMAIL_PER_SECOND": "0",  # measure what it can do, not the configured pace
        "POSTVAK_WORKER_POLL_SECONDS": "0.1",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "postvak.cli", "worker"],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def delivered_times(url: str, data_dir: Path) -> dict[str, float]:
    runtime = build_runtime(Settings(database_url=url, data_dir=data_dir))
    with runtime.database.unit_of_work(write=False) as session:
        rows = session.execute(select(InboxItem.message_id, InboxItem.delivered_at))
        found = {str(mid): clock.as_utc(at).timestamp() for mid, at in rows}
    runtime.database.dispose()
    return found


def raw_smtp(port: int, count: int) -> float:
    """The ceiling: prebuilt messages of the same size over one smtplib connection; returns e-mails/s."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@postvak.localhost", "burger@example.nl", "x"
    message.set_content("x" * 1500)
    message.add_alternative("<p>" + "x" * 2500 + "</p>", subtype="html")
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for _ in range(count):
            client.send_message(message)
    return count / (time.perf_counter() - started)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=20_000)
    parser.add_argument("--citizens", type=int, default=500)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument(
        "--letters-per-second", type=float, default=0, help="deliver at this steady pace (default: a burst)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="postvak-bench-") as tmp:
        workdir = Path(tmp)
        databases = Databases(args.postgresql, workdir)
        sink = Sink()
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            url, data_dir = databases.fresh("notify"), workdir / "data"
            api_key, bsns = setup(url, data_dir, args.citizens)
            unlimited = {"POSTVAK_SENDER_RATE_PER_SECOND": "100000", "POSTVAK_SENDER_RATE_BURST": "100000"}
            server = ServerProcess(url, data_dir, workdir / "server.log", env=unlimited)
            worker = None
            try:
                server_url = server.start(timeout=60)
                worker = start_worker(url, data_dir, f"smtp://127.0.0.1:{port}", workdir / "worker.log")
                ingest_seconds = deliver(server_url, api_key, bsns, args.letters, args.letters_per_second)
                deadline = time.monotonic() + 600
                while len(sink.arrived) < args.letters and time.monotonic() < deadline:
                    time.sleep(0.2)
            finally:
                if worker:
                    worker.kill()
                server.kill()
            delivered = delivered_times(url, data_dir)
            arrived, received = dict(sink.arrived), sink.count
            baseline = raw_smtp(port, min(args.letters, 5000))
        finally:
            controller.stop()
            databases.drop_all()

    first, last = min(arrived.values()), max(arrived.values())
    rate = len(arrived) / (last - first) if last > first else float("nan")
    delays = [arrived[mid] - delivered[mid] for mid in arrived if mid in delivered]
    db = "PostgreSQL" if args.postgresql else "SQLite"
    lines = [
        f"database: {db}; {args.letters:,} letters to {args.citizens} citizens",
        f"letters delivered through the API in {ingest_seconds:.1f} s "
        f"({args.letters / ingest_seconds:,.0f}/s), the worker running alongside",
        f"notifications received: {len(arrived):,} distinct of {received:,} e-mails",
        f"notification e-mails per second (first to last): {rate:,.0f}   target ≥ {TARGET}",
        f"delay delivery → notification: p50 {percentile(delays, 50):.2f} s, "
        f"p99 {percentile(delays, 99):.2f} s",
        f"baseline, prebuilt e-mails over one smtplib connection to the same sink: {baseline:,.0f}/s; "
        f"ratio {rate / baseline:.2f}",
    ]
    print("\n".join(lines))
    print(f"measured {datetime.now().isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
