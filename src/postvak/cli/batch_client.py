"""Sends a JSON-lines file of letters through the batch API: streamed, parallel, retried, summarised."""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from postvak.errors import problem_type_uri

BATCH_PATH = "/api/v1/message-batches"
MAX_ATTEMPTS = 8
MAX_REJECTIONS = 100  # kept in the summary; the rest are only counted, so 100k bad lines stay cheap
# The server refuses batch bodies over 64 MiB by default; a batch is cut early at this size so
# that letters with large bodies or inline PDFs do not turn a whole batch into a 413.
MAX_BATCH_BYTES = 32 * 1024 * 1024
BACKOFF_FIRST, BACKOFF_MAX, RETRY_AFTER_MAX = 0.5, 30.0, 300.0
# Reading a 1000-letter batch answer waits for one database transaction, which can be slow with PDFs.
TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=None)

Advance = Callable[[int], None]
_OUTCOMES = {"created", "existing", "rejected"}
_RETRY = {408, 429}
# Answers no other batch will get past: (what happened, what to do about it).
_STOP = {
    401: ("the server refused the API key", "check --api-key"),
    403: ("the organisation may not deliver letters", "ask the operator"),
    404: ("there is no batch endpoint at this address", "check --api-url"),
    405: ("there is no batch endpoint at this address", "check --api-url"),
}


