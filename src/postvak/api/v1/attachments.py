"""Sender route for uploading a PDF once and referencing it from many messages."""

import re
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from postvak.api.v1 import examples
from postvak.api.v1.deps import current_sender, require_media_type
from postvak.api.v1.openapi import json_response, problem_responses
from postvak.attachments import service as attachments
from postvak.attachments.rules import file_name_problem
from postvak.errors import (
    AttachmentRejected,
    Forbidden,
    PayloadTooLarge,
    Problem,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from postvak.kit.schemas import ApiModel
from postvak.runtime import runtime_of
from postvak.senders.models import Sender

router = APIRouter(tags=["attachments"])

_PARAMETER = re.compile(r';\s*(filename\*?)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)', re.IGNORECASE)
DEFAULT_FILE_NAME = "bijlage.pdf"


class AttachmentCreated(ApiModel):
    attachment_id: str = Field(
        description='Reference it from messages as {"attachmentId": …}.',
        examples=["0193a1c2-8f10-7c3b-a2d4-5e6f7a8b9c0d"],
    )


@router.post(
    "/attachments",
    operation_id="uploadAttachment",
    summary="Upload one PDF for use in many letters",
    description=(
        "The raw PDF is the body (Content-Type: application/pdf, at most 10 MiB). An optional "
        '`Content-Disposition: attachment; filename="…"` names it. Identical content is '
        "stored once: uploading it again answers 200 with the same attachmentId."
    ),
    status_code=201,
    response_model=AttachmentCreated,
    responses={
        200: {"description": "This content was uploaded before.", "model": AttachmentCreated},
        **problem_responses(
            Unauthorized,
            Forbidden,
            RateLimited,
            AttachmentRejected,
            ValidationFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/pdf": {
                    "schema": {"type": "string", "format": "binary"},
                    "examples": examples.UPLOAD_ATTACHMENT,
                }
            },
        }
    },
)
async def upload_attachment(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    require_media_type(request, "application/pdf")
    file_name = file_name_of(request.headers.get("content-disposition", ""))
    data = await request.body()
    runtime = runtime_of(request)

    def run() -> tuple[int, str]:
        with runtime.database.unit_of_work(write=False) as session:
            blob = attachments.stage_blobs(
                session,
                keyring=runtime.keyring,
                store=runtime.blobs,
                settings=runtime.settings,
                contents=[data],
            )
        [staged] = blob.values()
        if isinstance(staged, Problem):
            raise staged
        with runtime.database.unit_of_work() as session:
            known = attachments.find_attachment_id(session, sender_id=sender.id, blob_id=staged.id)
            handles = attachments.attach_blobs(
                session, sender_id=sender.id, blobs=[staged], file_name=file_name
            )
        return (200 if known else 201), str(handles[staged.id])

    status, attachment_id = await run_in_threadpool(run)
    return json_response(AttachmentCreated(attachment_id=attachment_id), status)


def file_name_of(header: str) -> str:
    """The file name a Content-Disposition header gives (RFC 6266: `filename*=UTF-8''…` before
    `filename="…"`), held to the rule for file names; the default when it gives none."""
    found = {name.lower(): value for name, value in _PARAMETER.findall(header)}
    if "filename*" in found:
        charset, _, rest = found["filename*"].partition("'")
        encoded = rest.partition("'")[2]
        try:
            if charset.lower() != "utf-8":
                raise ValueError
            name = unquote(encoded, errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed(
                "Content-Disposition filename*: give UTF-8''<percent-encoded name>"
            ) from None
    elif "filename" in found:
        name = found["filename"]
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        name = _as_utf8(name)
    else:
        return DEFAULT_FILE_NAME
    if problem := file_name_problem(name):
        raise ValidationFailed(f"Content-Disposition filename: {problem}")
    return name


def _as_utf8(header_text: str) -> str:
    """Header values arrive decoded as Latin-1; most clients send a file name's UTF-8 bytes as they are."""
    raw = header_text.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return header_text
