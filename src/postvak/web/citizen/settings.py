"""Citizen pages of settings: the overview, the language, and logging out everywhere.

E-mail addresses and the phone number are in settings_contact, the authenticator app in totp and
passkeys in passkeys. Every change is a POST with the CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from postvak.auth import service as auth
from postvak.citizens import service as citizens
from postvak.errors import ValidationFailed
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute
from postvak.web.citizen.session import SESSION_COOKIE, client_of
from postvak.web.citizen.settings_rendering import (
    CHOOSE_LANGUAGE,
    Citizen,
    CitizenForm,
    back_to_settings,
    refuse,
    settings_page,
)
from postvak.web.i18n import remember_language

router = APIRouter(route_class=CitizenRoute)


@router.get("/settings", response_class=HTMLResponse)
def settings_overview(request: Request, citizen: Citizen) -> Response:
    return settings_page(request, citizen)


@router.post("/settings/language")
def choose_language(request: Request, checked: CitizenForm) -> Response:
    """Saved on the account (every device, and our e-mails) and on this device, whose earlier
    choice with the header's language switch would otherwise still win."""
    citizen, form = checked
    language = str(form.get("language") or "")
    try:
        with runtime_of(request).database.unit_of_work() as session:
            citizens.set_language(session, citizen_id=citizen.citizen_id, language=language)
    except ValidationFailed:
        return refuse(request, citizen, "language", CHOOSE_LANGUAGE, 422)
    response = back_to_settings("language", "language")
    remember_language(request, response, language)
    return response


@router.post("/settings/sessions/end-all")
def log_out_everywhere(request: Request, checked: CitizenForm) -> Response:
    """Every session of the citizen ends on the server, this one too: a lost phone is logged out."""
    citizen, _form = checked
    ip, user_agent = client_of(request)
    with runtime_of(request).database.unit_of_work() as session:
        auth.revoke_all_sessions(session, citizen_id=citizen.citizen_id)
        auth.log_login_event(
            session, citizen_id=citizen.citizen_id, kind="logout-everywhere", ip=ip, user_agent=user_agent
        )
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response
