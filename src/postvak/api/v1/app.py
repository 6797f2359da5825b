"""Builds the /api/v1 application: routers, problem handlers, OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI

from postvak.api.v1 import (
    attachments,
    events,
    message_types,
    messages,
    reachability,
    statements,
    webhook_endpoints,
)
from postvak.api.v1.docs import add_docs
from postvak.api.v1.openapi import build_openapi
from postvak.citizens.schemas import ReachabilityCheckIn
from postvak.kit.ratelimit import RateLimiter
from postvak.messages.schemas import MessageBatchIn, MessageIn
from postvak.runtime import Runtime
from postvak.senders.schemas import MessageTypeSettingIn
from postvak.web.problems import install_api_handlers
from postvak.webhooks.schemas import WebhookEndpointIn


def build_api(runtime: Runtime) -> FastAPI:
    api = FastAPI(openapi_url="/openapi.json", docs_url=None, redoc_url=None, root_path_in_servers=False)
    api.state.runtime = runtime
    api.state.rate_limiter = RateLimiter(
        runtime.settings.sender_rate_per_second, runtime.settings.sender_rate_burst
    )
    for module in (messages, attachments, events, message_types, webhook_endpoints, reachability, statements):
        api.include_router(module.router)
    add_docs(api)
    install_api_handlers(api)

    schema_cache: dict = {}

    def openapi() -> dict:
        if not schema_cache:
            schema_cache.update(
                build_openapi(
                    api,
                    runtime.settings.base_url,
                    [MessageIn, MessageBatchIn, MessageTypeSettingIn, WebhookEndpointIn, ReachabilityCheckIn],
                )
            )
        return schema_cache

    api.openapi = openapi
    return api