@dataclass
class SendSummary:
    created: int = 0
    existing: int = 0
    rejected: int = 0
    failed_batches: int = 0
    rejections: list[dict] = field(default_factory=list)  # the first MAX_REJECTIONS, with their problems
    rejected_lines: list[int] = field(default_factory=list)  # every rejected line, in file order
    seconds: float = 0.0
    unsent: int = 0  # letters never judged: the run stopped, or the server did not answer
    stopped: str | None = None
    rejected_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0: every letter delivered; 1: some lines rejected (fix them and send the file again);
        2: the run stopped before every letter was judged (key, address, server: see `stopped`)."""
        if self.stopped or self.unsent:
            return 2
        return 1 if self.rejected else 0

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "existing": self.existing,
            "rejected": self.rejected,
            "unsent": self.unsent,
            "failedBatches": self.failed_batches,
            "stopped": self.stopped,
            "rejectedByType": self.rejected_by_type,
            "rejectedLines": self.rejected_lines,
            "rejections": self.rejections,
            "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        """The summary for a rich console: text from the file or the server has its markup escaped."""
        delivered = self.created + self.existing
        rate = delivered / self.seconds if self.seconds else 0.0
        lines = [
            f"{delivered:,} letters delivered in {self.seconds:.1f} s ({rate:,.0f} a second)",
            f"{self.created:,} created, {self.existing:,} existing (sent before), {self.rejected:,} rejected",
        ]
        if self.rejected_by_type:
            kinds = ", ".join(f"{n:,} {slug}" for slug, n in self.rejected_by_type.items())
            lines.append(f"rejected: {kinds}")
        for item in self.rejections[:10]:
            reference = f" ({item['senderReference']})" if item.get("senderReference") else ""
            lines.append(escape(f"  line {item['line']}{reference}: {item['problem'].get('detail', '')}"))
        if self.rejected > 10:
            lines.append(
                f"  … and {self.rejected - 10:,} more; --json lists every rejected line "
                f"(the first {MAX_REJECTIONS} with their problems)"
            )
        if self.failed_batches:
            lines.append(f"{self.failed_batches} batch(es) failed as a whole")
        if self.stopped:
            lines += [
                escape(f"stopped: {self.stopped}"),
                f"{self.unsent:,} letters were not sent; sending "
                "the same file again is safe: letters delivered before answer 'existing'",
            ]
        return lines


@dataclass
class Batch:
    """Letters as read from the file: the raw JSON is sent as it is, the line numbers explain results."""

    lines: list[int] = field(default_factory=list)
    references: list[str | None] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    size: int = 0

    def add(self, line: int, reference: str | None, raw: bytes) -> None:
        self.lines.append(line)
        self.references.append(reference)
        self.raws.append(raw)
        self.size += len(raw) + 1

    def body(self) -> bytes:
        return b'{"messages":[' + b",".join(self.raws) + b"]}"

    def __len__(self) -> int:
        return len(self.lines)


class StopRun(Exception):
    """The server refused in a way no other batch will get past (bad key, wrong address, down)."""


class Interrupted(Exception):
    """Another batch stopped the run (or Ctrl-C did) before this one was judged."""


class BatchFailed(Exception):
    """The server refused the batch as a whole; the problem applies to each of its letters."""

    def __init__(self, problem: dict) -> None:
        super().__init__(problem.get("detail"))
        self.problem = problem


def send_file(
    path: Path,
    api_url: str,
    api_key: str,
    *,
    batch_size: int = 1000,
    concurrency: int = 4,
    progress: bool = True,
    console: Console | None = None,
) -> SendSummary:
    """Send every letter in the file and tell what became of each.

    Blank lines are skipped; a line that is not a JSON object is rejected here and not sent.
    Idempotency by senderReference makes every retry safe, also of a batch the server stored
    but whose answer was lost: its letters then come back as `existing`.
    """
    started = time.monotonic()
    api_url = api_url.rstrip("/")
    tally = Tally(api_url)
    bar = _progress_bar(console or Console(stderr=True), enabled=progress)
    with bar, _client(api_url, api_key, concurrency) as client:
        task = bar.add_task("sending", total=count_messages(path))
        sender = BatchSender(client, tally, lambda n: bar.advance(task, n))
        _send_all(path, batch_size, concurrency, tally, sender, lambda n: bar.advance(task, n))
    return tally.finish(time.monotonic() - started)


def _send_all(
    path: Path, batch_size: int, concurrency: int, tally: Tally, sender: BatchSender, advance: Advance
) -> None:
    # The semaphore bounds memory: at most `concurrency` batches in flight and one waiting.
    window = threading.BoundedSemaphore(concurrency + 1)
    with ThreadPoolExecutor(concurrency, thread_name_prefix="postvak-send") as pool:
        try:
            for batch in read_batches(path, batch_size, tally, advance):
                if not _take(window, tally.stop):
                    tally.not_sent(len(batch))  # the run stopped; reading on only counts what is left
                    continue
                future = pool.submit(sender.send, batch)
                future.add_done_callback(lambda _: window.release())
        except BaseException:
            tally.stop.set()  # Ctrl-C: in-flight batches finish, waiting ones are not sent
            raise


def _take(window: threading.BoundedSemaphore, stop: threading.Event) -> bool:
    while not stop.is_set():
        if window.acquire(timeout=0.2):
            return True
    return False


def read_batches(path: Path, batch_size: int, tally: Tally, advance: Advance) -> Iterator[Batch]:
    batch = Batch()
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            raw = line.strip()
            if not raw:
                continue
            message = _parse(raw)
            if not isinstance(message, dict):
                tally.reject_locally(number, "not valid JSON" if message is _INVALID else "not a JSON object")
                advance(1)
                continue
            if batch and (len(batch) >= batch_size or batch.size + len(raw) > MAX_BATCH_BYTES):
                yield batch
                batch = Batch()
            reference = message.get("senderReference")
            batch.add(number, reference if isinstance(reference, str) else None, raw)
    if batch:
        yield batch


_INVALID = object()


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except ValueError:  # orjson's JSONDecodeError, also for bytes that are not UTF-8
        return _INVALID


def count_messages(path: Path) -> int:
    """The number of non-blank lines, for the progress bar; one quick pass without parsing."""
    with path.open("rb") as lines:
        return sum(1 for line in lines if not line.isspace())


class Tally:
    """The run's counts, shared by the sending threads."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.summary = SendSummary()
        self.stop = threading.Event()
        self.answered = False  # has the server answered any batch in this run?
        self._lock = threading.Lock()
        self._by_type: Counter[str] = Counter()
        self._first: list[tuple[int, dict]] = []
        self._lines: list[int] = []  # plain numbers: every rejected line stays cheap to keep

    def reject_locally(self, line: int, reason: str) -> None:
        problem = {
            "type": problem_type_uri(self.api_url, "validation-failed"),
            "title": "Validation failed",
            "status": 422,
            "detail": reason,  # the summary names the line, once
            "instance": f"#line-{line}",
        }
        with self._lock:
            self._reject(line, None, problem)

    def record(self, batch: Batch, results: list[dict]) -> None:
        with self._lock:
            for line, reference, result in zip(batch.lines, batch.references, results, strict=True):
                if result["outcome"] == "created":
                    self.summary.created += 1
                elif result["outcome"] == "existing":
                    self.summary.existing += 1
                else:
                    self._reject(line, reference, result.get("problem") or {})

    def fail(self, batch: Batch, problem: dict) -> None:
        with self._lock:
            self.summary.failed_batches += 1
            for line, reference in zip(batch.lines, batch.references, strict=True):
                self._reject(line, reference, problem)

    def halt(self, batch: Batch, reason: str) -> None:
        with self._lock:
            self.summary.failed_batches += 1
            self.summary.unsent += len(batch)
            self.summary.stopped = self.summary.stopped or reason
        self.stop.set()

    def not_sent(self, messages: int) -> None:
        with self._lock:
            self.summary.unsent += messages

    def finish(self, seconds: float) -> SendSummary:
        self.summary.seconds = seconds
        self.summary.rejected_by_type = dict(self._by_type.most_common())
        self.summary.rejections = [item for _, item in sorted(self._first, key=lambda kept: -kept[0])]
        self.summary.rejected_lines = sorted(self._lines)
        return self.summary

    def _reject(self, line: int, reference: str | None, problem: dict) -> None:
        self.summary.rejected += 1
        self._lines.append(line)
        self._by_type[_slug(problem)] += 1
        # Batches finish out of order; a heap keyed on the negated line number keeps the first lines.
        kept = (-line, {"line": line, "senderReference": reference, "problem": problem})
        if len(self._first) < MAX_REJECTIONS:
            heapq.heappush(self._first, kept)
        elif kept[0] > self._first[0][0]:
            heapq.heapreplace(self._first, kept)


