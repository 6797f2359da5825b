"""The HTML side: citizen pages, problem-type pages, health; security headers and log-in redirects."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from postvak.api.problems import problem_response
from postvak.errors import PROBLEMS, InternalError, NotFound
from postvak.runtime import Runtime
from postvak.web import auth_routes, inbox_routes, passkey_routes, settings_routes
from postvak.web.deps import SESSION_COOKIE, FormRejected, LoginRequired
from postvak.web.i18n import templates
from postvak.web.return_to import remember_letter
from postvak.web.security import SecurityHeaders


def build_web(runtime: Runtime) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime

    app.include_router(auth_routes.router)
    app.include_router(inbox_routes.router)
    app.include_router(settings_routes.router)
    app.include_router(passkey_routes.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        response = RedirectResponse(exc.location, status_code=303)
        if exc.location == "/":
            remember_letter(request, response)
        if exc.location == "/" and SESSION_COOKIE in request.cookies:
            response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
        return response

    @app.exception_handler(FormRejected)
    async def form_rejected(request: Request, exc: FormRejected):
        return templates.TemplateResponse(request, "forbidden.html", {}, status_code=403)

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
