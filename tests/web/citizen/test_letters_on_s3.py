"""Attachments in an S3 bucket (moto's server on loopback): uploaded by a sender, stored sealed and once,
downloaded by the citizen, and never served when the object was changed."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import func, select

from postvak.attachments.models import Blob
from postvak.blobs.s3 import S3BlobStore
from tests.attachments import pdfs
from tests.support.letters import letter

PDF = pdfs.one_page()  # built once: pikepdf gives each build a fresh document /ID
UPLOAD_HEADERS = {
    "Content-Type": "application/pdf",
    "Content-Disposition": 'attachment; filename="folder.pdf"',
}


@pytest.fixture
def settings(settings, s3_bucket):
    """Every runtime of these tests keeps its attachments in the bucket, under a prefix."""
    return settings.model_copy(update={"blob_url": s3_bucket.url("prod")})


def _upload(client, sender) -> str:
    answer = client.post("/api/v1/attachments", content=PDF, headers={**sender.headers, **UPLOAD_HEADERS})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["attachmentId"]


def _letter_with(client, sender, citizen, reference: str, attachment: dict) -> str:
    answer = client.post(
        "/api/v1/messages",
        json=letter(citizen.bsn, reference, attachments=[attachment]),
        headers=sender.headers,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_an_uploaded_attachment_lives_sealed_in_the_bucket_and_the_citizen_downloads_it(
    runtime, client, sender, citizen, web_client, csrf, s3_bucket
):
    assert isinstance(runtime.blobs, S3BlobStore)
    letter_id = _letter_with(client, sender, citizen, "S3-1", {"attachmentId": _upload(client, sender)})

    answer = web_client.get(f"/letters/{letter_id}/attachments/0")

    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    [(name, stored)] = s3_bucket.objects().items()
    assert name.startswith("prod/")
    assert b"%PDF" not in stored and PDF[-64:] not in stored  # sealed before it left the process
    assert hashlib.sha256(PDF).hexdigest() not in name  # and named at random, not by its plain content
    assert not runtime.settings.blob_dir.exists()  # nothing on the local disk


def test_identical_attachments_are_stored_once(runtime, client, sender, citizen, web_client, csrf, s3_bucket):
    attachment_id = _upload(client, sender)
    assert _upload(client, sender) == attachment_id
    inline = {
        "fileName": "brief.pdf",
        "mediaType": "application/pdf",
        "content": base64.b64encode(PDF).decode(),
    }
    letters = [_letter_with(client, sender, citizen, f"S3-{i}", inline) for i in range(3)]
    letters.append(_letter_with(client, sender, citizen, "S3-3", {"attachmentId": attachment_id}))

    assert len(s3_bucket.objects()) == 1
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 1
    assert {web_client.get(f"/letters/{i}/attachments/0").content for i in letters} == {PDF}


def test_a_changed_object_is_never_served(runtime, client, sender, citizen, web_client, csrf, s3_bucket):
    letter_id = _letter_with(client, sender, citizen, "S3-T", {"attachmentId": _upload(client, sender)})
    [(name, stored)] = s3_bucket.objects().items()
    tampered = bytearray(stored)
    tampered[len(tampered) // 2] ^= 0x01
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=name, Body=bytes(tampered))

    answer = web_client.get(f"/letters/{letter_id}/attachments/0")

    assert answer.status_code == 500 and PDF[-64:] not in answer.content
