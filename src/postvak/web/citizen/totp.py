"""Settings pages of the authenticator app (TOTP): replace it with a new one, or remove it.

A new secret takes effect only when the app it was added to has produced a right code; until
then the old app keeps working. Removing is refused when it is the last second factor. Replacing
asks for the password again when the log-in is more than a few minutes old (reauth).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from postvak.auth import credentials
from postvak.errors import ValidationFailed
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute
from postvak.web.citizen.session import CitizenSession, recent_citizen, recent_citizen_form
from postvak.web.citizen.settings_rendering import (
    CitizenForm,
    back_to_settings,
    code_outcome,
    refuse,
    settings_subpage,
)

router = APIRouter(route_class=CitizenRoute)

SECTION, PAGE = "/settings#second-factors", "/settings/totp"
# Who may start a replacement, see the new secret and confirm it: a citizen who proved who they are
# recently; otherwise they confirm their password first and come back here.
Starting = Annotated[tuple[CitizenSession, FormData], Depends(recent_citizen_form(SECTION))]
Replacing = Annotated[CitizenSession, Depends(recent_citizen(PAGE))]
Confirming = Annotated[tuple[CitizenSession, FormData], Depends(recent_citizen_form(PAGE))]


@router.post("/settings/totp/new")
def start_replacement(request: Request, checked: Starting) -> Response:
    """A fresh secret every time this is asked, so a secret seen earlier is never the one set up."""
    citizen, _form = checked
    runtime = runtime_of(request)
    with runtime.database.unit_of_work() as session:
        credentials.start_totp_replacement(session, keyring=runtime.keyring, citizen_id=citizen.citizen_id)
    return RedirectResponse("/settings/totp", status_code=303)


@router.get("/settings/totp", response_class=HTMLResponse)
def replacement_page(request: Request, citizen: Replacing) -> Response:
    return _replacement_form(request, citizen)


@router.post("/settings/totp")
def confirm_replacement(request: Request, checked: Confirming) -> Response:
    citizen, form = checked
    runtime = runtime_of(request)
    with runtime.database.unit_of_work() as session:
        outcome = credentials.confirm_totp_replacement(
            session, keyring=runtime.keyring, citizen_id=citizen.citizen_id, code=str(form.get("code") or "")
        )
    return code_outcome(
        outcome,
        done="totp-replaced",
        section="second-factors",
        again=partial(_replacement_form, request, citizen),
    )


@router.post("/settings/totp/delete")
def remove_app(request: Request, checked: CitizenForm) -> Response:
    citizen, _form = checked
    try:
        with runtime_of(request).database.unit_of_work() as session:
            credentials.remove_totp(session, citizen_id=citizen.citizen_id)
    except ValidationFailed as problem:
        return refuse(request, citizen, "factors", problem.detail, 409)
    return back_to_settings("totp-removed", "second-factors")


def _replacement_form(
    request: Request, citizen: CitizenSession, *, error: str | None = None, status_code: int = 200
) -> Response:
    runtime = runtime_of(request)
    with runtime.database.unit_of_work(write=False) as session:
        new = credentials.open_new_totp(session, keyring=runtime.keyring, citizen_id=citizen.citizen_id)
    if new is None:
        return back_to_settings(section="second-factors")
    context = {"totp": new, "error": error}
    return settings_subpage(request, citizen, "settings_totp.html", context, status_code=status_code)
