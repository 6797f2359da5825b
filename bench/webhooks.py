"""Webhook benchmark: status events per second delivered by `postvak worker` to a receiver on loopback,
and the delay from an event to its delivery, while letters are ingested through the API; against the
receiver's own rate for prebuilt signed requests over as many connections as the lane uses.

Run from the repository root: `.venv/bin/python -m bench.webhooks [--letters N] [--postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import orjson
from bench.ingest import Databases, letter_of
from bench.notify import percentile
from standardwebhooks.webhooks import Webhook
from tests.support.bsns import take_bsns
from tests.support.letters import register
from tests.support.process import ServerProcess, free_port

from postvak.config import Settings
from postvak.kit.netguard import Policy
from postvak.migrate import upgrade
from postvak.runtime import build_runtime
from postvak.webhooks import rules, service
from postvak.webhooks.lanes import WebhookLane
from postvak.webhooks.schemas import WebhookEndpointIn

PER_ENDPOINT = WebhookLane.__init__.__kwdefaults__["per_endpoint"]  # the lane's connections to one endpoint
VERIFIED = 500  # the first requests are checked with the standardwebhooks verifier
_OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


# --- the receiver: a process of its own, so that it never takes the worker's or the client's interpreter ---


class _Http(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for POSTs with a content-length; notes each arrival."""

    def __init__(self, noted: list, verify, count) -> None:
        self.noted, self.verify, self.count = noted, verify, count
        self.buffer = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            lines = self.buffer[:end].split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower().decode()] = value.strip().decode()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            path = lines[0].split()[1].decode()
            self.noted.append((time.time(), path, headers.get("webhook-id", ""), body))
            if path == "/hook":
                self.verify(headers, body)
            self.count.value += 1
            self.transport.write(_OK)


def run_receiver(port: int, secret: str, ready, stop, count, results) -> None:
    noted: list = []
    verifier, verified = Webhook(secret), []

    def verify(headers: dict[str, str], body: bytes) -> None:
        """The first requests are checked as a receiver checks them (later: their timestamps are fresh)."""
        if len(verified) < VERIFIED:
            try:
                verified.append(verifier.verify(body, headers)["id"] == headers["webhook-id"])
            except Exception:  # noqa: BLE001 - a refused signature is counted, not fatal
                verified.append(False)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Http(noted, verify, count), "127.0.0.1", port, backlog=512)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()

    asyncio.run(serve())
    # The event's moment from each body, read after the run: parsing costs nothing while it counts.
    arrivals = [
        (at, webhook_id, orjson.loads(body)["time"])
        for at, path, webhook_id, body in noted
        if path == "/hook"
    ]
    results.put({"arrivals": arrivals, "verified": sum(verified), "refused": len(verified) - sum(verified)})


class Receiver:
    def __init__(self) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.ready, self.stop = self.context.Event(), self.context.Event()
        self.count = self.context.Value("q", 0, lock=False)  # one writer: the receiver's event loop
        self.results = self.context.Queue()
        self.process = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, secret: str) -> None:
        self.process = self.context.Process(
            target=run_receiver, args=(self.port, secret, self.ready, self.stop, self.count, self.results)
        )
        self.process.start()
        if not self.ready.wait(30):
            raise RuntimeError("the receiver did not start")

    def finish(self) -> dict:
        self.stop.set()
        found = self.results.get(timeout=120)
        self.process.join(30)
        return found


# --- the run -------------------------------------------------------------------------------------------


def setup(url: str, data_dir: Path, receiver_url: str) -> tuple[str, str]:
    """A sender with one webhook endpoint for every event type; returns its API key and the secret."""
    runtime = build_runtime(Settings(database_url=url, data_dir=data_dir, webhooks_allow_private=True))
    upgrade(runtime.database)
    sender = register(runtime)
    with runtime.database.unit_of_work() as session:
        created = service.create_endpoint(
            session,
            keyring=runtime.keyring,
            sender_id=sender.id,
            endpoint=WebhookEndpointIn(url=receiver_url),
            policy=Policy(allow_private=True),
        )
    runtime.database.dispose()
    return sender.api_key, created.secret


