"""Attachments through the API: upload once, reference often, stored once, never served if tampered."""

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postvak.attachments import service as attachments
from postvak.attachments.models import Attachment, Blob
from postvak.errors import IntegrityFailure
from tests.attachments import pdfs
from tests.support.letters import letter
from tests.support.problems import assert_problem

PDF_HEADERS = {"Content-Type": "application/pdf", "Content-Disposition": 'attachment; filename="folder.pdf"'}


def _upload(client, sender, data: bytes):
    return client.post("/api/v1/attachments", content=data, headers={**sender.headers, **PDF_HEADERS})


def _inline(data: bytes, name: str = "aanslag.pdf") -> dict:
    return {"fileName": name, "mediaType": "application/pdf", "content": base64.b64encode(data).decode()}


ONE_PAGE = pdfs.one_page()  # built once: pikepdf gives each build a fresh document /ID


def _stored_files(runtime) -> list[Path]:
    return [p for p in Path(runtime.settings.blob_dir).rglob("*") if p.is_file()]


def test_upload_once_reference_from_many_letters(client, sender, runtime, bsns):
    first = _upload(client, sender, ONE_PAGE)
    assert first.status_code == 201
    attachment_id = first.json()["attachmentId"]
    again = _upload(client, sender, ONE_PAGE)
    assert again.status_code == 200 and again.json()["attachmentId"] == attachment_id

    items = [letter(bsns[i], f"ATT-{i}", attachments=[{"attachmentId": attachment_id}]) for i in range(5)]
    results = client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers).json()
    assert {r["outcome"] for r in results["results"]} == {"created"}
    view = client.get(f"/api/v1/messages/{results['results'][0]['id']}", headers=sender.headers).json()
    assert view["attachments"] == [
        {"attachmentId": attachment_id, "fileName": "folder.pdf", "size": len(ONE_PAGE), "pages": 1}
    ]
    assert len(_stored_files(runtime)) == 1


def test_identical_inline_attachments_are_stored_once(client, sender, runtime, bsns):
    items = [letter(bsns[i], f"INL-{i}", attachments=[_inline(ONE_PAGE, f"brief-{i}.pdf")]) for i in range(3)]
    results = client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers).json()
    assert {r["outcome"] for r in results["results"]} == {"created"}
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 1
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert len(_stored_files(runtime)) == 1
    names = [
        client.get(f"/api/v1/messages/{r['id']}", headers=sender.headers).json()["attachments"][0]["fileName"]
        for r in results["results"]
    ]
    assert names == ["brief-0.pdf", "brief-1.pdf", "brief-2.pdf"]


def test_another_senders_attachment_id_is_not_found(client, sender, other_sender, bsns):
    attachment_id = _upload(client, sender, ONE_PAGE).json()["attachmentId"]
    r = client.post(
        "/api/v1/messages",
        headers=other_sender.headers,
        json=letter(bsns[0], "FOREIGN", attachments=[{"attachmentId": attachment_id}]),
    )
    assert assert_problem(r, "not-found", 404)["detail"].startswith("attachments[0].attachmentId")


@pytest.mark.parametrize(
    "build,slug,status",
    [
        (pdfs.with_javascript_open_action, "attachment-rejected", 422),
        (lambda: pdfs.encrypted("geheim"), "attachment-rejected", 422),
        (pdfs.truncated, "attachment-rejected", 422),
        (pdfs.png, "attachment-rejected", 422),
        (lambda: pdfs.decompression_bomb(1024), "attachment-rejected", 422),
        (lambda: b"%PDF-1.7\n" + b"0" * (30 * 1024 * 1024), "payload-too-large", 413),
    ],
)
def test_each_bad_file_gets_the_right_answer(client, sender, build, slug, status):
    assert_problem(_upload(client, sender, build()), slug, status)


def test_too_many_and_too_large_together(client, sender, bsns):
    eleven = [_inline(ONE_PAGE)] * 11
    r = client.post(
        "/api/v1/messages", json=letter(bsns[0], "ELEVEN", attachments=eleven), headers=sender.headers
    )
    assert assert_problem(r, "validation-failed", 422)["detail"].startswith("attachments")
    big = [_inline(b"%PDF-1.7\n" + b"0" * (7 * 1024 * 1024))] * 3
    r = client.post("/api/v1/messages", json=letter(bsns[0], "BIG", attachments=big), headers=sender.headers)
    assert "20 MiB" in assert_problem(r, "payload-too-large", 413)["detail"]


def test_a_flipped_byte_in_storage_is_detected_and_never_served(client, sender, runtime):
    attachment_id = _upload(client, sender, ONE_PAGE).json()["attachmentId"]
    with runtime.database.unit_of_work(write=False) as session:
        _, blob = attachments.get_attachment(session, sender_id=sender.id, attachment_id=attachment_id)
    assert attachments.read_blob(runtime.keyring, runtime.blobs, blob=blob) == ONE_PAGE
    [stored] = _stored_files(runtime)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure):
        attachments.read_blob(runtime.keyring, runtime.blobs, blob=blob)
