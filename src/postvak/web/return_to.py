"""Where a citizen lands after logging in: the message whose link (in a notification) they followed
while logged out, else the inbox.

Only a message's path is ever remembered, so the cookie cannot send anyone elsewhere.
"""

from __future__ import annotations

import re

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

RETURN_COOKIE = "__Host-postvak-return"
_LETTER = re.compile(r"/letters/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COOKIE = {"path": "/", "secure": True, "httponly": True, "samesite": "lax"}


def remember_letter(request: Request, response: Response) -> None:
    """On the way to the log-in page: keep the message asked for (15 minutes, this browser)."""
    if request.method == "GET" and _LETTER.fullmatch(request.url.path):
        response.set_cookie(RETURN_COOKIE, request.url.path, max_age=15 * 60, **_COOKIE)


def after_log_in(request: Request, *, activated: bool) -> RedirectResponse:
    """The redirect at the end of a log-in; an account still to be activated goes there first (no
    notification, and so no message link, reaches a citizen before activation)."""
    if not activated:
        return RedirectResponse("/activate", status_code=303)
    remembered = request.cookies.get(RETURN_COOKIE, "")
    response = RedirectResponse(remembered if _LETTER.fullmatch(remembered) else "/inbox", status_code=303)
    if remembered:
        response.delete_cookie(RETURN_COOKIE, **_COOKIE)
    return response
