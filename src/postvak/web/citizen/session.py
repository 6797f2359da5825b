"""What every citizen page needs: the signed-in citizen (both factors done), and CSRF for forms.

The auth domain fills these in (postvak.auth.service); pages only depend on this module.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from postvak.auth import service as auth
from postvak.auth.rules import STAGE_FULL
from postvak.kit import clock

SESSION_COOKIE = "__Host-postvak-session"
_NOT_READ = object()


@dataclass(frozen=True)
class CitizenSession:
    """A session that passed the password AND the second factor, of an activated account."""

    token_hash: str
    citizen_id: uuid.UUID
    mailbox_id: uuid.UUID
    csrf_token: str
    language: str  # "nl" or "en"


class LoginRequired(Exception):
    """Raised by require_citizen; the web app answers it with a redirect to the right step."""

    def __init__(self, location: str) -> None:
        self.location = location


class FormRejected(Exception):
    """A state-changing form without the session's CSRF token, or sent from another site: 403."""


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
    database = request.app.state.runtime.database
    with database.unit_of_work(write=False) as session:
        view = auth.resolve_session(session, request.cookies.get(SESSION_COOKIE))
    if view is not None and view.touch_due:
        with database.unit_of_work() as session:
            auth.touch_session(session, view)
    if view is not None:
        request.state.language = view.language
    request.state.postvak_session = view
    return view


def require_account(request: Request) -> CitizenSession:
    """Both factors done; the account may still lack a verified e-mail address (activation pages)."""
    view = current_session(request)
    if view is None:
        raise LoginRequired("/")
    if view.stage != STAGE_FULL:
        raise LoginRequired("/login/second-factor")
    return CitizenSession(view.token_hash, view.citizen_id, view.mailbox_id, view.csrf_token, view.language)


def require_citizen(request: Request) -> CitizenSession:
    """The signed-in citizen of an activated account, or LoginRequired pointing at the missing step."""
    citizen = require_account(request)
    if not current_session(request).activated:
        raise LoginRequired("/activate")
    return citizen


async def require_citizen_form(request: Request) -> tuple[CitizenSession, FormData]:
    """For state-changing POSTs: the citizen, and the form once its CSRF token and origin check out."""
    citizen = await run_in_threadpool(require_citizen, request)
    return citizen, await checked_form(request, citizen.csrf_token)


async def require_account_form(request: Request) -> tuple[CitizenSession, FormData]:
    citizen = await run_in_threadpool(require_account, request)
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


async def checked_form(request: Request, expected_token: str) -> FormData:
    form = await request.form()
    check_form(request, form.get("csrf_token"), expected_token)
    return form


def check_form(request: Request, token: object, expected_token: str) -> None:
    """The form's csrf_token must be the expected one, and the request must come from our own pages."""
    if not isinstance(token, str) or not token or not token.isascii():  # compare_digest takes ASCII only
        raise FormRejected("csrf_token missing or wrong")
    if not hmac.compare_digest(token, expected_token):
        raise FormRejected("csrf_token missing or wrong")
    if not same_origin(request):
        raise FormRejected("the form was sent from another site")


def same_origin(request: Request) -> bool:
    """Origin (or, without it, Referer) names this site: as the request addressed it, or as configured.

    Browsers send Origin with every form POST; a request with neither header is refused.
    """
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    own = {_origin(str(request.base_url)), _origin(request.app.state.runtime.settings.base_url)}
    return _origin(claimed) in own


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"
