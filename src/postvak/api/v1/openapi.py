"""The OpenAPI 3.1 document as the Dutch API Design Rules want it, and response helpers."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from postvak import API_VERSION, __version__
from postvak.errors import InternalError, MethodNotAllowed, Problem, ProblemOut

_VERSION_HEADER = {"$ref": "#/components/headers/API-Version"}


def json_response(model: BaseModel, status: int) -> Response:
    body = orjson.dumps(model.model_dump(mode="json", by_alias=True))
    return Response(body, status_code=status, media_type="application/json")


class _OtherMethods:
    """Answers 405 naming every method of a path. An ASGI app rather than a function, so that Starlette
    routes every method to it."""

    def __init__(self, methods: tuple[str, ...]) -> None:
        self.allowed = ", ".join(methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise MethodNotAllowed(f"this path takes {self.allowed}", headers={"Allow": self.allowed})


def other_methods(path: str, *methods: str) -> Route:
    """A route answering 405 for `path` with an Allow header naming all its `methods`: Starlette would
    name only those of the first route that matches the path. Append it after the path's own routes;
    it is not an operation of the API."""
    return Route(path, _OtherMethods(methods), include_in_schema=False)


def problem_responses(*problems: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for the problems a route can answer (and 500, which any can), by status."""
    by_status: dict[int, list[type[Problem]]] = {}
    for problem in (*problems, InternalError):
        by_status.setdefault(problem.status, []).append(problem)
    return {
        status: {
            "description": "; ".join(f"`{p.slug}`: {p.explanation}" for p in group),
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {p.slug: {"value": _example(p)} for p in group},
                }
            },
        }
        for status, group in sorted(by_status.items())
    }


def _example(problem: type[Problem]) -> dict[str, Any]:
    return {
        "type": f"https://postvak.example.nl/problems/{problem.slug}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.explanation,
        "instance": "/api/v1/messages",
    }


def request_body(model: type[BaseModel], examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A JSON request body documented from `model` with named examples, for routes that parse the body
    themselves."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema, "examples": examples}},
        }
    }


def build_openapi(app: FastAPI, base_url: str, body_models: list[type[BaseModel]]) -> dict[str, Any]:
    doc = get_openapi(
        title="Postvak sender API",
        version=API_VERSION,
        openapi_version="3.1.0",
        summary="Deliver letters to citizens' mailboxes and follow what happens to them.",
        description=(
            "Government organisations deliver letters through this API. Authenticate with "
            "`Authorization: Bearer <apiKey>`. Errors are RFC 9457 problems whose `type` ends "
            "in a stable slug. Server version " + __version__ + "."
        ),
        routes=app.routes,
        contact={"name": "Postvak", "email": "postvak@example.nl", "url": "https://postvak.example.nl"},
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        servers=[{"url": f"{base_url.rstrip('/')}/api/v1"}],
    )
    doc["servers"] = [{"url": f"{base_url.rstrip('/')}/api/v1"}]  # not FastAPI's mount path
    doc["tags"] = [
        {"name": "messages", "description": "Deliver letters and read their status."},
        {"name": "attachments", "description": "Upload a PDF once, reference it from many letters."},
        {"name": "events", "description": "The status events of the sender's letters, in order."},
        {
            "name": "message-types",
            "description": "Settings per messageType, such as when an unread letter gets its reminder.",
        },
        {
            "name": "webhook-endpoints",
            "description": "URLs that receive the status events as they happen, signed (Standard Webhooks).",
        },
        {
            "name": "reachability",
            "description": "Would letters sent now reach their recipients digitally? Yes or no, no more.",
        },
        {"name": "statements", "description": "A month's letters, e-mails, SMS and prints, and their cost."},
    ]
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in [*body_models, ProblemOut]:
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[schema.get("title", model.__name__) if model is ProblemOut else model.__name__] = schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components["headers"] = {
        "API-Version": {
            "description": "The full semantic version of this API.",
            "required": True,
            "schema": {"type": "string", "example": API_VERSION},
        }
    }
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "The organisation's API key."}
    }
    doc["security"] = [{"apiKey": []}]
    for operations in doc["paths"].values():
        for operation in operations.values():
            _tidy_responses(operation["responses"])
    return doc


def _tidy_responses(responses: dict[str, Any]) -> None:
    if "application/json" in responses.get("422", {}).get("content", {}):
        del responses["422"]  # FastAPI's own validation answer; ours is a problem document
    for status, response in responses.items():
        if status.startswith(("2", "3")):
            response.setdefault("headers", {})["API-Version"] = _VERSION_HEADER
        if status == "429":
            response.setdefault("headers", {})["Retry-After"] = {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer"},
            }
        if status == "401":
            response.setdefault("headers", {})["WWW-Authenticate"] = {
                "description": "Bearer.",
                "schema": {"type": "string"},
            }
