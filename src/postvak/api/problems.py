"""Renders every Problem as application/problem+json; the one handler for API errors."""

from __future__ import annotations

import orjson
import structlog
from fastapi import Request
from fastapi.responses import Response

from postvak.errors import Problem

log = structlog.get_logger("postvak.api")


def problem_response(request: Request, problem: Problem) -> Response:
    base_url = request.app.state.runtime.settings.base_url
    body = problem.to_dict(base_url, request.url.path)
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers,
    )
