"""Ingest benchmark: letters per second through POST /api/v1/message-batches against raw Core executemany.

Run from the repository root: `.venv/bin/python -m bench.ingest [--letters N] [--postgresql]`.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine, text
from tests.support.bsns import take_bsns
from tests.support.letters import letter, register
from tests.support.process import ServerProcess

from postvak.citizens.models import Mailbox
from postvak.config import Settings
from postvak.db import connect
from postvak.inbox.models import InboxItem
from postvak.inbox.search import inbox_search
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.ids import new_id
from postvak.messages.models import Message, MessageEvent
from postvak.migrate import upgrade
from postvak.runtime import build_runtime
from postvak.senders.models import Sender

PG_SERVER = "postgresql://127.0.0.1:5432/test"
BODY_BYTES = 1024
TARGET_SQLITE = 3000  # letters/s through the API on SQLite, on a 2-core machine


def body_of(reference: str) -> str:
    """A 1 KiB Markdown body that differs per letter, as real letters do."""
    head = f"Geachte heer/mevrouw,\n\nHierbij ontvangt u uw **aanslag** met kenmerk {reference}.\n\n"
    return head + "x" * (BODY_BYTES - len(head) - 1) + "\n"


def letter_of(n: int, bsns: list[str]) -> dict:
    reference = f"BENCH-{n:07d}"
    return letter(bsns[n % len(bsns)], reference, body=body_of(reference))


# --- the client: a process of its own, so it never shares the server's interpreter ---


def run_client(url: str, api_key: str, letters: int, batch: int, connections: int, results) -> None:
    bsns = take_bsns(9000)
    # Encoded before the clock starts: the figure is the server's, not the client's JSON encoder.
    chunks = [range(start, min(start + batch, letters)) for start in range(0, letters, batch)]
    bodies = [orjson.dumps({"messages": [letter_of(n, bsns) for n in chunk]}) for chunk in chunks]
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    outcomes: dict[str, int] = {}
    failures: list[str] = []
    lock = threading.Lock()
    todo = iter(bodies)

    def send() -> None:
        with httpx.Client(timeout=600.0) as http:
            while True:
                with lock:
                    body = next(todo, None)
                if body is None:
                    return
                response = http.post(f"{url}/api/v1/message-batches", content=body, headers=headers)
                with lock:
                    if response.status_code != 200:
                        failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
                        continue
                    for result in response.json()["results"]:
                        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1

    threads = [threading.Thread(target=send) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({"seconds": time.perf_counter() - started, "outcomes": outcomes, "failures": failures})


# --- the databases: a fresh SQLite file, or a fresh PostgreSQL schema that is dropped afterwards ---


class Databases:
    def __init__(self, postgresql: bool, workdir: Path) -> None:
        self.postgresql = postgresql
        self.workdir = workdir
        self.schemas: list[str] = []
        self.admin = (
            create_engine(PG_SERVER.replace("postgresql://", "postgresql+psycopg://")) if postgresql else None
        )
        self.autovacuum = self._setting("autovacuum") if postgresql else ""

    def _setting(self, name: str) -> str:
        with self.admin.connect() as conn:
            return conn.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar()

    def fresh(self, name: str) -> str:
        if not self.postgresql:
            return f"sqlite:///{self.workdir / name}.db"
        schema = f"pv_bench_{secrets.token_hex(4)}_{name}"
        with self.admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        self.schemas.append(schema)
        return f"{PG_SERVER}?options=-csearch_path%3D{schema}"

    def drop_all(self) -> None:
        if self.admin is None:
            return
        with self.admin.begin() as conn:
            for schema in self.schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        self.admin.dispose()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def through_api(url: str, workdir: Path, args) -> dict:
    data_dir = workdir / "api-data"
    runtime = build_runtime(Settings(database_url=url, data_dir=data_dir))
    upgrade(runtime.database)
    sender = register(runtime)
    runtime.database.dispose()
    # The per-sender rate limit guards a shared service; here it would only measure itself.
    unlimited = {"POSTVAK_SENDER_RATE_PER_SECOND": "100000", "POSTVAK_SENDER_RATE_BURST": "100000"}
    server = ServerProcess(url, data_dir, workdir / "server.log", env=unlimited)
    analyzer = Analyzer(url, args.analyze_every) if args.postgresql and args.analyze_every else None
    try:
        server_url = server.start(timeout=60)
        if analyzer:
            analyzer.start()
        spawn = multiprocessing.get_context("spawn")
        results = spawn.Queue()
        client = spawn.Process(
            target=run_client,
            args=(server_url, sender.api_key, args.letters, args.batch, args.connections, results),
        )
        client.start()
        cpu_before = cpu_seconds(server.pid)
        report = results.get()  # before join: a full queue would block the child's exit
        report["server_cpu"] = cpu_seconds(server.pid) - cpu_before
        client.join()
    finally:
        server.kill()
        if analyzer:
            analyzer.stop()
    report["log"] = workdir / "server.log"
    report["analyzed"] = analyzer.runs if analyzer else 0
    return report


class Analyzer(threading.Thread):
    """Stands in for autovacuum's ANALYZE, which the test PostgreSQL server runs without."""

    def __init__(self, url: str, every: float) -> None:
        super().__init__(daemon=True)
        self.url, self.every, self.runs = url, every, 0
        self._stopped = threading.Event()

    def run(self) -> None:
        database = connect(self.url, pool_size=1)
        while not self._stopped.wait(self.every):
            with database.writer.begin() as conn:
                conn.execute(text("ANALYZE messages, message_events, mailboxes"))
            self.runs += 1
        database.dispose()

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def baseline(url: str, workdir: Path, letters: int, chunk: int = 1000) -> dict:
    """The same rows the service writes (letter with sealed 1 KiB body, two events, inbox line, search
    row), inserted with Core executemany only."""
    database = connect(url)
    upgrade(database)
    keyring = KeyRing.load_or_create(workdir / "baseline-keys.json")
    bsns = take_bsns(9000)
    sender_id, now = new_id(), clock.now()
    mailboxes = {bsn: new_id() for bsn in bsns}
    with database.writer.begin() as conn:
        conn.execute(
            Sender.__table__.insert(),
            [
                {
                    "id": sender_id,
                    "oin": "00000001002220647000",
                    "name": "Gemeente Testdorp",
                    "kind": "municipality",
                    "status": "active",
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            Mailbox.__table__.insert(),
            [
                {"id": mid, "recipient_type": "BSN", "recipient_value": bsn, "created_at": now}
                for bsn, mid in mailboxes.items()
            ],
        )
    inserting = building = 0.0
    for start in range(0, letters, chunk):
        began = time.perf_counter()
        messages, events = [], []
        for n in range(start, min(start + chunk, letters)):
            item = letter_of(n, bsns)
            message_id = new_id()
            sealed = keyring.seal(item["body"].encode(), message_id.bytes)
            messages.append(
                {
                    "id": message_id,
                    "sender_id": sender_id,
                    "mailbox_id": mailboxes[item["recipient"]["value"]],
                    "sender_reference": item["senderReference"],
                    "content_hash": hashlib.sha256(
                        orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
                    ).hexdigest(),
                    "message_type": item["messageType"],
                    "subject": item["subject"],
                    "body_sealed": sealed.ciphertext,
                    "body_key": sealed.wrapped_key,
                    "body_kek_id": sealed.kek_id,
                    "due_date": None,
                    "action_kind": None,
                    "action_label": None,
                    "action_url": None,
                    "confirmation_required": False,
                    "sensitive": False,
                    "publish_at": None,
                    "paper_fallback": "never",
                    "notification_text": None,
                    "created_at": now,
                }
            )
            events += [
                {"message_id": message_id, "sender_id": sender_id, "type": kind, "at": now}
                for kind in ("accepted", "unreachable")
            ]
        built = time.perf_counter()
        filed = [
            {
                "message_id": m["id"],
                "mailbox_id": m["mailbox_id"],
                "delivered_at": now,
                "unread": True,
                "archived": False,
            }
            for m in messages
        ]
        indexed = [
            {
                "message_id": m["id"],
                "mailbox_id": m["mailbox_id"],
                "subject": m["subject"],
                "sender_name": "Gemeente Testdorp",
                "message_type": m["message_type"],
                "reference": m["sender_reference"],
            }
            for m in messages
        ]
        with database.writer.begin() as conn:
            conn.execute(Message.__table__.insert(), messages)
            conn.execute(MessageEvent.__table__.insert(), events)
            conn.execute(InboxItem.__table__.insert(), filed)
            conn.execute(inbox_search.insert(), indexed)
        inserting += time.perf_counter() - built
        building += built - began
    database.dispose()
    return {"insert_seconds": inserting, "build_seconds": building}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--postgresql", action="store_true", help=f"use a fresh schema in {PG_SERVER}")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        metavar="SECONDS",
        help="PostgreSQL: ANALYZE the tables this often during the run (autovacuum's job)",
    )
    args = parser.parse_args()

    kind = "PostgreSQL" if args.postgresql else "SQLite"
    with tempfile.TemporaryDirectory(prefix="postvak-bench-") as tmp:
        workdir = Path(tmp)
        databases = Databases(args.postgresql, workdir)
        try:
            api = through_api(databases.fresh("api"), workdir, args)
            server_log = api["log"].read_text(errors="replace")
            base = baseline(databases.fresh("base"), workdir, args.letters)
        finally:
            databases.drop_all()

    api_rate = args.letters / api["seconds"]
    base_rate = args.letters / base["insert_seconds"]
    print(
        f"{kind}, {args.letters} letters of {BODY_BYTES} bytes, batches of {args.batch}, "
        f"{args.connections} connections, {os.cpu_count()} cores"
    )
    print(
        f"  API       {api_rate:9,.0f} letters/s  ({api['seconds']:.1f} s wall, "
        f"server CPU {api['server_cpu']:.1f} s = {api['server_cpu'] / api['seconds']:.0%} of one core)"
    )
    print(f"  outcomes  {api['outcomes']}")
    if args.postgresql:
        print(
            f"  ANALYZE   run {api['analyzed']} times during the API run (autovacuum is "
            f"{databases.autovacuum})"
        )
    print(
        f"  baseline  {base_rate:9,.0f} letters/s  (Core executemany, {base['insert_seconds']:.1f} s "
        f"inserting; building and sealing the rows took another {base['build_seconds']:.1f} s)"
    )
    print(f"  ratio     API/baseline = {api_rate / base_rate:.2f}")
    if not args.postgresql:
        verdict = "meets" if api_rate >= TARGET_SQLITE else "MISSES"
        print(f"  target    {TARGET_SQLITE:,} letters/s through the API on SQLite: {verdict}")
    if api["failures"]:
        print(f"  FAILED requests ({len(api['failures'])}), first: {api['failures'][0]}")
    if api["outcomes"].get("created", 0) != args.letters:
        print("  WARNING: not every letter was created; server log tail:\n" + server_log[-2000:])


if __name__ == "__main__":
    main()
