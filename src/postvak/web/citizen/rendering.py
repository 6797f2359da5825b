"""Renders the signed-in citizen's pages: navigation, CSRF token, no caching, notices, problem pages;
and the log-in's second step, which the code and the passkey both answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from postvak.auth import service as auth
from postvak.inbox import service as inbox
from postvak.runtime import runtime_of
from postvak.web.citizen.session import CitizenSession
from postvak.web.i18n import safe_local_path, templates
from postvak.web.problems import LETTER_PROBLEMS, letter_problem_page
from postvak.web.security import NO_STORE

# What a finished action may announce on the page it returns to; anything else is ignored.
NOTICES = (
    *("unread", "archive", "unarchive", "move", "bin", "restore", "purge"),
    *("confirmed", "emptied", "created", "renamed", "deleted"),
)


def navigation(session: Session, citizen: CitizenSession) -> dict[str, Any]:
    """The counts and folders the navigation shows on every signed-in page."""
    return {
        "counts": inbox.count_messages(session, mailbox_id=citizen.mailbox_id),
        "folders": inbox.list_folders(session, mailbox_id=citizen.mailbox_id),
    }


def citizen_page(
    request: Request,
    citizen: CitizenSession,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A page of the signed-in citizen; never stored by a browser or proxy (it may show messages)."""
    request.state.language = citizen.language
    notice = request.query_params.get("notice")
    count = request.query_params.get("count", "")
    full = {
        "citizen": citizen,
        "csrf_token": citizen.csrf_token,
        "notice": notice if notice in NOTICES else None,
        "notice_count": int(count) if count.isdigit() and len(count) < 6 else 1,
        **context,
    }
    return templates.TemplateResponse(request, name, full, status_code=status_code, headers=NO_STORE)


def back_with_notice(back: str | None, notice: str, count: int = 1, default: str = "/inbox") -> str:
    """Where to go after an action: the page it came from (on this site only), announcing what happened."""
    target = safe_local_path(back, default)
    for stale in ("notice", "count"):  # an earlier notice must not stay in the address
        target = _without_param(target, stale)
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode({'notice': notice, 'count': count})}"


def _without_param(target: str, name: str) -> str:
    path, _, query = target.partition("?")
    kept = [part for part in query.split("&") if part and not part.startswith(f"{name}=")]
    return path + (f"?{'&'.join(kept)}" if kept else "")


class CitizenRoute(APIRoute):
    """Turns the inbox's problems into pages: not found (also another's message), integrity, bad input."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LETTER_PROBLEMS as problem:
                return letter_problem_page(request, problem)

        return handle


def second_factor_form(
    request: Request,
    view: auth.SessionView,
    *,
    error: str | None = None,
    passkey_error: bool = False,
    status_code: int = 200,
) -> Response:
    """The code form, and the passkey form (passkey_login.html) for a citizen who has a passkey."""
    with runtime_of(request).database.unit_of_work(write=False) as session:
        has_passkey = auth.has_passkeys(session, citizen_id=view.citizen_id)
    context = {
        "csrf_token": view.csrf_token,
        "error": error,
        "has_passkey": has_passkey,
        "passkey_error": passkey_error,
    }
    return templates.TemplateResponse(request, "second_factor.html", context, status_code=status_code)
