"""Who is signed in: the citizen's session cookie, the log-in stage it reached, and the dependencies
citizen pages declare (signed in, activated, recently authenticated, with a checked form).

The auth domain fills these in (postvak.auth.service); pages only depend on this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from postvak.auth import service as auth
from postvak.auth.rules import STAGE_FULL
from postvak.kit import clock
from postvak.runtime import runtime_of
from postvak.web.csrf import checked_form

SESSION_COOKIE = "__Host-postvak-session"
_NOT_READ = object()


@dataclass(frozen=True)
class CitizenSession:
    """A session that passed the password AND the second factor (of an activated citizen, unless it
    comes from require_signed_in)."""

    token_hash: str
    citizen_id: uuid.UUID
    mailbox_id: uuid.UUID
    csrf_token: str
    language: str  # "nl" or "en"


class LoginRequired(Exception):
    """Raised by require_citizen; the web app answers it with a redirect to the right step."""

    def __init__(self, location: str) -> None:
        self.location = location


class ReauthenticationRequired(Exception):
    """A sensitive change, but the citizen last proved who they are too long ago: the web app answers
    with the page that asks for the password, which then returns to `back`."""

    def __init__(self, back: str) -> None:
        self.back = back


def current_session(request: Request) -> auth.SessionView | None:
    """The live session of the request's cookie, any stage; touched when due. Read once per request."""
    cached = getattr(request.state, "postvak_session", _NOT_READ)
    if cached is not _NOT_READ:
        return cached
    database = runtime_of(request).database
    with database.unit_of_work(write=False) as session:
        view = auth.resolve_session(session, token=request.cookies.get(SESSION_COOKIE))
    if view is not None and view.touch_due:
        with database.unit_of_work() as session:
            auth.touch_session(session, view=view)
    if view is not None:
        request.state.language = view.language
    request.state.postvak_session = view
    return view


def require_signed_in(request: Request) -> CitizenSession:
    """Both factors done; the citizen may still lack a verified e-mail address (activation pages)."""
    view = current_session(request)
    if view is None:
        raise LoginRequired("/")
    if view.stage != STAGE_FULL:
        raise LoginRequired("/login/second-factor")
    return CitizenSession(view.token_hash, view.citizen_id, view.mailbox_id, view.csrf_token, view.language)


def require_citizen(request: Request) -> CitizenSession:
    """The signed-in citizen, activated, or LoginRequired pointing at the missing step."""
    citizen = require_signed_in(request)
    if not current_session(request).activated:
        raise LoginRequired("/activate")
    return citizen


async def require_citizen_form(request: Request) -> tuple[CitizenSession, FormData]:
    """For state-changing POSTs: the citizen, and the form once its CSRF token and origin check out."""
    citizen = await run_in_threadpool(require_citizen, request)
    return citizen, await checked_form(request, citizen.csrf_token)


async def require_signed_in_form(request: Request) -> tuple[CitizenSession, FormData]:
    citizen = await run_in_threadpool(require_signed_in, request)
    return citizen, await checked_form(request, citizen.csrf_token)


def require_recent_authentication(request: Request, back: str) -> None:
    """Sensitive changes (a new passkey, another authenticator app) only within a short while
    (auth.rules.REAUTHENTICATION_WINDOW) of the log-in or of giving the password again."""
    view = current_session(request)
    if view is None or not view.recently_authenticated(clock.now()):
        raise ReauthenticationRequired(back)


def recent_citizen(back: str) -> Callable[[Request], CitizenSession]:
    """A dependency for the pages of a sensitive change: the signed-in citizen, who proved who they are
    recently; otherwise they are asked for their password first, and then return to `back`."""

    def dependency(request: Request) -> CitizenSession:
        citizen = require_citizen(request)
        require_recent_authentication(request, back)
        return citizen

    return dependency


def recent_citizen_form(back: str) -> Callable[[Request], Awaitable[tuple[CitizenSession, FormData]]]:
    """As recent_citizen, for the POST of a sensitive change: its CSRF token is checked first."""

    async def dependency(request: Request) -> tuple[CitizenSession, FormData]:
        checked = await require_citizen_form(request)
        require_recent_authentication(request, back)
        return checked

    return dependency


def with_session(response: Response, token: str) -> Response:
    """The session cookie: `__Host-` (this host only, path /, Secure), HttpOnly, SameSite=Lax.

    No Max-Age: it ends with the browser; the server ends it sooner (idle 15 min, at most 8 h).
    """
    response.set_cookie(SESSION_COOKIE, token, path="/", secure=True, httponly=True, samesite="lax")
    return response


def client_of(request: Request) -> tuple[str | None, str | None]:
    """The address and browser a log-in event records."""
    return (request.client.host if request.client else None), request.headers.get("user-agent")