def start_worker(url: str, data_dir: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": url,
        "POSTVAK_DATA_DIR": str(data_dir),
        "POSTVAK_WEBHOOKS_ALLOW_PRIVATE": "true",
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


def ingest(server_url: str, api_key: str, letters: int, batch: int) -> tuple[float, int]:
    """Every letter through POST /api/v1/message-batches (to people without an account: each letter
    has two events, `accepted` and `unreachable`); returns the seconds it took and the letters stored."""
    bsns = take_bsns(9000)
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    bodies = [
        orjson.dumps({"messages": [letter_of(n, bsns) for n in range(start, min(start + batch, letters))]})
        for start in range(0, letters, batch)
    ]
    stored = 0
    started = time.perf_counter()
    with httpx.Client(timeout=600.0) as http:
        for body in bodies:
            response = http.post(f"{server_url}/api/v1/message-batches", content=body, headers=headers)
            response.raise_for_status()
            stored += sum(r["outcome"] == "created" for r in response.json()["results"])
    return time.perf_counter() - started, stored


def wait_for(receiver: Receiver, expected: int, quiet_seconds: float = 60.0) -> None:
    """Until `expected` requests arrived, or none arrived for `quiet_seconds`."""
    last, since = -1, time.monotonic()
    while receiver.count.value < expected and time.monotonic() - since < quiet_seconds:
        if receiver.count.value != last:
            last, since = receiver.count.value, time.monotonic()
        time.sleep(0.2)


def baseline(receiver: Receiver, secret: str, count: int) -> float:
    """The receiver's own rate: prebuilt signed requests of the same size over PER_ENDPOINT keep-alive
    connections, as many as the lane opens to one endpoint; returns requests per second."""
    key = rules.secret_key(secret)
    body = rules.cloud_event(
        event_id="1",
        message_id="01a2b3c4-0000-7000-8000-000000000000",
        sender_reference="BENCH-0000000",
        event_type="unreachable",
        at="2026-12-01T12:00:00.000000Z",
        detail=None,
        source="http://127.0.0.1/api/v1/messages",
    )
    headers = rules.signed_headers([key], "1", int(time.time()), body)
    per_thread = count // PER_ENDPOINT

    def send() -> None:
        with httpx.Client(timeout=30.0) as http:
            for _ in range(per_thread):
                http.post(receiver.url("/baseline"), content=body, headers=headers).raise_for_status()

    threads = [threading.Thread(target=send) for _ in range(PER_ENDPOINT)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_thread * PER_ENDPOINT / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="postvak-bench-") as tmp:
        workdir = Path(tmp)
        databases = Databases(args.postgresql, workdir)
        receiver = Receiver()
        try:
            url, data_dir = databases.fresh("webhooks"), workdir / "data"
            api_key, secret = setup(url, data_dir, receiver.url())
            receiver.start(secret)
            unlimited = {
                "POSTVAK_SENDER_RATE_PER_SECOND": "100000",
                "POSTVAK_SENDER_RATE_BURST": "100000",
                "POSTVAK_WEBHOOKS_ALLOW_PRIVATE": "true",
            }
            server = ServerProcess(url, data_dir, workdir / "server.log", env=unlimited)
            worker = None
            try:
                server_url = server.start(timeout=60)
                worker = start_worker(url, data_dir, workdir / "worker.log")
                ingest_seconds, stored = ingest(server_url, api_key, args.letters, args.batch)
                wait_for(receiver, 2 * stored)
            finally:
                if worker:
                    worker.kill()
                server.kill()
            during = receiver.count.value
            rate_baseline = baseline(receiver, secret, min(max(during, 2000), 20_000))
            found = receiver.finish()
        finally:
            if receiver.process is not None and receiver.process.is_alive():
                receiver.stop.set()
                receiver.process.join(10)
            databases.drop_all()

    deliveries = found["arrivals"]
    distinct = {webhook_id for _, webhook_id, _ in deliveries}
    first, last = min(a for a, _, _ in deliveries), max(a for a, _, _ in deliveries)
    rate = len(deliveries) / (last - first) if last > first else float("nan")
    delays = [at - datetime.fromisoformat(moment).timestamp() for at, _, moment in deliveries]
    db = "PostgreSQL" if args.postgresql else "SQLite"
    lines = [
        f"database: {db}; {args.letters:,} letters ({stored:,} stored), each with two status events, "
        "one endpoint for every event type",
        f"letters ingested through the API in {ingest_seconds:.1f} s ({stored / ingest_seconds:,.0f}/s), "
        "the worker delivering alongside",
        f"webhooks received: {len(deliveries):,} requests, {len(distinct):,} distinct events of "
        f"{2 * stored:,}; of the first {found['verified'] + found['refused']}, "
        f"{found['verified']} verified by standardwebhooks",
        f"events delivered per second (first to last arrival): {rate:,.0f}",
        f"delay event → delivery: p50 {percentile(delays, 50):.2f} s, p99 {percentile(delays, 99):.2f} s",
        f"baseline, prebuilt signed requests over {PER_ENDPOINT} connections to the same receiver: "
        f"{rate_baseline:,.0f}/s; ratio {rate / rate_baseline:.3f}",
    ]
    print("\n".join(lines))
    print(f"measured {datetime.now().isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
