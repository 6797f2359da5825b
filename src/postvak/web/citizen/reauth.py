"""The page that asks for the password again before a sensitive change ("sudo mode").

A full log-in, or the password given here, allows changes such as adding a passkey or replacing the
authenticator app for auth.rules.REAUTHENTICATION_WINDOW; routes ask for it with session.recent_citizen
or session.recent_citizen_form, which send the citizen here and, after the password, back to where they
were. Attempts are throttled on the log-in's own keys and recorded in the log-in history.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from postvak.auth import passwords
from postvak.auth import service as auth
from postvak.auth.rules import REAUTHENTICATION_WINDOW
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute
from postvak.web.citizen.session import CitizenSession, client_of, current_session
from postvak.web.citizen.settings_rendering import Citizen, CitizenForm, settings_subpage
from postvak.web.i18n import safe_local_path

router = APIRouter(route_class=CitizenRoute)

CONFIRM_PATH = "/confirm-password"
DEFAULT_BACK = "/settings"
_FRAGMENT = re.compile(r"#[a-z][a-z0-9-]{0,40}")


def confirm_password_location(back: str) -> str:
    """Where a sensitive change that came too late sends the citizen."""
    return f"{CONFIRM_PATH}?{urlencode({'next': return_target(back)})}"


def return_target(target: str | None) -> str:
    """A path on this site to return to (a section's #fragment kept), never this page itself."""
    path, hash_mark, fragment = (target or "").partition("#")
    local = safe_local_path(path, DEFAULT_BACK)
    if local.split("?")[0] == CONFIRM_PATH:
        local = DEFAULT_BACK
    return local + (f"#{fragment}" if hash_mark and _FRAGMENT.fullmatch(f"#{fragment}") else "")


@router.get(CONFIRM_PATH, response_class=HTMLResponse)
def confirm_password_page(request: Request, citizen: Citizen) -> Response:
    return _form(request, citizen, back=return_target(request.query_params.get("next")))


@router.post(CONFIRM_PATH)
def confirm_password(request: Request, checked: CitizenForm) -> Response:
    """As the log-in's password step: counted first, verified outside any transaction, the same
    throttle keys (a stolen session cannot guess the password faster here than at the log-in)."""
    citizen, form = checked
    back = return_target(str(form.get("next") or ""))
    view = current_session(request)
    runtime = runtime_of(request)
    ip, user_agent = client_of(request)
    with runtime.database.unit_of_work() as session:
        attempt = auth.throttle_password_attempt(session, username=view.username, ip=ip)
    if not attempt.allowed:
        return _form(request, citizen, back=back, error="throttled", status_code=429)
    with runtime.database.unit_of_work(write=False) as session:
        stored = auth.read_stored_password(session, citizen_id=citizen.citizen_id)
    password = str(form.get("password") or "")
    if not auth.password_matches(passwords.hasher_for(runtime.settings), stored=stored, password=password):
        with runtime.database.unit_of_work() as session:
            auth.fail_reauthentication(session, view=view, ip=ip, user_agent=user_agent)
        return _form(request, citizen, back=back, error="wrong", status_code=401)
    with runtime.database.unit_of_work() as session:
        auth.pass_reauthentication(session, view=view, attempt=attempt, ip=ip, user_agent=user_agent)
    return RedirectResponse(_with_notice(back), status_code=303)


def _form(
    request: Request, citizen: CitizenSession, *, back: str, error: str | None = None, status_code: int = 200
) -> Response:
    context = {
        "back": back,
        "cancel": back if back.partition("#")[0] == DEFAULT_BACK else DEFAULT_BACK,
        "username": current_session(request).username,
        "minutes": int(REAUTHENTICATION_WINDOW.total_seconds() // 60),
        "error": error,
    }
    return settings_subpage(request, citizen, "confirm_password.html", context, status_code=status_code)


def _with_notice(back: str) -> str:
    """The settings page says that the password was confirmed; other pages ignore the notice."""
    path, hash_mark, fragment = back.partition("#")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}notice=password-confirmed{hash_mark}{fragment}"
