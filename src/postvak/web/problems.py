"""Renders every problem, the one place that does: application/problem+json for machines (the sender
API, providers' callbacks), a page in the visitor's language for people; never a traceback. The apps
install their handlers from here; the security headers come from the middleware around both
(web/security.py)."""

from __future__ import annotations

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postvak.errors import (
    PROBLEMS,
    IntegrityFailure,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    ValidationFailed,
)
from postvak.kit.validation import describe_errors
from postvak.runtime import runtime_of
from postvak.web.i18n import templates
from postvak.web.security import NO_STORE

# One logger per side that meets the failure, so that operators can tell them apart in the log.
log = structlog.get_logger("postvak.http")
api_log = structlog.get_logger("postvak.api")
web_log = structlog.get_logger("postvak.web")

# The last resort, when even the error template cannot be rendered.
_BARE_500 = (
    '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Postvak</title></head>'
    "<body><main><h1>Er ging iets mis – Something went wrong</h1>"
    '<p><a href="/">Postvak</a></p></main></body></html>'
)


def is_api_path(path: str) -> bool:
    """Paths that machines call (the sender API, providers' callbacks): they get problems, not pages."""
    return path == "/api" or path.startswith(("/api/", "/callbacks/"))


# --- for machines: the RFC 9457 document ------------------------------------------------------


def problem_response(request: Request, problem: Problem) -> Response:
    """The problem as application/problem+json, with the headers it carries (Retry-After …)."""
    body = problem.to_dict(runtime_of(request).settings.base_url, request.url.path)
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers,
    )


# --- for people: pages ------------------------------------------------------------------------


def error_page(request: Request, status_code: int) -> Response:
    """The page of an HTTP status without a page of its own (400, 413, 500 …), in the visitor's language."""
    return templates.TemplateResponse(
        request, "problem.html", {"problem": None, "status": status_code}, status_code=status_code
    )


async def problem_type_page(request: Request, slug: str) -> Response:
    """What a problem type's URI serves: the page that explains it (404 for a slug we do not have)."""
    problem = PROBLEMS.get(slug)
    if problem is None:
        return templates.TemplateResponse(request, "problem.html", {"problem": None}, status_code=404)
    return templates.TemplateResponse(request, "problem.html", {"problem": problem})


# The problems a citizen's page about a message (or folder) answers with a page of its own: which text
# letter_problem.html shows, and the status.
_LETTER_PAGES: dict[type[Problem], tuple[str, int]] = {
    NotFound: ("not_found", 404),  # also someone else's message
    IntegrityFailure: ("integrity", 500),
    ValidationFailed: ("bad_request", 400),
}
LETTER_PROBLEMS = tuple(_LETTER_PAGES)


def letter_problem_page(request: Request, problem: Problem) -> Response:
    kind, status_code = next(page for cls, page in _LETTER_PAGES.items() if isinstance(problem, cls))
    if kind == "integrity":
        web_log.error("letter failed its integrity check", path=request.url.path)
    return templates.TemplateResponse(
        request, "letter_problem.html", {"kind": kind}, status_code=status_code, headers=NO_STORE
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


# --- the handlers the apps install ------------------------------------------------------------


def install_api_handlers(api: FastAPI) -> None:
    """The sender API answers every failure with a problem document."""

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # Locations start with where the fault is ("query", "path"): the parameter's name says enough.
        detail = describe_errors(exc.errors(), skip=1, whole="request")
        return problem_response(request, ValidationFailed(detail))

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if exc.status_code == 404:
            return problem_response(request, NotFound("no such resource"))
        if exc.status_code == 405:
            allowed = MethodNotAllowed("see the OpenAPI document for this path", headers=exc.headers)
            return problem_response(request, allowed)
        return problem_response(request, InternalError("the request could not be handled"))

    @api.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(request, exc)

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        api_log.error("unhandled error", path=request.url.path, exc_info=exc)
        return problem_response(request, InternalError("something went wrong; retrying is safe"))


def install_web_handlers(app: FastAPI) -> None:
    """The web app: a body over its limit and any HTTP error as a page, or as a problem under /api/.

    Exceptions that no handler takes are answered by ServerErrors, a middleware the app adds itself.
    """

    @app.exception_handler(PayloadTooLarge)
    async def _payload_too_large(request: Request, exc: PayloadTooLarge):
        return too_large(request, exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if (cause := too_large_cause(exc)) is not None:
            return too_large(request, cause)
        # A path the API mount does not match (e.g. an id with a line break) is still an API path.
        if request.url.path.startswith("/api/"):
            problem = NotFound("no such resource") if exc.status_code == 404 else InternalError("bad request")
            return problem_response(request, problem)
        return error_page(request, exc.status_code)


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
