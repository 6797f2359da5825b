"""Print providers: who receives the batches. The default writes each batch as a folder in POSTVAK_PRINT_DIR.

A provider must hand a batch over at most once per batch id: asked again for an id it has
handed over (a worker crashed before recording it), it says so instead of sending a copy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from postvak.kit.files import fsync_dir

STALE_PARTIAL_SECONDS = 3600


@dataclass(frozen=True)
class PrintItem:
    """One message of a batch, as the manifest lists it."""

    message_id: uuid.UUID
    sender_name: str
    sender_reference: str
    address_lines: list[str]
    pages: int

    def __repr__(self) -> str:  # never the address, not even in a failing assertion
        return f"PrintItem({self.message_id})"


class BatchWriter(Protocol):
    def add(self, item: PrintItem, pdf: bytes) -> None:
        """Take one message's PDF into the batch (not yet handed over)."""
        ...

    def hand_over(self) -> dict[uuid.UUID, int]:
        """Hand the batch over, completely or not at all; returns its messages (id → pages). When this batch
        id was handed over already (by an earlier attempt), nothing is sent again and that batch's messages
        are returned."""
        ...

    def discard(self) -> None:
        """Forget what was added (nothing is handed over)."""
        ...


class PrintProvider(Protocol):
    def handed_over(self, batch_id: uuid.UUID) -> dict[uuid.UUID, int] | None:
        """The messages (id → pages) of batch `batch_id` if it was handed over, else None."""
        ...

    def start_batch(self, batch_id: uuid.UUID, created_at: datetime) -> BatchWriter: ...


class FolderPrintProvider:
    """Batches as folders: `<print dir>/<batch id>/` with `<message id>.pdf` per message, `manifest.json`
    and `manifest.csv`.

    A batch is written under `.partial/` and appears by one rename of the complete folder, so a
    print shop that collects folders never sees half a batch. Before that rename, the manifest
    goes into the ledger `.handed-over/<batch id>.json`; the ledger outlives the print shop
    taking the folder away, and is what says "handed over" to a later attempt. The print shop
    must leave the dot-folders alone. Every worker must see the same print dir.
    """

    def __init__(self, root: Path, *, pause_seconds: float = 0.0) -> None:
        self.root = Path(root)
        self.partial = self.root / ".partial"
        self.ledger = self.root / ".handed-over"
        self.pause_seconds = pause_seconds  # tests only (see Settings.print_test_pause_seconds)

    def handed_over(self, batch_id: uuid.UUID) -> dict[uuid.UUID, int] | None:
        entry = self.ledger / f"{batch_id}.json"
        if not entry.exists():
            return None
        recorded = json.loads(entry.read_text())
        final = self.root / str(batch_id)
        staged = self.partial / recorded["partial"]
        if not final.exists() and staged.exists():  # the crash fell between the ledger and the rename
            self._publish(staged, final)
        return {uuid.UUID(m): pages for m, pages in recorded["letters"].items()}

    def start_batch(self, batch_id: uuid.UUID, created_at: datetime) -> _FolderBatch:
        for directory in (self.root, self.partial, self.ledger):
            directory.mkdir(parents=True, exist_ok=True)
        return _FolderBatch(self, batch_id, created_at)

    def _publish(self, staged: Path, final: Path) -> bool:
        """Rename the complete folder into place; False when another attempt's folder is there already."""
        try:
            os.rename(staged, final)
        except OSError:
            if not final.exists():
                raise
            shutil.rmtree(staged, ignore_errors=True)
            return False
        fsync_dir(self.root)
        fsync_dir(self.partial)
        return True

    def _clean_partials(self) -> None:
        """Folders of attempts that died (a live one adds a file every few seconds), whichever batch."""
        stale = time.time() - STALE_PARTIAL_SECONDS
        for folder in self.partial.iterdir():
            try:
                if folder.stat().st_mtime < stale:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:
                pass  # another worker's clean-up got there first

    def pause(self) -> None:
        if self.pause_seconds:
            time.sleep(self.pause_seconds)


class _FolderBatch:
    def __init__(self, provider: FolderPrintProvider, batch_id: uuid.UUID, created_at: datetime) -> None:
        self.provider = provider
        self.batch_id = batch_id
        self.created_at = created_at
        self.name = f"{batch_id}.{secrets.token_hex(4)}"  # of its own: a concurrent attempt never shares it
        self.folder = provider.partial / self.name
        self.folder.mkdir()
        self.items: list[tuple[PrintItem, str]] = []
        self.promised = False  # the ledger names this folder: from then on it is the batch, never discarded

    def add(self, item: PrintItem, pdf: bytes) -> None:
        _write_durably(self.folder / f"{item.message_id}.pdf", pdf)
        self.items.append((item, hashlib.sha256(pdf).hexdigest()))
        self.provider.pause()

    def hand_over(self) -> dict[uuid.UUID, int]:
        already = self.provider.handed_over(self.batch_id)
        if already is not None:
            self.discard()
            return already
        manifest = self._manifest()
        _write_durably(
            self.folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        )
        _write_durably(self.folder / "manifest.csv", _manifest_csv(manifest).encode())
        fsync_dir(self.folder)
        letters = {str(item.message_id): item.pages for item, _ in self.items}
        entry = self.provider.ledger / f"{self.batch_id}.json"
        staging = self.provider.ledger / f".{self.name}.json"
        _write_durably(staging, json.dumps({"partial": self.name, "letters": letters}).encode())
        os.replace(staging, entry)
        fsync_dir(self.provider.ledger)
        self.promised = True
        self.provider._publish(self.folder, self.provider.root / str(self.batch_id))
        self.provider._clean_partials()
        self.provider.pause()
        return {uuid.UUID(m): pages for m, pages in letters.items()}

    def discard(self) -> None:
        if not self.promised:  # once promised, a failed rename is finished by the next handed_over()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _manifest(self) -> dict:
        return {
            "batchId": str(self.batch_id),
            "createdAt": self.created_at.isoformat().replace("+00:00", "Z"),
            "letters": len(self.items),
            "pages": sum(item.pages for item, _ in self.items),
            "items": [
                {
                    "messageId": str(item.message_id),
                    "file": f"{item.message_id}.pdf",
                    "sender": item.sender_name,
                    "senderReference": item.sender_reference,
                    "addressLines": list(item.address_lines),
                    "pages": item.pages,
                    "sha256": digest,
                }
                for item, digest in self.items
            ],
        }


_CSV_COLUMNS = ("messageId", "file", "sender", "senderReference", "addressLines", "pages", "sha256")
_ADDRESS_COLUMNS = ("addressLine1", "addressLine2", "addressLine3")


def _manifest_csv(manifest: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["messageId", "file", "sender", "senderReference", *_ADDRESS_COLUMNS, "pages", "sha256"])
    for item in manifest["items"]:
        lines = list(item["addressLines"])
        lines = [*lines[:2], " / ".join(lines[2:])] if len(lines) > 3 else lines + [""] * (3 - len(lines))
        cells = [item["messageId"], item["file"], item["sender"], item["senderReference"], *lines]
        writer.writerow([_spreadsheet_safe(c) for c in cells] + [item["pages"], item["sha256"]])
    return out.getvalue()


def _spreadsheet_safe(cell: str) -> str:
    """A cell that a spreadsheet would take for a formula is written as text (OWASP's advice)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
