"""The running system's parts, built once from Settings: database, key ring, blob store."""

from __future__ import annotations

from dataclasses import dataclass

from postvak.blobs.filesystem import FilesystemBlobStore
from postvak.blobs.store import BlobStore
from postvak.config import Settings
from postvak.db import Database, get_database
from postvak.inbox.jobs import PURGE_JOB, purge_bin
from postvak.kit.crypto import KeyRing
from postvak.messages.jobs import publish_message
from postvak.messages.service import PUBLISH_JOB


@dataclass
class Runtime:
    settings: Settings
    database: Database
    keyring: KeyRing
    blobs: BlobStore


def build_runtime(settings: Settings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Runtime(
        settings=settings,
        database=get_database(settings.resolved_database_url),
        keyring=KeyRing.load_or_create(settings.key_file),
        blobs=FilesystemBlobStore(settings.blob_dir),
    )


def job_handlers() -> dict:
    """Every kind of background job and the use case that runs it."""
    return {PUBLISH_JOB: publish_message, PURGE_JOB: purge_bin}
