"""Bad input for attachments, uploaded (POST /api/v1/attachments) and inline in a letter: the exact
problem naming the field, nothing stored, a clean log; and the null members many clients send."""

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postvak.attachments.models import Attachment, Blob
from postvak.messages.models import Message
from tests.attachments import pdfs
from tests.support.letters import letter, register
from tests.support.logcheck import bsns_in
from tests.support.odd_letters import raw_controls_in
from tests.support.problems import assert_problem

UPLOAD = "/api/v1/attachments"
ONE_PAGE = pdfs.one_page()
PDF64 = base64.b64encode(ONE_PAGE).decode()
UNKNOWN_ID = "01a23f0c-0000-7000-8000-000000000000"


def _nothing_stored(runtime) -> bool:
    with runtime.database.unit_of_work(write=False) as session:
        rows = [session.scalar(select(func.count()).select_from(t)) for t in (Blob, Attachment, Message)]
    files = [p for p in Path(runtime.settings.blob_dir).rglob("*") if p.is_file()]
    return rows == [0, 0, 0] and files == []


def _log_is_clean(capfd, caplog) -> bool:
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    return bsns_in(logged) == [] and raw_controls_in(logged) == []


def _named(disposition: bytes) -> dict:
    return {"Content-Type": "application/pdf", "Content-Disposition": disposition}


NAME = "Content-Disposition filename"
UPLOADS = [
    # file names in Content-Disposition, as the raw bytes a client sends
    ("override, raw UTF-8", _named('attachment; filename="factuur\u202efdp.pdf"'.encode()), NAME, "U+202E"),
    ("override, RFC 5987", _named(b"attachment; filename*=UTF-8''factuur%E2%80%AEfdp.pdf"), NAME, "U+202E"),
    ("terminal escape", _named(b'attachment; filename="a\x1b]0;x\x07.pdf"'), NAME, "U+001B"),
    ("escape, RFC 5987", _named(b"attachment; filename*=UTF-8''a%1Bb.pdf"), NAME, "U+001B"),
    ("NUL, RFC 5987", _named(b"attachment; filename*=UTF-8''a%00b.pdf"), NAME, "U+0000"),
    ("line break, RFC 5987", _named(b"attachment; filename*=UTF-8''a%0Ab.pdf"), NAME, "line break"),
    ("tab", _named(b'attachment; filename="a\tb.pdf"'), NAME, "U+0009"),
    ("C1 control in Latin-1", _named(b'attachment; filename="a\x85b.pdf"'), NAME, "U+0085"),
    ("surrogate bytes", _named(b'attachment; filename="a\xed\xa0\x80.pdf"'), NAME, "control"),
    ("folder", _named(b'attachment; filename="../../etc/passwd"'), NAME, "/"),
    ("backslash", _named(b'attachment; filename="c:\\\\x.pdf"'), NAME, "\\"),
    ("empty", _named(b'attachment; filename=""'), NAME, "1 to 255"),
    ("256 characters", _named(b'attachment; filename="' + b"f" * 256 + b'"'), NAME, "1 to 255"),
    ("not UTF-8, RFC 5987", _named(b"attachment; filename*=UTF-8''%FF%FE.pdf"), NAME + "*", "UTF-8"),
    ("surrogate, RFC 5987", _named(b"attachment; filename*=UTF-8''%ED%A0%80.pdf"), NAME + "*", "UTF-8"),
    ("Latin-1 charset", _named(b"attachment; filename*=ISO-8859-1''caf%E9.pdf"), NAME + "*", "UTF-8"),
]


