"""Answers for requests that fail outside a route's own handling: a body over its limit, and any
exception nobody handled. A page on the web side, a problem under /api/; never a traceback."""

from __future__ import annotations

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postvak.api.problems import problem_response
from postvak.errors import InternalError, PayloadTooLarge
from postvak.web.i18n import templates

log = structlog.get_logger("postvak.http")

# The last resort, when even the error template cannot be rendered.
_BARE_500 = (
    '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Postvak</title></head>'
    "<body><main><h1>Er ging iets mis – Something went wrong</h1>"
    '<p><a href="/">Postvak</a></p></main></body></html>'
)


def is_api_path(path: str) -> bool:
    """Paths that machines call (the sender API, providers' callbacks): they get problems, not pages."""
    return path == "/api" or path.startswith(("/api/", "/callbacks/"))


def error_page(request: Request, status_code: int) -> Response:
    """The page of an HTTP status without a page of its own (400, 413, 500 …), in the visitor's language."""
    return templates.TemplateResponse(
        request, "problem.html", {"problem": None, "status": status_code}, status_code=status_code
    )


def too_large(request: Request, problem: PayloadTooLarge) -> Response:
    """413: a form (or anything) over the body limit. Raised while the body is read, so wherever a
    route reads its form: in a dependency, or in FastAPI's own parsing of Form() parameters."""
    if is_api_path(request.url.path):
        return problem_response(request, problem)
    return error_page(request, 413)


def too_large_cause(exc: HTTPException) -> PayloadTooLarge | None:
    """FastAPI turns any failure to read a Form() body into a 400; the body limit is one of them."""
    cause = exc.__cause__
    return cause if isinstance(cause, PayloadTooLarge) else None


class ServerErrors:
    """Answers an exception that no handler took with a 500 page (or a problem under /api/).

    Starlette's own ServerErrorMiddleware sits outside every middleware, so its answer would lack
    the security headers: this one sits just inside SecurityHeaders. The traceback goes to the log
    (plain, through the log's masking), never to the client, and the exception is not raised on:
    the server would print its own copy of the traceback, past the log's masking.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        finished = False

        async def watched(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if finished and status >= 500:
                return  # answered with an error already, by a handler that logged it (the API's)
            log.error("unhandled error", method=scope.get("method"), path=scope["path"], exc_info=exc)
            if status == 0:
                await _answer(scope, receive, send)


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        if is_api_path(scope["path"]):
            response = problem_response(request, InternalError("something went wrong; retrying is safe"))
        else:
            response = error_page(request, 500)
    except Exception as exc:  # the error page itself failed (a template, the settings)
        log.error("the error page failed", path=scope["path"], exc_info=exc)
        response = HTMLResponse(_BARE_500, status_code=500)
    await response(scope, receive, send)
