"""Security of the citizen web: headers, the route table behind the second factor, CSRF and Origin."""

from __future__ import annotations

import re

import pytest
from fastapi import Depends
from fastapi.responses import PlainTextResponse
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from postvak.app import build_app
from postvak.web.citizen.session import SESSION_COOKIE, require_citizen_form
from postvak.web.security import CONTENT_SECURITY_POLICY
from tests.support.citizens import ORIGIN, csrf_token_in, log_in_with_password, sign_in

# The log-in steps (the second factor by code or passkey), and what works before logging in:
# health, the language switch (a cookie).
PUBLIC = (
    *("/", "/login/second-factor", "/login/passkey/options", "/login/passkey", "/logout"),
    *("/health", "/language"),
)
PUBLIC_PREFIXES = ("/problems/", "/static/", "/api/")
DUMMY = {"str": "0192d1c4-52a4-7a4e-8d1e-2c5f0c6a9b11", "path": "x/y", "int": "1"}
PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


@pytest.fixture
def app(runtime):
    app = build_app(runtime)

    @app.post("/_probe")
    def change_something(checked=Depends(require_citizen_form)):  # noqa: B008
        citizen, form = checked
        return PlainTextResponse(f"changed {form.get('what')}")

    return app


def citizen_routes(app) -> list[tuple[str, str]]:
    """(method, path with dummy values) of every route that is not public, in included routers too."""
    found = []
    for route in iter_route_contexts(app.routes):
        if not route.methods:  # mounts: /static, /api/v1
            continue
        if route.path in PUBLIC or route.path.startswith(PUBLIC_PREFIXES):
            continue
        path = PARAM.sub(lambda m: DUMMY.get(m.group(2) or "str", DUMMY["str"]), route.path)
        found.extend((method, path) for method in sorted(route.methods - {"HEAD", "OPTIONS"}))
    return found


# --- headers ---------------------------------------------------------------------------------


def test_pages_carry_a_strict_policy(web_client):
    headers = web_client.get("/").headers
    csp = headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == ["'self'"] and directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert (
        headers["strict-transport-security"].startswith("max-age=")
        and int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31536000
    )
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"


def test_every_citizen_page_is_never_cached(runtime, web_client, citizen):
    sign_in(web_client, runtime, citizen, stage="password")
    for path in ("/", "/login/second-factor", "/problems/not-found", "/no-such-page"):
        assert web_client.get(path).headers["cache-control"] == "no-store", path
    assert web_client.post("/logout", data={}).headers["cache-control"] == "no-store"


def test_the_api_keeps_its_own_headers_but_gets_nosniff_and_hsts(client):
    answer = client.get("/api/v1/openapi.json")
    assert "content-security-policy" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" in answer.headers


def test_the_api_documentation_page_carries_a_strict_policy_too(client):
    answer = client.get("/api/v1/docs")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    directives = {d.split()[0]: d.split()[1:] for d in answer.headers["content-security-policy"].split("; ")}
    # Only images may also be data: URLs (Swagger UI's stylesheet draws its icons so).
    assert directives["img-src"] == ["'self'", "data:"]
    assert {**directives, "img-src": ["'self'"]} == {
        d.split()[0]: d.split()[1:] for d in CONTENT_SECURITY_POLICY.split("; ")
    }
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script>" not in answer.text and "//" not in answer.text  # no inline script, no other host
    assets = ("docs/swagger-ui/swagger-ui-bundle.js", "docs/swagger-ui/swagger-ui.css", "docs/assets/docs.js")
    for asset in assets:
        assert f'"{asset}"' in answer.text
        assert client.get(f"/api/v1/{asset}").status_code == 200, asset


# --- the second factor is never skipped ------------------------------------------------------


def test_the_route_table_is_checked(app):
    routes = citizen_routes(app)
    assert {("GET", "/activate"), ("POST", "/activate/verify"), ("POST", "/_probe")} <= set(routes)
    assert not any(path in PUBLIC for _, path in routes)


def test_a_password_only_session_reaches_no_citizen_route(runtime, app, citizen):
    """Built from the route table, so that a route added later cannot slip through."""
    browser = TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    answer = log_in_with_password(browser, citizen.username, citizen.password)
    assert answer.headers["location"] == "/login/second-factor"
    csrf = csrf_token_in(browser.get("/login/second-factor").text)
    for method, path in citizen_routes(app):
        data = {"csrf_token": csrf} if method != "GET" else None
        answer = browser.request(method, path, data=data, follow_redirects=False)
        assert answer.status_code in (303, 401, 403, 404, 405), (method, path, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["location"] == "/login/second-factor", (method, path)


def test_no_session_reaches_no_citizen_route(app):
    browser = TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    for method, path in citizen_routes(app):
        answer = browser.request(method, path, data={} if method != "GET" else None, follow_redirects=False)
        assert answer.status_code in (303, 401, 403, 404, 405), (method, path, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["location"] == "/", (method, path)


# --- CSRF and Origin -------------------------------------------------------------------------


@pytest.fixture
def signed_in(runtime, app, citizen):
    browser = TestClient(app, base_url=ORIGIN)
    return browser, sign_in(browser, runtime, citizen)


def test_a_form_with_its_token_from_our_own_page_is_accepted(signed_in):
    browser, csrf = signed_in
    answer = browser.post("/_probe", data={"csrf_token": csrf, "what": "x"}, headers={"Origin": ORIGIN})
    assert answer.status_code == 200 and answer.text == "changed x"
    referer_only = browser.post("/_probe", data={"csrf_token": csrf}, headers={"Referer": ORIGIN + "/inbox"})
    assert referer_only.status_code == 200


@pytest.mark.parametrize(
    "form, headers",
    [
        ({}, {"Origin": ORIGIN}),
        ({"csrf_token": "forged"}, {"Origin": ORIGIN}),
        (None, {"Origin": "https://evil.example"}),
        (None, {"Origin": "https://testserver:8443"}),  # another port is another origin
        (None, {"Origin": "null"}),
        (None, {"Referer": "https://evil.example/testserver"}),
        (None, {}),
    ],
    ids=["no-token", "wrong-token", "cross-site", "other-port", "null-origin", "cross-referer", "no-origin"],
)
def test_a_forged_or_cross_site_form_is_refused_with_403(signed_in, form, headers):
    browser, csrf = signed_in
    answer = browser.post("/_probe", data={"csrf_token": csrf} if form is None else form, headers=headers)
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"] and "niet aangenomen" in answer.text


def test_logout_and_second_factor_check_csrf_too(runtime, app, citizen):
    browser = TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    sign_in(browser, runtime, citizen, stage="password")
    assert browser.post("/login/second-factor", data={"code": "123456"}).status_code == 403
    assert browser.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert browser.post("/logout", data={}, headers={"Origin": "https://evil.example"}).status_code == 403


def test_the_log_in_form_is_protected_against_cross_site_posts(app, citizen):
    browser = TestClient(app, base_url=ORIGIN)
    csrf = csrf_token_in(browser.get("/").text)
    form = {"username": citizen.username, "password": citizen.password}
    assert browser.post("/", data=form, headers={"Origin": ORIGIN}).status_code == 403  # no token
    cross = browser.post("/", data={**form, "csrf_token": csrf}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    fresh = TestClient(app, base_url=ORIGIN)  # a token without its cookie is not enough
    assert fresh.post("/", data={**form, "csrf_token": csrf}, headers={"Origin": ORIGIN}).status_code == 403
    assert SESSION_COOKIE not in browser.cookies and SESSION_COOKIE not in fresh.cookies
