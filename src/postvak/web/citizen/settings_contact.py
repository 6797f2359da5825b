"""Settings pages of where and how often we reach the citizen: e-mail addresses, a mobile number for SMS,
and a daily digest of the messages that ask nothing.

Addresses and numbers are verified with a 6-digit code (e-mail: the activation machinery), sent only
after the commit and throttled per account. The last verified e-mail address cannot be removed.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from postvak.auth import rules as auth_rules
from postvak.auth import service as auth
from postvak.citizens import service as citizens
from postvak.citizens.mails import email_code_mail, phone_code_sms
from postvak.errors import ValidationFailed
from postvak.flows import activation
from postvak.kit.mail import MailError, send_mail
from postvak.notifications.sms import SmsFailed
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import CitizenRoute
from postvak.web.citizen.session import CitizenSession
from postvak.web.citizen.settings_rendering import (
    MAIL_NOT_SENT,
    SMS_NOT_SENT,
    TOO_MANY_CODES,
    Citizen,
    CitizenForm,
    back_to_settings,
    code_outcome,
    refuse,
    settings_subpage,
)

router = APIRouter(route_class=CitizenRoute)

# --- e-mail addresses ------------------------------------------------------------------------


@router.post("/settings/emails")
def add_email(request: Request, checked: CitizenForm) -> Response:
    citizen, form = checked
    address = str(form.get("email") or "")
    runtime = runtime_of(request)
    try:
        with runtime.database.unit_of_work() as session:
            allowed = auth.throttle_attempt(
                session, keys=[auth_rules.email_code_key(citizen.citizen_id)]
            ).allowed
            code = (
                citizens.add_email_address(session, citizen_id=citizen.citizen_id, address=address)
                if allowed
                else None
            )
    except ValidationFailed as problem:
        return refuse(request, citizen, "email", problem.detail, 422, address)
    if code is None:
        return refuse(request, citizen, "email", TOO_MANY_CODES, 429, address)
    try:
        send_mail(runtime.settings.smtp_url, email_code_mail(code), sender=runtime.settings.mail_from)
    except MailError:
        return refuse(request, citizen, "email", MAIL_NOT_SENT, 503, address)
    return RedirectResponse("/settings/emails/verify", status_code=303)


@router.get("/settings/emails/verify", response_class=HTMLResponse)
def email_code_page(request: Request, citizen: Citizen) -> Response:
    return _email_code_form(request, citizen)


@router.post("/settings/emails/verify")
def verify_email(request: Request, checked: CitizenForm) -> Response:
    citizen, form = checked
    with runtime_of(request).database.unit_of_work() as session:
        outcome = activation.verify_email_address(
            session, citizen_id=citizen.citizen_id, code=str(form.get("code") or "")
        )
    return code_outcome(
        outcome, done="email-verified", section="email", again=partial(_email_code_form, request, citizen)
    )


@router.post("/settings/emails/{address_id}/delete")
def remove_email(request: Request, address_id: str, checked: CitizenForm) -> Response:
    citizen, _form = checked
    try:
        with runtime_of(request).database.unit_of_work() as session:
            citizens.remove_email_address(session, citizen_id=citizen.citizen_id, address_id=address_id)
    except ValidationFailed as problem:
        return refuse(request, citizen, "emails", problem.detail, 409)
    return back_to_settings("email-removed", "email")


def _email_code_form(
    request: Request, citizen: CitizenSession, *, error: str | None = None, status_code: int = 200
) -> Response:
    with runtime_of(request).database.unit_of_work(write=False) as session:
        address = citizens.find_address_awaiting_code(session, citizen_id=citizen.citizen_id)
    if address is None:
        return back_to_settings(section="email")
    context = {"kind": "email", "address": address, "error": error}
    return settings_subpage(request, citizen, "settings_code.html", context, status_code=status_code)


# --- how often we e-mail: a daily digest of the messages that ask nothing ---------------------


@router.post("/settings/daily-digest")
def choose_daily_digest(request: Request, checked: CitizenForm) -> Response:
    """One e-mail a day for messages that ask nothing, or one each; anything but "on" is the default, each."""
    citizen, form = checked
    on = form.get("digest") == "on"
    with runtime_of(request).database.unit_of_work() as session:
        citizens.set_daily_digest(session, citizen_id=citizen.citizen_id, on=on)
    return back_to_settings("digest-on" if on else "digest-off", "digest")


# --- a mobile number for SMS -----------------------------------------------------------------


@router.post("/settings/phone")
def add_phone(request: Request, checked: CitizenForm) -> Response:
    """The code goes out by SMS after the commit; the number already verified stays until then."""
    citizen, form = checked
    number = str(form.get("phone") or "")
    runtime = runtime_of(request)
    try:
        with runtime.database.unit_of_work() as session:
            allowed = auth.throttle_attempt(
                session, keys=[auth_rules.phone_code_key(citizen.citizen_id)]
            ).allowed
            code = (
                citizens.request_phone_code(
                    session, keyring=runtime.keyring, citizen_id=citizen.citizen_id, number=number
                )
                if allowed
                else None
            )
    except ValidationFailed as problem:
        return refuse(request, citizen, "phone", problem.detail, 422, number)
    if code is None:
        return refuse(request, citizen, "phone", TOO_MANY_CODES, 429, number)
    try:
        runtime.sms.send(code.number, phone_code_sms(code), code.reference)
    except SmsFailed:
        return refuse(request, citizen, "phone", SMS_NOT_SENT, 503, number)
    return RedirectResponse("/settings/phone/verify", status_code=303)


@router.get("/settings/phone/verify", response_class=HTMLResponse)
def phone_code_page(request: Request, citizen: Citizen) -> Response:
    return _phone_code_form(request, citizen)


@router.post("/settings/phone/verify")
def verify_phone(request: Request, checked: CitizenForm) -> Response:
    citizen, form = checked
    runtime = runtime_of(request)
    with runtime.database.unit_of_work() as session:
        outcome = citizens.verify_phone_code(
            session, keyring=runtime.keyring, citizen_id=citizen.citizen_id, code=str(form.get("code") or "")
        )
    return code_outcome(
        outcome, done="phone-verified", section="phone", again=partial(_phone_code_form, request, citizen)
    )


@router.post("/settings/phone/delete")
def remove_phone(request: Request, checked: CitizenForm) -> Response:
    citizen, _form = checked
    with runtime_of(request).database.unit_of_work() as session:
        citizens.remove_phone(session, citizen_id=citizen.citizen_id)
    return back_to_settings("phone-removed", "phone")


@router.post("/settings/sms-notifications")
def choose_sms_notifications(request: Request, checked: CitizenForm) -> Response:
    citizen, form = checked
    on = form.get("sms") == "on"
    try:
        with runtime_of(request).database.unit_of_work() as session:
            citizens.set_sms_notifications(session, citizen_id=citizen.citizen_id, on=on)
    except ValidationFailed as problem:
        return refuse(request, citizen, "sms", problem.detail, 409)
    return back_to_settings("sms-on" if on else "sms-off", "phone")


def _phone_code_form(
    request: Request, citizen: CitizenSession, *, error: str | None = None, status_code: int = 200
) -> Response:
    runtime = runtime_of(request)
    with runtime.database.unit_of_work(write=False) as session:
        number = citizens.find_phone_awaiting_code(
            session, keyring=runtime.keyring, citizen_id=citizen.citizen_id
        )
    if number is None:
        return back_to_settings(section="phone")
    context = {"kind": "phone", "address": number, "error": error}
    return settings_subpage(request, citizen, "settings_code.html", context, status_code=status_code)
