"""The HTML side: the start page, the problem-type pages that problem `type` URIs point to, health."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from postvak.api.problems import problem_response
from postvak.errors import PROBLEMS, InternalError, NotFound
from postvak.runtime import Runtime
from postvak.web import auth_routes, inbox_routes

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def build_web(runtime: Runtime) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime

    app.include_router(auth_routes.router)
    app.include_router(inbox_routes.router)

    @app.get("/problems/{slug}", response_class=HTMLResponse)
    async def problem_page(request: Request, slug: str):
        problem = PROBLEMS.get(slug)
        if problem is None:
            return templates.TemplateResponse(request, "problem.html", {"problem": None}, status_code=404)
        return templates.TemplateResponse(request, "problem.html", {"problem": problem})

    @app.exception_handler(HTTPException)
    async def not_found(request: Request, exc: HTTPException):
        # A path the API mount does not match (e.g. an id with a line break) is still an API path.
        if request.url.path.startswith("/api/"):
            problem = NotFound("no such resource") if exc.status_code == 404 else InternalError("bad request")
            return problem_response(request, problem)
        return templates.TemplateResponse(
            request, "problem.html", {"problem": None, "status": exc.status_code}, status_code=exc.status_code
        )

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
