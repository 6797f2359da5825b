"""The HTML side: citizen pages, problem-type pages, health; security headers and log-in redirects."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from postvak.api.problems import problem_response
from postvak.errors import PROBLEMS, InternalError, NotFound, PayloadTooLarge
from postvak.runtime import Runtime
from postvak.web import auth_routes, inbox_routes, passkey_routes, reauth_routes, settings_routes
from postvak.web.deps import SESSION_COOKIE, FormRejected, LoginRequired, ReauthenticationRequired
from postvak.web.error_pages import ServerErrors, error_page, too_large, too_large_cause
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
    app.include_router(reauth_routes.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(ServerErrors)  # inside SecurityHeaders: a 500 page carries them too
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        response = RedirectResponse(exc.location, status_code=303)
        if exc.location == "/":
            remember_letter(request, response)
        if exc.location == "/" and SESSION_COOKIE in request.cookies:
            response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
        return response

    @app.exception_handler(ReauthenticationRequired)
    async def reauthentication_required(request: Request, exc: ReauthenticationRequired):
        # A fetch() (the passkey options) follows this too; passkey.js then opens the page itself.
        return RedirectResponse(reauth_routes.confirm_password_location(exc.back), status_code=303)

    @app.exception_handler(FormRejected)
    async def form_rejected(request: Request, exc: FormRejected):
        return templates.TemplateResponse(request, "forbidden.html", {}, status_code=403)

    @app.get("/problems/{slug}", response_class=HTMLResponse)
    async def problem_page(request: Request, slug: str):
        problem = PROBLEMS.get(slug)
        if problem is None:
            return templates.TemplateResponse(request, "problem.html", {"problem": None}, status_code=404)
        return templates.TemplateResponse(request, "problem.html", {"problem": problem})

    @app.exception_handler(PayloadTooLarge)
    async def payload_too_large(request: Request, exc: PayloadTooLarge):
        return too_large(request, exc)

    @app.exception_handler(HTTPException)
    async def not_found(request: Request, exc: HTTPException):
        if (cause := too_large_cause(exc)) is not None:
            return too_large(request, cause)
        # A path the API mount does not match (e.g. an id with a line break) is still an API path.
        if request.url.path.startswith("/api/"):
            problem = NotFound("no such resource") if exc.status_code == 404 else InternalError("bad request")
            return problem_response(request, problem)
        return error_page(request, exc.status_code)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
