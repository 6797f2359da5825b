"""Citizen pages of one message: reading it, printing it, downloading its attachments, confirming receipt."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from postvak.errors import NotFound
from postvak.inbox import rules
from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute, back_with_notice, citizen_page, navigation
from postvak.web.citizen.session import CitizenSession, require_citizen, require_citizen_form
from postvak.web.security import NO_STORE

router = APIRouter(route_class=CitizenRoute)


def _opened(request: Request, citizen: CitizenSession, message_id: str, template: str) -> Response:
    runtime = runtime_of(request)
    with runtime.database.unit_of_work() as session:
        opened = inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=message_id
        )
        nav = navigation(session, citizen)
    context = {
        "letter": opened,
        "today": clock.now().date(),
        "rules": rules,
        "back": request.url.path,
        "restorable_until": rules.restorable_until(clock.as_utc(opened.item.binned_at))
        if opened.item.binned_at
        else None,
        **nav,
    }
    return citizen_page(request, citizen, template, context)


@router.get("/letters/{message_id}", response_class=HTMLResponse)
def message_page(
    request: Request, message_id: str, citizen: CitizenSession = Depends(require_citizen)
) -> Response:
    """The message; opening it the first time tells the sender it was read."""
    return _opened(request, citizen, message_id, "letter.html")


@router.get("/letters/{message_id}/print", response_class=HTMLResponse)
def message_print_page(
    request: Request, message_id: str, citizen: CitizenSession = Depends(require_citizen)
) -> Response:
    return _opened(request, citizen, message_id, "letter_print.html")


@router.post("/letters/{message_id}/confirm")
def confirm_receipt(
    request: Request,
    message_id: str,
    checked: tuple[CitizenSession, FormData] = Depends(require_citizen_form),
) -> Response:
    citizen, _form = checked
    with runtime_of(request).database.unit_of_work() as session:
        inbox.confirm_receipt(session, mailbox_id=citizen.mailbox_id, message_id=message_id)
    return RedirectResponse(back_with_notice(f"/letters/{message_id}", "confirmed"), status_code=303)


@router.get("/letters/{message_id}/attachments/{position}")
def download_attachment(
    request: Request, message_id: str, position: str, citizen: CitizenSession = Depends(require_citizen)
) -> Response:
    """The PDF as a download, never shown inline; its bytes are verified after decryption."""
    if not (position.isascii() and position.isdigit() and len(position) < 3):
        raise NotFound("no attachment at this position")
    runtime = runtime_of(request)
    with runtime.database.unit_of_work(write=False) as session:
        name, data = inbox.download_attachment(
            session,
            keyring=runtime.keyring,
            store=runtime.blobs,
            mailbox_id=citizen.mailbox_id,
            message_id=message_id,
            position=int(position),
        )
    headers = {
        **NO_STORE,
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type="application/pdf", headers=headers)


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form; always a .pdf."""
    name = file_name if file_name.lower().endswith(".pdf") else f"{file_name}.pdf"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name[:-4]).strip("._")
    fallback = f"{stem or 'bijlage'}.pdf"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
