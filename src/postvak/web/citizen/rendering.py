"""Renders the signed-in citizen's pages: navigation, CSRF token, no caching, and friendly error pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

import structlog
from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from postvak.errors import IntegrityFailure, NotFound, ValidationFailed
from postvak.inbox import service as inbox
from postvak.web.deps import CitizenSession
from postvak.web.i18n import safe_local_path, templates

log = structlog.get_logger("postvak.web")

NO_STORE = {"Cache-Control": "no-store"}
# What a finished action may announce on the page it returns to; anything else is ignored.
NOTICES = (
    *("unread", "archive", "unarchive", "move", "bin", "restore", "purge"),
    *("confirmed", "emptied", "created", "renamed", "deleted"),
)


def navigation(session: Session, citizen: CitizenSession) -> dict[str, Any]:
    """The counts and folders the navigation shows on every signed-in page."""
    return {
        "counts": inbox.box_counts(session, citizen.mailbox_id),
        "folders": inbox.folders(session, citizen.mailbox_id),
    }


def citizen_page(
    request: Request,
    citizen: CitizenSession,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A page of the signed-in citizen; never stored by a browser or proxy (it may show letters)."""
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
    """Turns the inbox's problems into pages: not found (also someone else's letter), integrity, bad input."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except NotFound:
                return _problem_page(request, "not_found", 404)
            except IntegrityFailure:
                log.error("letter failed its integrity check", path=request.url.path)
                return _problem_page(request, "integrity", 500)
            except ValidationFailed:
                return _problem_page(request, "bad_request", 400)

        return handle


def _problem_page(request: Request, kind: str, status_code: int) -> Response:
    return templates.TemplateResponse(
        request, "letter_problem.html", {"kind": kind}, status_code=status_code, headers=NO_STORE
    )