@pytest.mark.parametrize(("name", "headers", "field", "says"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_an_odd_file_name_is_refused_before_anything_is_stored(
    client, sender, runtime, name, headers, field, says, capfd, caplog
):
    response = client.post(UPLOAD, content=ONE_PAGE, headers={**sender.headers, **headers})
    problem = assert_problem(response, "validation-failed", 422)
    assert problem["detail"].startswith(f"{field}: ") and says in problem["detail"], problem["detail"]
    assert _nothing_stored(runtime)
    assert _log_is_clean(capfd, caplog)


@pytest.mark.parametrize(
    ("name", "content_type", "body", "slug", "status", "says"),
    [
        ("text/plain", "text/plain", ONE_PAGE, "unsupported-media-type", 415, "application/pdf"),
        ("no type", "", ONE_PAGE, "unsupported-media-type", 415, "application/pdf"),
        ("JSON", "application/json", b'{"content": null}', "unsupported-media-type", 415, "application/pdf"),
        ("empty body", "application/pdf", b"", "attachment-rejected", 422, "PDF"),
        ("only a header", "application/pdf", b"%PDF-", "attachment-rejected", 422, "PDF"),
        ("NUL bytes", "application/pdf", b"\x00" * 4096, "attachment-rejected", 422, "PDF"),
        ("PNG", "application/pdf", pdfs.png(), "attachment-rejected", 422, "PDF"),
        ("JavaScript", "application/pdf", pdfs.with_javascript_open_action(), "attachment-rejected", 422, ""),
        (
            "11 MiB",
            "application/pdf",
            b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024),
            "payload-too-large",
            413,
            "",
        ),
    ],
)
def test_an_odd_upload_gets_its_exact_problem(
    client, sender, runtime, name, content_type, body, slug, status, says, capfd, caplog
):
    headers = {**sender.headers, **({"Content-Type": content_type} if content_type else {})}
    problem = assert_problem(client.post(UPLOAD, content=body, headers=headers), slug, status)
    assert says in problem["detail"]
    assert _nothing_stored(runtime)
    assert _log_is_clean(capfd, caplog)


@pytest.mark.parametrize(
    ("disposition", "stored_as"),
    [
        (b"attachment; filename*=UTF-8''%C3%A9%C3%A9n%20brief.pdf", "één brief.pdf"),
        ('attachment; filename="één.pdf"'.encode(), "één.pdf"),
        (b'attachment; filename="caf\xe9.pdf"', "café.pdf"),  # Latin-1, as some clients send it
        (b"attachment; filename=plain.pdf", "plain.pdf"),
        (b'attachment; filename="say \\"hi\\".pdf"', 'say "hi".pdf'),
        (b"attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%E2%82%AC.pdf", "€.pdf"),
        (b"attachment", "bijlage.pdf"),
    ],
)
def test_a_good_file_name_is_kept_as_sent(client, sender, bsns, disposition, stored_as):
    uploaded = client.post(UPLOAD, content=ONE_PAGE, headers={**sender.headers, **_named(disposition)})
    assert uploaded.status_code == 201, uploaded.text
    attachment = {"attachmentId": uploaded.json()["attachmentId"]}
    created = client.post(
        "/api/v1/messages", json=letter(bsns[0], "NAMED", attachments=[attachment]), headers=sender.headers
    )
    assert created.json()["attachments"][0]["fileName"] == stored_as


def _inline(**fields) -> dict:
    return {"fileName": "aanslag.pdf", "mediaType": "application/pdf", "content": PDF64, **fields}


SEVEN_MIB = base64.b64encode(b"%PDF-1.7\n" + b"0" * (7 * 1024 * 1024)).decode()
ELEVEN_MIB = base64.b64encode(b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024)).decode()
A0 = "attachments[0]"
INLINE = [
    ("content null", [_inline(content=None)], "validation-failed", 422, A0, "fileName with base64 content"),
    (
        "content missing",
        [{"fileName": "a.pdf"}],
        "validation-failed",
        422,
        A0,
        "fileName with base64 content",
    ),
    ("file name null", [_inline(fileName=None)], "validation-failed", 422, A0, "fileName with base64"),
    ("file name missing", [{"content": PDF64}], "validation-failed", 422, A0, "fileName with base64 content"),
    ("both forms", [_inline(attachmentId=UNKNOWN_ID)], "validation-failed", 422, A0, "not both"),
    ("neither form", [{}], "validation-failed", 422, A0, "give attachmentId"),
    (
        "all null",
        [{"attachmentId": None, "content": None}],
        "validation-failed",
        422,
        A0,
        "give attachmentId",
    ),
    ("not base64", [_inline(content="!!!!")], "validation-failed", 422, f"{A0}.content", "base64"),
    ("bad padding", [_inline(content="JVBER")], "validation-failed", 422, f"{A0}.content", "base64"),
    ("line break", [_inline(content="JVBE\nRi0x")], "validation-failed", 422, f"{A0}.content", "base64"),
    ("surrogate", [_inline(content="JVBE\udc80")], "validation-failed", 422, f"{A0}.content", "base64"),
    ("emoji", [_inline(content="JVBE😀")], "validation-failed", 422, f"{A0}.content", "base64"),
    ("content a number", [_inline(content=42)], "validation-failed", 422, f"{A0}.content", "string"),
    ("not a PDF", [_inline(content="aGVsbG8=")], "attachment-rejected", 422, A0, "PDF"),
    ("empty content", [_inline(content="")], "attachment-rejected", 422, A0, "PDF"),
    (
        "JavaScript",
        [_inline(content=base64.b64encode(pdfs.with_javascript_open_action()).decode())],
        "attachment-rejected",
        422,
        A0,
        "",
    ),
    (
        "encrypted",
        [_inline(content=base64.b64encode(pdfs.encrypted("x")).decode())],
        "attachment-rejected",
        422,
        A0,
        "",
    ),
    ("over 10 MiB", [_inline(content=ELEVEN_MIB)], "payload-too-large", 413, A0, "10 MiB"),
    (
        "over 20 MiB together",
        [_inline(content=SEVEN_MIB)] * 3,
        "payload-too-large",
        413,
        "attachments",
        "20 MiB",
    ),
    ("media type PNG", [_inline(mediaType="image/png")], "validation-failed", 422, f"{A0}.mediaType", ""),
    ("media type a number", [_inline(mediaType=42)], "validation-failed", 422, f"{A0}.mediaType", ""),
    ("unknown id", [{"attachmentId": UNKNOWN_ID}], "not-found", 404, f"{A0}.attachmentId", ""),
    ("id a path", [{"attachmentId": "../../etc"}], "not-found", 404, f"{A0}.attachmentId", ""),
    (
        "id a surrogate",
        [{"attachmentId": "\ud800"}],
        "validation-failed",
        422,
        f"{A0}.attachmentId",
        "U+D800",
    ),
    (
        "id with escape",
        [{"attachmentId": "\x1b[2J"}],
        "validation-failed",
        422,
        f"{A0}.attachmentId",
        "U+001B",
    ),
    ("id a number", [{"attachmentId": 42}], "validation-failed", 422, f"{A0}.attachmentId", "string"),
    ("extra member", [_inline(size=1)], "validation-failed", 422, f"{A0}.size", "not permitted"),
    ("null item", [None], "validation-failed", 422, A0, "JSON object"),
    (
        "second one bad",
        [_inline(), _inline(fileName="x\u202e")],
        "validation-failed",
        422,
        "attachments[1].fileName",
        "U+202E",
    ),
    ("eleven", [_inline()] * 11, "validation-failed", 422, "attachments", "10"),
    ("empty file name", [_inline(fileName="")], "validation-failed", 422, f"{A0}.fileName", ""),
    (
        "file name only spaces and dots",
        [_inline(fileName="/")],
        "validation-failed",
        422,
        f"{A0}.fileName",
        "/",
    ),
]


