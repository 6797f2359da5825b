"""The folder print provider: a batch appears whole or not at all, and is never handed over twice."""

import csv
import hashlib
import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime

import pytest

from postvak.printing.providers import STALE_PARTIAL_SECONDS, FolderPrintProvider, PrintItem

CREATED = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)


def _item(n: int, **fields) -> PrintItem:
    values = {
        "message_id": uuid.UUID(int=n + 1),
        "sender_name": "Gemeente Utrecht",
        "sender_reference": f"REF-{n}",
        "address_lines": [f"Bewoner {n}", "Oudegracht 12 bis", "3511 AB  UTRECHT"],
        "pages": n + 2,
    }
    return PrintItem(**(values | fields))


def _visible(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith("."))


def test_a_batch_is_a_folder_of_pdfs_with_both_manifests(tmp_path):
    provider = FolderPrintProvider(tmp_path)
    batch_id = uuid.uuid4()
    writer = provider.start_batch(batch_id, CREATED)
    pdfs = {}
    for n in range(3):
        pdfs[n] = f"%PDF-fake {n}".encode()
        writer.add(_item(n), pdfs[n])
        assert _visible(tmp_path) == []  # nothing to be seen by a print shop until the hand-over
    handed = writer.hand_over()
    assert handed == {uuid.UUID(int=n + 1): n + 2 for n in range(3)}
    folder = tmp_path / str(batch_id)
    assert _visible(tmp_path) == [str(batch_id)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{uuid.UUID(int=n + 1)}.pdf" for n in range(3)] + ["manifest.json", "manifest.csv"]
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["batchId"], manifest["createdAt"], manifest["letters"], manifest["pages"]) == (
        str(batch_id),
        "2027-01-05T08:00:00Z",
        3,
        2 + 3 + 4,
    )
    first = manifest["items"][0]
    assert first == {
        "messageId": str(uuid.UUID(int=1)),
        "file": f"{uuid.UUID(int=1)}.pdf",
        "sender": "Gemeente Utrecht",
        "senderReference": "REF-0",
        "addressLines": ["Bewoner 0", "Oudegracht 12 bis", "3511 AB  UTRECHT"],
        "pages": 2,
        "sha256": hashlib.sha256(pdfs[0]).hexdigest(),
    }
    with (folder / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["messageId"] for r in rows] == [str(uuid.UUID(int=n + 1)) for n in range(3)]
    assert rows[1]["addressLine1"] == "Bewoner 1" and rows[1]["addressLine3"] == "3511 AB  UTRECHT"
    assert rows[1]["sha256"] == hashlib.sha256(pdfs[1]).hexdigest() and rows[1]["pages"] == "3"


def test_a_batch_written_again_is_not_handed_over_again(tmp_path):
    provider = FolderPrintProvider(tmp_path)
    batch_id = uuid.uuid4()
    assert provider.handed_over(batch_id) is None
    first = provider.start_batch(batch_id, CREATED)
    first.add(_item(0), b"%PDF one")
    handed = first.hand_over()
    again = provider.start_batch(batch_id, CREATED)  # a worker that crashed before recording it
    again.add(_item(0), b"%PDF one")
    assert again.hand_over() == handed
    assert provider.handed_over(batch_id) == handed
    assert _visible(tmp_path) == [str(batch_id)] and list((tmp_path / ".partial").iterdir()) == []


def test_what_a_dead_attempt_left_is_cleaned_up_by_a_later_hand_over(tmp_path):
    provider = FolderPrintProvider(tmp_path)
    dead = provider.start_batch(uuid.uuid4(), CREATED)
    dead.add(_item(0), b"%PDF")
    old = time.time() - STALE_PARTIAL_SECONDS - 60
    os.utime(dead.folder, (old, old))
    live = provider.start_batch(uuid.uuid4(), CREATED)  # another worker, busy right now
    live.add(_item(1), b"%PDF")
    writer = provider.start_batch(uuid.uuid4(), CREATED)
    writer.add(_item(2), b"%PDF")
    writer.hand_over()
    assert list((tmp_path / ".partial").iterdir()) == [live.folder]


def test_the_ledger_remembers_after_the_print_shop_took_the_folder(tmp_path):
    provider = FolderPrintProvider(tmp_path)
    batch_id = uuid.uuid4()
    writer = provider.start_batch(batch_id, CREATED)
    writer.add(_item(0), b"%PDF")
    handed = writer.hand_over()
    shutil.rmtree(tmp_path / str(batch_id))  # collected
    assert provider.handed_over(batch_id) == handed
    assert _visible(tmp_path) == []


def test_a_crash_between_ledger_and_rename_is_finished_by_the_next_look(tmp_path, monkeypatch):
    provider = FolderPrintProvider(tmp_path)
    batch_id = uuid.uuid4()
    writer = provider.start_batch(batch_id, CREATED)
    writer.add(_item(0), b"%PDF")

    def crash(*_args):
        raise SystemExit("killed")

    monkeypatch.setattr(provider, "_publish", crash)
    with pytest.raises(SystemExit):
        writer.hand_over()
    writer.discard()  # as the print lane does when the hand-over raised: the promised folder stays
    monkeypatch.undo()
    assert _visible(tmp_path) == []
    assert provider.handed_over(batch_id) == {uuid.UUID(int=1): 2}
    assert _visible(tmp_path) == [str(batch_id)]
    assert (tmp_path / str(batch_id) / "manifest.json").exists()


def test_two_attempts_at_one_batch_hand_over_one_folder(tmp_path, monkeypatch):
    provider = FolderPrintProvider(tmp_path)
    batch_id = uuid.uuid4()
    a, b = provider.start_batch(batch_id, CREATED), provider.start_batch(batch_id, CREATED)
    for writer in (a, b):
        writer.add(_item(0), b"%PDF same")
    handed = a.hand_over()
    # b looked before a's ledger entry existed: its rename then finds a's folder in place.
    monkeypatch.setattr(provider, "handed_over", lambda _batch_id: None)
    assert b.hand_over() == handed
    monkeypatch.undo()
    assert _visible(tmp_path) == [str(batch_id)]
    assert (tmp_path / str(batch_id) / f"{uuid.UUID(int=1)}.pdf").read_bytes() == b"%PDF same"
    assert list((tmp_path / ".partial").iterdir()) == []
    assert provider.handed_over(batch_id) == handed


def test_a_discarded_batch_leaves_nothing(tmp_path):
    provider = FolderPrintProvider(tmp_path)
    writer = provider.start_batch(uuid.uuid4(), CREATED)
    writer.add(_item(0), b"%PDF")
    writer.discard()
    assert _visible(tmp_path) == [] and list((tmp_path / ".partial").iterdir()) == []


def test_manifest_cells_a_spreadsheet_would_run_are_written_as_text(tmp_path):
    provider = FolderPrintProvider(tmp_path)
    batch_id = uuid.uuid4()
    writer = provider.start_batch(batch_id, CREATED)
    writer.add(_item(0, sender_reference="=cmd|' /C calc'!A0"), b"%PDF")
    writer.hand_over()
    with (tmp_path / str(batch_id) / "manifest.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["senderReference"] == "'=cmd|' /C calc'!A0"
