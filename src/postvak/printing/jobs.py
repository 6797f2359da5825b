"""Background work of the paper fallback: the print lane renders each batch and hands it to the provider."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.exc import SQLAlchemyError

from postvak.attachments.models import Blob
from postvak.attachments.service import read_blob
from postvak.blobs.store import BlobStore
from postvak.config import Settings
from postvak.db import Database
from postvak.errors import IntegrityFailure
from postvak.jobs import service as jobs
from postvak.jobs.models import ClaimedJob
from postvak.jobs.rules import error_summary
from postvak.jobs.worker import record_failure
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.ids import parse_id
from postvak.printing import rules, service
from postvak.printing.providers import FolderPrintProvider, PrintItem, PrintProvider
from postvak.printing.render import RenderError, render_message
from postvak.printing.service import PRINT_BATCH_JOB, BatchToPrint, Exclusion, MessageToPrint

log = structlog.get_logger("postvak.printing")

READ_CHUNK = 20  # messages read per (short) transaction while a batch renders
ATTACHMENT_CACHE_BYTES = 64 * 1024 * 1024


def build_provider(settings: Settings) -> PrintProvider:
    return FolderPrintProvider(settings.resolved_print_dir, pause_seconds=settings.print_test_pause_seconds)


class PrintLane:
    """The worker's lane for print batches: a batch takes seconds to render, so it gets a thread of its
    own (a message due for publication never waits behind one), and it renders outside any write
    transaction (on SQLite one would hold every other writer up for as long), reading the messages
    in short transactions (on PostgreSQL a long one would hold back every sender's event feed).

    Should a batch outlast the worker's lease, a second worker may render it too: the provider
    hands over one of the two, and the records let only one record it; a run whose job another
    worker claimed meanwhile records nothing and leaves the job to that worker. A run that raises
    counts a failure of its job: retried with backoff under the same batch id, and parked after
    POSTVAK_JOB_MAX_FAILURES, for an operator (`postvak jobs list`).
    """

    name = "print"
    kinds = (PRINT_BATCH_JOB,)
    batch = 1

    def __init__(
        self,
        database: Database,
        settings: Settings,
        keyring: KeyRing,
        blobs: BlobStore,
        provider: PrintProvider | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.keyring = keyring
        self.blobs = blobs
        self.provider = provider or build_provider(settings)
        self.max_failures = settings.job_max_failures

    def run(self, claimed: list[ClaimedJob]) -> None:
        for job in claimed:
            try:
                self.print_batch(job)
            except _LeaseLost:
                log.warning("print batch outlasted its lease; left to the worker that took it", job_id=job.id)
            except Exception as exc:  # noqa: BLE001 - retried later or parked; the batch id keeps it one batch
                record_failure(self.database, job, _describe(exc), self.max_failures)

    def idle(self) -> None:
        pass

    def print_batch(self, job: ClaimedJob) -> None:
        batch_id = parse_id(str(job.payload.get("batchId")))
        with self.database.unit_of_work(write=False) as session:
            batch = service.find_batch_to_print(session, batch_id=batch_id) if batch_id else None
        pages = None
        if batch is not None:
            pages = self.provider.handed_over(batch.id)  # a crash after the hand-over: only record it
            if pages is None:
                pages = self._hand_over(batch)
        printed = None
        with self.database.unit_of_work() as session:
            if batch is not None and pages is not None:
                printed = service.mark_batch_printed(session, batch_id=batch.id, pages=pages)
            if not jobs.finish(session, jobs=[job], now=clock.now()):
                raise _LeaseLost  # undoes the record: the worker that holds the job records the batch
        if batch is not None and printed is not None:
            log.info("print batch handed over", batch_id=str(batch.id), letters=len(printed))

    def _hand_over(self, batch: BatchToPrint) -> dict[uuid.UUID, int] | None:
        """Render every message into the provider's batch, fix its content, hand it over; None when empty."""
        writer = self.provider.start_batch(batch.id, batch.created_at)
        opened = _OpenedAttachments(self.keyring, self.blobs)
        try:
            exclusions: dict[uuid.UUID, Exclusion] = {}
            for chunk in rules.batches(batch.message_ids, READ_CHUNK):
                with self.database.unit_of_work(write=False) as session:
                    found = service.open_messages_to_print(
                        session,
                        keyring=self.keyring,
                        message_ids=chunk,
                        return_address=self.settings.print_return_address,
                        web_address=self.settings.base_url,
                    )
                for item in found:
                    exclusion = item.exclusion or self._add(writer, item, batch, opened)
                    if exclusion is not None:
                        exclusions[item.message_id] = exclusion
            with self.database.unit_of_work() as session:
                remaining = service.close_batch(session, batch_id=batch.id, exclusions=exclusions)
            if not remaining:
                writer.discard()
                return None
            return writer.hand_over()
        except BaseException:
            writer.discard()
            raise

    def _add(
        self, writer, item: MessageToPrint, batch: BatchToPrint, opened: _OpenedAttachments
    ) -> Exclusion | None:
        """Render one message into the batch; a message that cannot be rendered stays out, alone."""
        assert item.message is not None
        try:
            attachments = [opened.read(blob) for blob in item.blobs]
        except IntegrityFailure:
            return Exclusion("failed", rules.ATTACHMENT_FAILED, True)
        try:
            rendered = render_message(item.message, attachments, created_at=batch.created_at)
        except RenderError as exc:
            log.warning("letter not renderable", message_id=str(item.message_id), error=str(exc))
            return Exclusion("failed", rules.NOT_RENDERED, True)
        message = item.message
        writer.add(
            PrintItem(
                message.message_id,
                message.sender_name,
                message.sender_reference,
                list(message.address_lines),
                rendered.pages,
            ),
            rendered.pdf,
        )
        return None


class _LeaseLost(Exception):
    """The run outlasted its lease and another worker claimed its job: this run's record is undone."""


def _describe(exc: Exception) -> str:
    """The failure for the job's record and the log: a database error's text would quote its
    parameters (BSNs, say); any other error's short summary, with what may be personal data masked."""
    if isinstance(exc, SQLAlchemyError):
        return f"{type(exc).__name__} from the database"
    return error_summary(exc)


class _OpenedAttachments:
    """The batch's attachments, each opened once: a mailing's brochure goes with every message of it."""

    def __init__(self, keyring: KeyRing, blobs: BlobStore) -> None:
        self.keyring = keyring
        self.blobs = blobs
        self.kept: dict[str, bytes] = {}
        self.size = 0

    def read(self, blob: Blob) -> bytes:
        if blob.id in self.kept:
            return self.kept[blob.id]
        data = read_blob(self.keyring, self.blobs, blob=blob)
        if self.size + len(data) <= ATTACHMENT_CACHE_BYTES:
            self.kept[blob.id] = data
            self.size += len(data)
        return data
