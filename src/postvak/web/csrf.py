"""CSRF for every form of the web pages: the form's token must be the expected one, and the request
must come from our own pages."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import FormData

from postvak.runtime import runtime_of


class FormRejected(Exception):
    """A state-changing form without the session's CSRF token, or sent from another site: 403."""


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
    own = {_origin(str(request.base_url)), _origin(runtime_of(request).settings.base_url)}
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
