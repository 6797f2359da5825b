"""Security headers on every response: a strict CSP, HSTS, nosniff, no caching of citizen pages."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
# What a route sets itself on an answer that may show messages, so no browser or proxy stores it.
NO_STORE = {"Cache-Control": "no-store"}
# The sender API's documentation page (Swagger UI from our own files) is a page like the others;
# only Swagger UI's stylesheet draws its icons as data: images.
API_DOCS_PATH = "/api/v1/docs"
API_DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("img-src 'self'", "img-src 'self' data:")

_EVERYWHERE = {
    "strict-transport-security": HSTS,
    "x-content-type-options": "nosniff",
    # Not "no-referrer": with it, browsers send `Origin: null` on same-origin form posts, and
    # the Origin check against cross-site forms could no longer tell them apart. same-origin
    # still sends nothing to other sites (the pay and respond links in messages).
    "referrer-policy": "same-origin",
}
_PAGES = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_API_DOCS_PAGE = {**_PAGES, "content-security-policy": API_DOCS_CONTENT_SECURITY_POLICY}


class SecurityHeaders:
    """Pure ASGI middleware, so it also covers responses of mounted apps and error handlers.

    The sender API's answers (/api/) are JSON and get no page headers, except its documentation
    page; everything that is not a static asset or the API is a citizen page or an answer
    carrying messages, and is never stored by a browser or proxy (Cache-Control: no-store).
    Headers a route set itself are left alone.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        is_api = path == "/api" or path.startswith("/api/")
        is_static = path.startswith("/static/")
        page_headers = _page_headers(path, is_api=is_api)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _EVERYWHERE.items():
                    headers.setdefault(name, value)
                for name, value in page_headers.items():
                    headers.setdefault(name, value)
                if not is_api and not is_static:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _page_headers(path: str, *, is_api: bool) -> dict[str, str]:
    if path == API_DOCS_PATH:
        return _API_DOCS_PAGE
    return {} if is_api else _PAGES
