"""Assembles the HTML side: every audience's pages, the problem-type pages, health, static files; the
security headers, problem handlers and log-in redirects around them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from postvak.runtime import Runtime
from postvak.web import language
from postvak.web.citizen import (
    folders,
    inbox,
    letters,
    login,
    passkeys,
    reauth,
    settings,
    settings_contact,
    totp,
)
from postvak.web.citizen.session import SESSION_COOKIE, LoginRequired, ReauthenticationRequired
from postvak.web.csrf import FormRejected
from postvak.web.i18n import templates
from postvak.web.problems import ServerErrors, install_web_handlers, problem_type_page
from postvak.web.return_to import remember_letter
from postvak.web.security import SecurityHeaders

# The citizen's pages; the sender portal's and the operators' will follow them here.
CITIZEN_PAGES = (login, inbox, letters, folders, settings, settings_contact, totp, passkeys, reauth)


def build_web(runtime: Runtime) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime

    for page in CITIZEN_PAGES:
        app.include_router(page.router)
    app.include_router(language.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(ServerErrors)  # inside SecurityHeaders: a 500 page carries them too
    app.add_middleware(SecurityHeaders)
    install_web_handlers(app)

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
        return RedirectResponse(reauth.confirm_password_location(exc.back), status_code=303)

    @app.exception_handler(FormRejected)
    async def form_rejected(request: Request, exc: FormRejected):
        return templates.TemplateResponse(request, "forbidden.html", {}, status_code=403)

    app.get("/problems/{slug}", response_class=HTMLResponse)(problem_type_page)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
