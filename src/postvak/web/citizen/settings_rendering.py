"""Renders the settings page: the account, its devices and log-in history, a notice or a form's problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from postvak.auth import credentials
from postvak.auth import service as auth
from postvak.auth.rules import describe_device
from postvak.citizens import service as citizens
from postvak.citizens.rules import mask_email, show_phone
from postvak.kit import clock
from postvak.runtime import runtime_of
from postvak.web.citizen.rendering import citizen_page, navigation
from postvak.web.citizen.session import CitizenSession, require_citizen, require_citizen_form
from postvak.web.i18n import language_of

_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}

# What a finished change may announce on the settings page; anything else in the URL is ignored.
NOTICES = (
    *("language", "email-verified", "email-removed", "phone-verified", "phone-removed"),
    *("sms-on", "sms-off", "totp-replaced", "totp-removed", "passkey-added", "passkey-removed"),
    *("digest-on", "digest-off", "password-confirmed"),
)

# Problems the routes find themselves (the services' problems are sentences of their own rules).
TOO_MANY_CODES = "We sent several codes already. Wait a while before asking for a new one."
MAIL_NOT_SENT = "We could not send the e-mail just now. Try again in a few minutes."
SMS_NOT_SENT = "We could not send the text message just now. Try again in a few minutes."
PASSKEY_NOT_ADDED = "The passkey could not be added. Try again, or use another passkey."
CHOOSE_LANGUAGE = "Choose Nederlands or English."
PAGE_PROBLEMS = (TOO_MANY_CODES, MAIL_NOT_SENT, SMS_NOT_SENT, PASSKEY_NOT_ADDED, CHOOSE_LANGUAGE)


# What settings routes depend on: the signed-in citizen, or (for changes) the citizen and a checked form.
Citizen = Annotated[CitizenSession, Depends(require_citizen)]
CitizenForm = Annotated[tuple[CitizenSession, FormData], Depends(require_citizen_form)]


@dataclass(frozen=True)
class FormError:
    """A form on the settings page that was refused: which one, why (an English sentence the page
    translates), and what the citizen typed, so that they need not type it again."""

    form: str
    message: str
    value: str = ""


def settings_page(
    request: Request, citizen: CitizenSession, *, error: FormError | None = None, status_code: int = 200
) -> Response:
    runtime = runtime_of(request)
    with runtime.database.unit_of_work(write=False) as session:
        account = citizens.read_settings(session, keyring=runtime.keyring, citizen_id=citizen.citizen_id)
        factors = credentials.list_second_factors(session, citizen_id=citizen.citizen_id)
        devices = auth.list_devices(
            session, citizen_id=citizen.citizen_id, current_token_hash=citizen.token_hash
        )
        history = auth.list_login_events(session, citizen_id=citizen.citizen_id)
        nav = navigation(session, citizen)
    notice = request.query_params.get("notice")
    context = {
        "account": account,
        "second_factors": factors,
        "devices": devices,
        "history": history,
        "error": error,
        "settings_notice": notice if notice in NOTICES else None,
        **helpers(request, citizen),
        **nav,
    }
    return citizen_page(request, citizen, "settings.html", context, status_code=status_code)


def refuse(
    request: Request, citizen: CitizenSession, form: str, message: str, status_code: int, value: str = ""
) -> Response:
    """The settings page again, with the refused form's problem beside that form."""
    return settings_page(request, citizen, error=FormError(form, message, value), status_code=status_code)


def settings_subpage(
    request: Request, citizen: CitizenSession, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A page of one settings task (a code to enter, a new authenticator app), with the navigation."""
    with runtime_of(request).database.unit_of_work(write=False) as session:
        nav = navigation(session, citizen)
    full = {**context, **helpers(request, citizen), **nav}
    return citizen_page(request, citizen, name, full, status_code=status_code)


def helpers(request: Request, citizen: CitizenSession) -> dict[str, Any]:
    """Formatting for the templates, in the page's language."""
    request.state.language = citizen.language
    locale = _LOCALES[language_of(request)]

    def moment(value: datetime | None) -> str:
        """ "28 nov 2026, 14:05" on Dutch clocks."""
        if value is None:
            return ""
        local = clock.as_utc(value).astimezone(_TIME_ZONE)
        return format_datetime(local, "d MMM y, HH:mm", tzinfo=_TIME_ZONE, locale=locale)

    return {
        "moment": moment,
        "describe_device": describe_device,
        "show_phone": show_phone,
        "mask_email": mask_email,
    }


def back_to_settings(notice: str | None = None, section: str = "") -> RedirectResponse:
    target = "/settings" + (f"?notice={notice}" if notice else "") + (f"#{section}" if section else "")
    return RedirectResponse(target, status_code=303)


CODE_STATUS = {"wrong": 401, "expired": 410, "exhausted": 410}


def code_outcome(outcome: str, *, done: str, section: str, again: Callable[..., Response]) -> Response:
    """The answer to an entered code: back to settings when it verified (or nothing waits), else the form."""
    if outcome == "ok":
        return back_to_settings(done, section)
    if outcome == "none":
        return back_to_settings(section=section)
    return again(error=outcome, status_code=CODE_STATUS[outcome])
