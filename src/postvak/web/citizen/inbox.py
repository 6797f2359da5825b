"""Citizen pages of the inbox: the message list with filters and search, actions on many messages, the bin."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from postvak.inbox import rules
from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.runtime import runtime_of
from postvak.web import i18n
from postvak.web.citizen.rendering import CitizenRoute, back_with_notice, citizen_page, navigation
from postvak.web.citizen.session import CitizenSession, require_citizen, require_citizen_form

router = APIRouter(route_class=CitizenRoute)

# The form's actions (rules.ACTIONS), each the use case it names; "move" also takes the folder.
_USE_CASES = {
    "unread": inbox.mark_unread,
    "archive": inbox.archive_messages,
    "unarchive": inbox.unarchive_messages,
    "bin": inbox.bin_messages,
    "restore": inbox.restore_messages,
    "purge": inbox.purge_binned_messages,
}


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, citizen: CitizenSession = Depends(require_citizen)) -> Response:
    listing = rules.parse_listing(request.query_params)
    with runtime_of(request).database.unit_of_work(write=False) as session:
        page = inbox.list_messages(session, mailbox_id=citizen.mailbox_id, listing=listing)
        senders = inbox.list_senders(session, mailbox_id=citizen.mailbox_id)
        nav = navigation(session, citizen)
    context = {
        "page": page,
        "listing": listing,
        "senders": senders,
        "today": clock.now().date(),
        "rules": rules,
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **nav,
    }
    return citizen_page(request, citizen, "inbox.html", context)


@router.post("/letters/actions")
def act_on_messages(
    request: Request, checked: tuple[CitizenSession, FormData] = Depends(require_citizen_form)
) -> Response:
    """One form for every action on one or many messages: the checked `ids` and an `action`."""
    citizen, form = checked
    # "move:<folder id>" (or "move:" for the inbox) lets one drop-down choose both what and where.
    action, _, folder = str(form.get("action", "")).partition(":")
    folder = folder or str(form.get("folder", ""))
    ids = [str(i) for i in form.getlist("ids")]
    back = str(form.get("back", "")) or "/inbox"
    if action not in rules.ACTIONS or not ids:
        return RedirectResponse(i18n.safe_local_path(back, "/inbox"), status_code=303)
    with runtime_of(request).database.unit_of_work() as session:
        if action == "move":
            changed = inbox.move_to_folder(
                session, mailbox_id=citizen.mailbox_id, message_ids=ids, folder_id=folder
            )
        else:
            changed = _USE_CASES[action](session, mailbox_id=citizen.mailbox_id, message_ids=ids)
    if action in ("bin", "purge") and back.startswith("/letters/"):
        back = "/inbox"  # the message is gone from where the citizen was
    return RedirectResponse(back_with_notice(back, action, changed), status_code=303)


@router.get("/bin/empty", response_class=HTMLResponse)
def empty_bin_page(request: Request, citizen: CitizenSession = Depends(require_citizen)) -> Response:
    """Asks first: emptying the bin cannot be undone."""
    with runtime_of(request).database.unit_of_work(write=False) as session:
        nav = navigation(session, citizen)
    return citizen_page(request, citizen, "bin_empty.html", nav)


@router.post("/bin/empty")
def empty_bin(
    request: Request, checked: tuple[CitizenSession, FormData] = Depends(require_citizen_form)
) -> Response:
    citizen, _form = checked
    with runtime_of(request).database.unit_of_work() as session:
        purged = inbox.empty_bin(session, mailbox_id=citizen.mailbox_id)
    return RedirectResponse(back_with_notice("/inbox?box=bin", "emptied", purged), status_code=303)
