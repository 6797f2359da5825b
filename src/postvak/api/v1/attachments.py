"""Sender route for uploading a PDF once and referencing it from many letters."""

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from postvak.api.v1.deps import current_sender, require_media_type, runtime_of
from postvak.api.v1.openapi import json_response, problem_responses
from postvak.attachments import service as attachments
from postvak.errors import (
    AttachmentRejected,
    Forbidden,
    PayloadTooLarge,
    Problem,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
)
from postvak.messages.schemas import ApiModel
from postvak.senders.models import Sender

router = APIRouter(tags=["attachments"])

_FILENAME = re.compile(r'filename="?([^";/\\\x00-\x1f]{1,255})"?')


class AttachmentCreated(ApiModel):
    attachment_id: str = Field(description='Reference it from messages as {"attachmentId": …}.')


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
            Unauthorized, Forbidden, RateLimited, AttachmentRejected, PayloadTooLarge, UnsupportedMediaType
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_attachment(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    require_media_type(request, "application/pdf")
    data = await request.body()
    match = _FILENAME.search(request.headers.get("content-disposition", ""))
    file_name = match.group(1) if match else "bijlage.pdf"
    runtime = runtime_of(request)

    def run() -> tuple[int, str]:
        with runtime.database.unit_of_work(write=False) as session:
            blob = attachments.stage(session, runtime.keyring, runtime.blobs, runtime.settings, [data])
        [staged] = blob.values()
        if isinstance(staged, Problem):
            raise staged
        with runtime.database.unit_of_work() as session:
            known = attachments.find_handle(session, sender.id, staged.id)
            handles = attachments.attach_blobs(session, sender.id, [staged], file_name)
        return (200 if known else 201), str(handles[staged.id])

    status, attachment_id = await run_in_threadpool(run)
    return json_response(AttachmentCreated(attachment_id=attachment_id), status)