@pytest.mark.parametrize(
    ("name", "attachments", "slug", "status", "field", "says"), INLINE, ids=[i[0] for i in INLINE]
)
def test_an_odd_inline_attachment_gets_its_exact_problem(
    client, sender, runtime, bsns, name, attachments, slug, status, field, says, capfd, caplog
):
    body = json.dumps(letter(bsns[0], "INLINE", attachments=attachments), ensure_ascii=True).encode()
    response = client.post(
        "/api/v1/messages", content=body, headers={**sender.headers, "Content-Type": "application/json"}
    )
    problem = assert_problem(response, slug, status)
    assert problem["detail"].startswith(f"{field}: ") and says in problem["detail"], problem["detail"]
    assert _nothing_stored(runtime)
    assert _log_is_clean(capfd, caplog)


def test_another_senders_attachment_is_not_found(client, sender, runtime, bsns):
    stranger = register(runtime, "Waterschap Elders", "00000001002220648000")
    theirs = client.post(UPLOAD, content=ONE_PAGE, headers={**stranger.headers, **_named(b"attachment")})
    attachment = {"attachmentId": theirs.json()["attachmentId"]}
    response = client.post(
        "/api/v1/messages", json=letter(bsns[0], "THEIRS", attachments=[attachment]), headers=sender.headers
    )
    assert assert_problem(response, "not-found", 404)["detail"].startswith(f"{A0}.attachmentId: ")


def test_null_members_count_as_absent_as_the_document_says(client, sender, bsns):
    uploaded = client.post(UPLOAD, content=ONE_PAGE, headers={**sender.headers, **_named(b"attachment")})
    by_reference = {"attachmentId": uploaded.json()["attachmentId"], "fileName": None, "content": None}
    inline = {"attachmentId": None, "fileName": "bijlage-2.pdf", "mediaType": None, "content": PDF64}
    response = client.post(
        "/api/v1/messages",
        json=letter(bsns[0], "NULLS", attachments=[by_reference, inline]),
        headers=sender.headers,
    )
    assert response.status_code == 201, response.text
    assert [a["fileName"] for a in response.json()["attachments"]] == ["bijlage.pdf", "bijlage-2.pdf"]
