"""Builds the /api/v1 application: routers, problem handlers, OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from postvak.api.problems import log, problem_response
from postvak.api.v1 import attachments, events, message_types, messages, webhook_endpoints
from postvak.api.v1.docs import add_docs
from postvak.api.v1.openapi import build_openapi
from postvak.errors import InternalError, MethodNotAllowed, NotFound, Problem, ValidationFailed
from postvak.kit.ratelimit import RateLimiter
from postvak.kit.validation import describe_errors
from postvak.messages.schemas import MessageBatchIn, MessageIn
from postvak.runtime import Runtime
from postvak.senders.schemas import MessageTypeSettingIn
from postvak.webhooks.schemas import WebhookEndpointIn


def build_api(runtime: Runtime) -> FastAPI:
    api = FastAPI(openapi_url="/openapi.json", docs_url=None, redoc_url=None, root_path_in_servers=False)
    api.state.runtime = runtime
    api.state.rate_limiter = RateLimiter(
        runtime.settings.sender_rate_per_second, runtime.settings.sender_rate_burst
    )
    for module in (messages, attachments, events, message_types, webhook_endpoints):
        api.include_router(module.router)
    add_docs(api)

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
        log.error("unhandled error", path=request.url.path, exc_info=exc)
        return problem_response(request, InternalError("something went wrong; retrying is safe"))

    schema_cache: dict = {}

    def openapi() -> dict:
        if not schema_cache:
            schema_cache.update(
                build_openapi(
                    api,
                    runtime.settings.base_url,
                    [MessageIn, MessageBatchIn, MessageTypeSettingIn, WebhookEndpointIn],
                )
            )
        return schema_cache

    api.openapi = openapi
    return api
