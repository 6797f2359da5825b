"""A real server is SIGKILLed while batches arrive; after restart and retries no letter is lost or doubled."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from postvak.messages.models import Message, MessageEvent
from postvak.runtime import Runtime
from tests.support.letters import SenderHandle, letter, register
from tests.support.process import ServerProcess

pytestmark = pytest.mark.fault

CLIENTS = 2  # concurrent connections, so the kill can land while several transactions are open
BATCH = 150
KILL_AFTER = (0.2, 1.5)  # seconds of traffic before the SIGKILL
RETRY_ROUNDS = 5
# The per-sender rate limit would answer 429 to a fast client; that is not what is tested here.
SERVER_ENV = {"POSTVAK_SENDER_RATE_PER_SECOND": "100000", "POSTVAK_SENDER_RATE_BURST": "100000"}


class RecordingClient:
    """A sender that remembers every letter it sent and every reference the server acknowledged."""

    def __init__(self, sender: SenderHandle, bsns: list[str], round_no: int) -> None:
        self.sender = sender
        self.bsns = bsns
        self.round_no = round_no
        self.letters: dict[str, dict] = {}  # reference → the exact letter sent, resent as is
        self.acknowledged: dict[str, str] = {}  # reference → message id from a 200 answer
        self.faults: list[str] = []  # anything a correct server never answers
        self.existing = 0  # letters committed by a request whose answer the kill swallowed
        self._lock = threading.Lock()

    def new_batch(self, client_no: int) -> list[dict]:
        with self._lock:
            start = len(self.letters)
            batch = []
            for n in range(start, start + BATCH):
                reference = f"CRASH-{self.round_no}-{client_no}-{n:06d}"
                batch.append(
                    letter(
                        self.bsns[n % len(self.bsns)],
                        reference,
                        body=f"Geachte heer/mevrouw,\n\nUw aanslag {reference}.\n",
                    )
                )
                self.letters[reference] = batch[-1]
            return batch

    def unacknowledged(self) -> list[dict]:
        with self._lock:
            return [item for ref, item in self.letters.items() if ref not in self.acknowledged]

    def post(self, http: httpx.Client, url: str, batch: list[dict]) -> bool:
        """Send one batch; False when no answer came. A batch without a 200 answer stays unacknowledged."""
        try:
            response = http.post(
                f"{url}/api/v1/message-batches", json={"messages": batch}, headers=self.sender.headers
            )
        except httpx.TransportError:
            return False  # the server died under us: nothing in this batch counts as acknowledged
        if response.status_code != 200:
            with self._lock:
                self.faults.append(f"HTTP {response.status_code}: {response.text[:300]}")
            return True
        results = response.json()["results"]
        with self._lock:
            for item, result in zip(batch, results, strict=True):
                reference = item["senderReference"]
                if result["outcome"] not in ("created", "existing"):
                    self.faults.append(f"{reference}: {result}")
                    continue
                self.existing += result["outcome"] == "existing"
                first = self.acknowledged.setdefault(reference, result["id"])
                if first != result["id"]:
                    self.faults.append(f"{reference}: acknowledged as {first}, later as {result['id']}")
        return True


def run_clients(count: int, work: Callable[[int, httpx.Client], None]) -> None:
    def run(client_no: int) -> None:
        with httpx.Client(timeout=60.0) as http:
            work(client_no, http)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("round_no", range(5))
def test_killed_server_loses_and_doubles_nothing(
    round_no: int, runtime: Runtime, bsns: list[str], tmp_path
) -> None:
    # The runtime fixture has emptied the tables; the server shares its database and key file.
    sender = register(runtime)
    client = RecordingClient(sender, bsns[:500], round_no)
    server = ServerProcess(
        runtime.settings.resolved_database_url,
        runtime.settings.data_dir,
        tmp_path / "server.log",
        env=SERVER_ENV,
    )
    kill_after = random.uniform(*KILL_AFTER)
    try:
        url = server.start()
        killed = threading.Event()

        def send_until_killed(client_no: int, http: httpx.Client) -> None:
            while not killed.is_set():
                if not client.post(http, url, client.new_batch(client_no)):
                    killed.wait(10)  # no answer: the kill has come; stop sending new letters

        def kill() -> None:
            try:
                server.kill()
            finally:
                killed.set()

        killer = threading.Timer(kill_after, kill)
        killer.start()
        run_clients(CLIENTS, send_until_killed)
        killer.join()
        acknowledged_before_kill = len(client.acknowledged)

        url = server.start()
        for _ in range(RETRY_ROUNDS):
            pending = client.unacknowledged()
            if not pending:
                break
            batches = [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]

            def retry(client_no: int, http: httpx.Client, batches=batches) -> None:
                for batch in batches[client_no::CLIENTS]:
                    client.post(http, url, batch)

            run_clients(CLIENTS, retry)
    finally:
        server.kill()  # dead before anyone looks at, or empties, its database

    context = (
        f"kill after {kill_after:.2f} s, {len(client.letters)} sent, "
        f"{acknowledged_before_kill} acknowledged before the kill, {client.existing} found stored "
        f"on retry; server log:\n{server.log_tail()}"
    )
    assert not client.faults, f"{client.faults[:5]}\n{context}"
    assert not client.unacknowledged(), context

    stored = stored_references(runtime, sender)
    duplicates = [ref for ref, n in Counter(ref for ref, _ in stored).items() if n > 1]
    assert not duplicates, f"references stored twice: {duplicates[:5]}\n{context}"
    assert len(stored) == len(client.letters), context
    assert dict(stored) == client.acknowledged, f"stored letters differ from the acknowledged ones\n{context}"

    events = event_counts(runtime, sender)
    assert set(events) == {message_id for _, message_id in stored}, context
    wrong = {mid: counts for mid, counts in events.items() if counts != {"accepted": 1, "unreachable": 1}}
    assert not wrong, f"letters with missing or doubled events: {list(wrong.items())[:5]}\n{context}"

    log = server.log_text()
    assert "Traceback" not in log, context
    assert not [bsn for bsn in client.bsns if bsn in log], "a BSN reached the server log"


def stored_references(runtime: Runtime, sender: SenderHandle) -> list[tuple[str, str]]:
    with runtime.database.unit_of_work(write=False) as session:
        query = select(Message.sender_reference, Message.id).where(Message.sender_id == sender.id)
        return [(ref, str(message_id)) for ref, message_id in session.execute(query)]


def event_counts(runtime: Runtime, sender: SenderHandle) -> dict[str, dict[str, int]]:
    """message id → {event type: how often}, for every event of the sender's letters."""
    query = (
        select(MessageEvent.message_id, MessageEvent.type, func.count())
        .where(MessageEvent.sender_id == sender.id)
        .group_by(MessageEvent.message_id, MessageEvent.type)
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    with runtime.database.unit_of_work(write=False) as session:
        for message_id, event_type, n in session.execute(query):
            counts[str(message_id)][event_type] = n
    return dict(counts)