def _slug(problem: dict) -> str:
    return str(problem.get("type", "")).rstrip("/").rsplit("/", 1)[-1] or "unknown"


class BatchSender:
    """Posts one batch until the server judges it, retrying what a retry can fix."""

    def __init__(self, client: httpx.Client, tally: Tally, advance: Advance) -> None:
        self.client = client
        self.tally = tally
        self.advance = advance

    def send(self, batch: Batch) -> None:
        try:
            results = self._post_until_judged(batch)
        except BatchFailed as failed:
            self.tally.fail(batch, failed.problem)
        except StopRun as stop:
            self.tally.halt(batch, str(stop))
            return
        except Interrupted:
            self.tally.not_sent(len(batch))
            return
        except Exception as error:  # a thread's exception would otherwise vanish with its future
            self.tally.halt(batch, f"unexpected {type(error).__name__} while sending a batch")
            raise
        else:
            self.tally.record(batch, results)
        self.advance(len(batch))

    def _post_until_judged(self, batch: Batch) -> list[dict]:
        body = batch.body()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self.tally.stop.is_set():
                raise Interrupted
            try:
                response = self.client.post(BATCH_PATH, content=body)
            except httpx.TransportError as error:
                if isinstance(error, httpx.ConnectError) and not self.tally.answered:
                    # Nothing ever answered: a wrong address, not a hiccup worth minutes of retries.
                    raise StopRun(f"cannot connect to {self.client.base_url}; check --api-url") from None
                wait, why = None, f"{type(error).__name__}"
            else:
                self.tally.answered = True
                results = _judged(response, len(batch))
                if results is not None:
                    return results
                wait, why = _retry_after(response), f"HTTP {response.status_code}"
            if attempt < MAX_ATTEMPTS:
                self.tally.stop.wait(wait or _backoff(attempt))
        raise StopRun(f"the API did not accept a batch after {MAX_ATTEMPTS} attempts (last: {why})")


def _judged(response: httpx.Response, count: int) -> list[dict] | None:
    """The per-letter results; None when the batch should be sent again."""
    status = response.status_code
    if status == 200:
        return _results(response, count)
    if status in _RETRY or status >= 500:
        return None
    if status in _STOP:
        what, advice = _STOP[status]
        raise StopRun(f"{what} (HTTP {status}: {_problem_of(response)['detail']}); {advice}")
    raise BatchFailed(_problem_of(response))


def _results(response: httpx.Response, count: int) -> list[dict] | None:
    """The results if they are one well-formed answer per letter, in order; a garbled answer (a proxy?)
    is treated like a lost one, since sending again is safe."""
    try:
        results = response.json()["results"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(results, list) or len(results) != count:
        return None
    in_order = all(
        isinstance(result, dict) and result.get("index") == index and result.get("outcome") in _OUTCOMES
        for index, result in enumerate(results)
    )
    return results if in_order else None


def _problem_of(response: httpx.Response) -> dict:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict) and "status" in problem:
        return problem
    return {
        "type": "about:blank",
        "title": response.reason_phrase,
        "status": response.status_code,
        "detail": f"the server refused the batch with HTTP {response.status_code}",
        "instance": BATCH_PATH,
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _backoff(attempt: int) -> float:
    # Full jitter keeps parallel batches from retrying in step against a recovering server.
    return random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt))


def _client(api_url: str, api_key: str, concurrency: int) -> httpx.Client:
    return httpx.Client(
        base_url=api_url,
        transport=_transport(concurrency),
        timeout=TIMEOUT,
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )


def _transport(concurrency: int) -> httpx.BaseTransport:
    """One connection per sending thread, kept alive across batches."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.HTTPTransport(limits=limits, retries=0)


def _progress_bar(console: Console, *, enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("letters"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    )
