"""Passkeys (WebAuthn): the second factor at log-in, and adding and removing them in settings.

The browser side is static/passkey.js: it posts the form's csrf_token to the form's
data-options-url, hands the JSON options to the authenticator, and submits the form with the
answer in `credential`. The relying party is the configured POSTVAK_BASE_URL, never what a
request's headers claim; the challenge waits in the session row and answers one ceremony.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.datastructures import FormData

from postvak.auth import credentials
from postvak.auth import service as auth
from postvak.auth.passkeys import RelyingParty
from postvak.auth.rules import STAGE_FULL
from postvak.errors import ValidationFailed
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute, second_factor_form
from postvak.web.citizen.session import (
    CitizenSession,
    client_of,
    current_session,
    recent_citizen_form,
    with_session,
)
from postvak.web.citizen.settings_rendering import PASSKEY_NOT_ADDED, CitizenForm, back_to_settings, refuse
from postvak.web.csrf import check_form
from postvak.web.return_to import after_log_in
from postvak.web.security import NO_STORE

router = APIRouter()
settings = APIRouter(route_class=CitizenRoute)
FormField = Annotated[str, Form()]
# Adding a passkey asks for the password again when the log-in is more than a few minutes old.
Adding = Annotated[tuple[CitizenSession, FormData], Depends(recent_citizen_form("/settings#second-factors"))]


def relying_party(request: Request) -> RelyingParty:
    return RelyingParty.from_base_url(runtime_of(request).settings.base_url)


# --- log in: a passkey as the second factor --------------------------------------------------


@router.post("/login/passkey/options")
def login_options(request: Request, csrf_token: FormField = "") -> Response:
    """JSON for navigator.credentials.get, for the citizen who has just given their password."""
    view = current_session(request)
    if view is None or view.stage == STAGE_FULL:
        return JSONResponse({"error": "no log-in waiting for its second factor"}, status_code=409)
    check_form(request, csrf_token, view.csrf_token)
    with runtime_of(request).database.unit_of_work() as session:
        options = auth.start_passkey_login(session, rp=relying_party(request), view=view)
    if options is None:
        return JSONResponse({"error": "no passkeys"}, status_code=404)
    return Response(options, media_type="application/json", headers=NO_STORE)


@router.post("/login/passkey", response_class=HTMLResponse)
def log_in_with_passkey(request: Request, credential: FormField = "", csrf_token: FormField = "") -> Response:
    """As the code form does: the session id changes, and wrong answers are throttled and recorded."""
    view = current_session(request)
    if view is None:
        return RedirectResponse("/", status_code=303)
    if view.stage == STAGE_FULL:
        return RedirectResponse("/inbox" if view.activated else "/activate", status_code=303)
    check_form(request, csrf_token, view.csrf_token)
    ip, user_agent = client_of(request)
    with runtime_of(request).database.unit_of_work() as session:
        result = auth.log_in_with_passkey(
            session, rp=relying_party(request), view=view, credential=credential, ip=ip, user_agent=user_agent
        )
    if result.outcome == "blocked":
        return second_factor_form(request, view, error="throttled", status_code=429)
    if result.outcome == "wrong":
        return second_factor_form(request, view, passkey_error=True, status_code=401)
    return with_session(after_log_in(request, activated=result.activated), result.token)


# --- settings: add and remove passkeys -------------------------------------------------------


@settings.post("/settings/passkeys/options")
def registration_options(request: Request, checked: Adding) -> Response:
    """JSON for navigator.credentials.create; the browser is told which passkeys exist already.

    Without a recent log-in this answers with a redirect to the password page, which fetch()
    follows: passkey.js sees that and opens the page."""
    citizen, _form = checked
    try:
        with runtime_of(request).database.unit_of_work() as session:
            options = credentials.start_passkey_registration(
                session,
                rp=relying_party(request),
                citizen_id=citizen.citizen_id,
                token_hash=citizen.token_hash,
            )
    except ValidationFailed as problem:
        return JSONResponse({"error": problem.detail}, status_code=409, headers=NO_STORE)
    return Response(options, media_type="application/json", headers=NO_STORE)


@settings.post("/settings/passkeys")
def add_passkey(request: Request, checked: Adding) -> Response:
    citizen, form = checked
    name = str(form.get("name") or "")
    try:
        with runtime_of(request).database.unit_of_work() as session:
            added = credentials.register_passkey(
                session,
                rp=relying_party(request),
                citizen_id=citizen.citizen_id,
                token_hash=citizen.token_hash,
                name=name,
                credential=str(form.get("credential") or ""),
            )
    except ValidationFailed as problem:
        return refuse(request, citizen, "passkey", problem.detail, 422, name)
    if added is None:
        return refuse(request, citizen, "passkey", PASSKEY_NOT_ADDED, 400, name)
    return back_to_settings("passkey-added", "second-factors")


@settings.post("/settings/passkeys/{passkey_id}/delete")
def remove_passkey(request: Request, passkey_id: str, checked: CitizenForm) -> Response:
    """Refused when it is the citizen's last second factor."""
    citizen, _form = checked
    try:
        with runtime_of(request).database.unit_of_work() as session:
            credentials.remove_passkey(session, citizen_id=citizen.citizen_id, passkey_id=passkey_id)
    except ValidationFailed as problem:
        return refuse(request, citizen, "factors", problem.detail, 409)
    return back_to_settings("passkey-removed", "second-factors")


router.include_router(settings)
