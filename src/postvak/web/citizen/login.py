"""Citizen pages of logging in: password, second factor, activation by e-mail, logging out.

Each route is the edge: it opens the units of work (short ones: the password hash is
verified outside any transaction) and sends e-mail only after the commit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from postvak.auth import passwords, rules
from postvak.auth import service as auth
from postvak.citizens import rules as citizen_rules
from postvak.citizens import service as citizens
from postvak.citizens.mails import email_code_mail
from postvak.errors import ValidationFailed
from postvak.flows import activation
from postvak.kit.mail import MailError, send_mail
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import second_factor_form
from postvak.web.citizen.session import (
    SESSION_COOKIE,
    CitizenSession,
    client_of,
    current_session,
    require_signed_in,
    require_signed_in_form,
    with_session,
)
from postvak.web.csrf import check_form
from postvak.web.i18n import templates
from postvak.web.return_to import after_log_in

router = APIRouter()

LOGIN_COOKIE = "__Host-postvak-login"  # CSRF token of the log-in form, before there is a session
FormField = Annotated[str, Form()]


# --- log in: the password --------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    view = current_session(request)
    if view is not None and view.stage == rules.STAGE_FULL:
        return _redirect("/inbox" if view.activated else "/activate")
    return _login_form(request)


@router.post("/", response_class=HTMLResponse)
def log_in(
    request: Request, username: FormField = "", password: FormField = "", csrf_token: FormField = ""
) -> Response:
    """Same answer, same work, for an unknown username and a wrong password."""
    check_form(request, csrf_token, request.cookies.get(LOGIN_COOKIE) or "")
    runtime = runtime_of(request)
    ip, user_agent = client_of(request)
    with runtime.database.unit_of_work() as session:
        attempt = auth.throttle_password_attempt(session, username=username, ip=ip)
    if not attempt.allowed:
        return _login_form(request, error="throttled", status_code=429)
    with runtime.database.unit_of_work(write=False) as session:
        stored = auth.find_stored_password(session, username=username)
    hasher = passwords.hasher_for(runtime.settings)
    if stored is None or not auth.password_matches(hasher, stored=stored, password=password):
        with runtime.database.unit_of_work() as session:
            auth.fail_password_step(session, stored=stored, ip=ip, user_agent=user_agent)
        return _login_form(request, error="wrong", status_code=401)
    previous = request.cookies.get(SESSION_COOKIE)
    with runtime.database.unit_of_work() as session:
        token = auth.pass_password_step(
            session,
            hasher=hasher,
            stored=stored,
            password=password,
            attempt=attempt,
            ip=ip,
            user_agent=user_agent,
            replaces=rules.hash_token(previous) if previous else None,
        )
    return with_session(_redirect("/login/second-factor"), token)


def _login_form(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or rules.new_csrf_token()
    response = templates.TemplateResponse(
        request, "login.html", {"csrf_token": token, "error": error}, status_code=status_code
    )
    response.set_cookie(LOGIN_COOKIE, token, path="/", secure=True, httponly=True, samesite="lax")
    return response


# --- log in: the second factor ---------------------------------------------------------------


@router.get("/login/second-factor", response_class=HTMLResponse)
def second_factor_page(request: Request) -> Response:
    view = current_session(request)
    if view is None:
        return _redirect("/")
    if view.stage == rules.STAGE_FULL:
        return _redirect("/inbox" if view.activated else "/activate")
    return second_factor_form(request, view)


@router.post("/login/second-factor", response_class=HTMLResponse)
def log_in_with_code(request: Request, code: FormField = "", csrf_token: FormField = "") -> Response:
    view = current_session(request)
    if view is None:
        return _redirect("/")
    if view.stage == rules.STAGE_FULL:
        return _redirect("/inbox" if view.activated else "/activate")
    check_form(request, csrf_token, view.csrf_token)
    runtime = runtime_of(request)
    ip, user_agent = client_of(request)
    with runtime.database.unit_of_work() as session:
        result = auth.log_in_with_totp(
            session, keyring=runtime.keyring, view=view, code=code, ip=ip, user_agent=user_agent
        )
    if result.outcome == "blocked":
        return second_factor_form(request, view, error="throttled", status_code=429)
    if result.outcome == "wrong":
        return second_factor_form(request, view, error="wrong", status_code=401)
    return with_session(after_log_in(request, activated=result.activated), result.token)


# --- log out ---------------------------------------------------------------------------------


@router.post("/logout")
def log_out(request: Request, csrf_token: FormField = "") -> Response:
    """Revokes the session on the server, so the cookie is worthless even if it was copied."""
    view = current_session(request)
    response = _redirect("/")
    if view is not None:
        check_form(request, csrf_token, view.csrf_token)
        ip, user_agent = client_of(request)
        with runtime_of(request).database.unit_of_work() as session:
            auth.end_session(session, view=view, ip=ip, user_agent=user_agent)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


# --- activation: a verified e-mail address before the inbox opens -----------------------------


@router.get("/activate", response_class=HTMLResponse)
def activation_page(
    request: Request, citizen: Annotated[CitizenSession, Depends(require_signed_in)]
) -> Response:
    if current_session(request).activated:
        return _redirect("/inbox")
    email = current_session(request).username
    return _activation_form(request, citizen, email=email if not citizen_rules.email_problem(email) else "")


@router.post("/activate", response_class=HTMLResponse)
def send_activation_code(
    request: Request, checked: Annotated[tuple[CitizenSession, FormData], Depends(require_signed_in_form)]
) -> Response:
    """Sends a code to the address, after the commit; at most 5 codes per 15 minutes."""
    citizen, form = checked
    if current_session(request).activated:
        return _redirect("/inbox")
    address = str(form.get("email") or "")
    runtime = runtime_of(request)
    try:
        with runtime.database.unit_of_work() as session:
            if not auth.throttle_attempt(session, keys=[rules.email_code_key(citizen.citizen_id)]).allowed:
                return _activation_form(request, citizen, email=address, error="throttled", status_code=429)
            code = citizens.request_email_code(session, citizen_id=citizen.citizen_id, address=address)
    except ValidationFailed:
        return _activation_form(request, citizen, email=address, error="invalid", status_code=422)
    try:
        send_mail(runtime.settings.smtp_url, email_code_mail(code), sender=runtime.settings.mail_from)
    except MailError:
        return _activation_form(request, citizen, email=address, error="not-sent", status_code=503)
    return _redirect("/activate/verify")


@router.get("/activate/verify", response_class=HTMLResponse)
def verification_page(
    request: Request, citizen: Annotated[CitizenSession, Depends(require_signed_in)]
) -> Response:
    if current_session(request).activated:
        return _redirect("/inbox")
    return _verification_form(request, citizen)


@router.post("/activate/verify", response_class=HTMLResponse)
def verify_activation_code(
    request: Request, checked: Annotated[tuple[CitizenSession, FormData], Depends(require_signed_in_form)]
) -> Response:
    citizen, form = checked
    if current_session(request).activated:
        return _redirect("/inbox")
    with runtime_of(request).database.unit_of_work() as session:
        outcome = activation.verify_email_address(
            session, citizen_id=citizen.citizen_id, code=str(form.get("code") or "")
        )
    if outcome == "ok":
        return _redirect("/inbox")
    if outcome == "none":
        return _redirect("/activate")
    return _verification_form(request, citizen, error=outcome, status_code=401 if outcome == "wrong" else 410)


def _activation_form(
    request: Request, citizen: CitizenSession, *, email: str, error: str | None = None, status_code: int = 200
) -> Response:
    context = {"csrf_token": citizen.csrf_token, "email": email, "error": error}
    return templates.TemplateResponse(request, "activate.html", context, status_code=status_code)


def _verification_form(
    request: Request, citizen: CitizenSession, *, error: str | None = None, status_code: int = 200
) -> Response:
    with runtime_of(request).database.unit_of_work(write=False) as session:
        address = citizens.find_address_awaiting_code(session, citizen_id=citizen.citizen_id)
    if address is None:
        return _redirect("/activate")
    context = {
        "csrf_token": citizen.csrf_token,
        "address": address,
        "masked_address": citizen_rules.mask_email(address),
        "error": error,
    }
    return templates.TemplateResponse(request, "activate_verify.html", context, status_code=status_code)


# --- the edge's small helper ----------------------------------------------------------------


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)
