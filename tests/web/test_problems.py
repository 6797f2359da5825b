"""Answers when a request fails outside a route's own handling: a body over the limit (413), and any
exception nobody handled (500): a page, or a problem under /api/, with the security headers, the
traceback only in the log (masked), never in the answer."""

from __future__ import annotations

import re

import pytest
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from postvak.app import build_app
from postvak.citizens.models import Citizen
from postvak.kit.logging import BSN_MASK
from tests.support.bsns import take_bsns
from tests.support.citizens import ORIGIN, csrf_token_in

BSN = take_bsns(1, start=900)[0]
TWO_MIB = 2 * 1024 * 1024
PAGE_HEADERS = {
    "content-security-policy",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
}


def in_english(client: TestClient) -> None:
    """The language switch's cookie (the jar files host `testserver` as `testserver.local`)."""
    client.cookies.set("lang", "en", domain="testserver.local", path="/")


def heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found, "the page has no <h1>"
    return found.group(1).strip()


def assert_a_page_with_headers(answer, status: int, title: str) -> None:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert set(answer.headers) >= PAGE_HEADERS, PAGE_HEADERS - set(answer.headers)
    assert answer.headers["cache-control"] == "no-store"
    assert heading(answer.text) == title
    assert "Traceback" not in answer.text and "postvak/" not in answer.text


# --- a body over the limit ----------------------------------------------------------------------


def test_an_oversized_settings_form_answers_413_changing_nothing(runtime, web_client, csrf, citizen, capsys):
    form = {"csrf_token": csrf, "language": "en" * (TWO_MIB // 2)}
    answer = web_client.post("/settings/language", data=form)
    assert_a_page_with_headers(answer, 413, "Dat is meer dan we kunnen aannemen")
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Citizen, citizen.id).language == "nl"
    err = capsys.readouterr().err
    assert "status=413" in err and "Traceback" not in err and "unhandled" not in err


def test_an_oversized_log_in_form_answers_413(web_client):
    """The log-in route reads its fields as Form() parameters: FastAPI's own parsing meets the limit."""
    token = csrf_token_in(web_client.get("/").text)
    answer = web_client.post("/", data={"csrf_token": token, "username": "a" * TWO_MIB, "password": "x"})
    assert_a_page_with_headers(answer, 413, "Dat is meer dan we kunnen aannemen")


def test_a_chunked_body_over_the_limit_answers_413_in_the_visitors_language(web_client, csrf):
    def chunks():
        yield f"csrf_token={csrf}&language=".encode()
        for _ in range(40):
            yield b"x" * 65536

    in_english(web_client)
    answer = web_client.post(
        "/settings/language", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert "content-length" not in answer.request.headers  # sent chunked, counted as it came
    assert_a_page_with_headers(answer, 413, "That is more than we can accept")


def test_a_form_just_under_the_limit_is_read_as_usual(runtime, web_client, csrf):
    padding = runtime.settings.max_request_bytes - 200
    form = {"csrf_token": csrf, "language": "en", "pad": "x" * padding}
    answer = web_client.post("/settings/language", data=form, follow_redirects=False)
    assert answer.status_code == 303


# --- an exception nobody handled ----------------------------------------------------------------


@pytest.fixture
def failing(monkeypatch):
    """The inbox's navigation counts fail with a message that holds a BSN and an escape sequence."""

    def boom(*_args, **_kwargs):
        raise RuntimeError(f"database gone for {BSN}\x1b]0;pwned\x07")

    monkeypatch.setattr("postvak.inbox.service.count_messages", boom)


def test_an_unexpected_error_answers_a_500_page_with_the_headers(web_client, csrf, failing, capsys):
    answer = web_client.get("/inbox")
    assert_a_page_with_headers(answer, 500, "Er ging iets mis")
    assert BSN not in answer.text and "database gone" not in answer.text
    err = capsys.readouterr().err
    assert "unhandled error" in err and "Traceback (most recent call last):" in err
    assert f"RuntimeError: database gone for {BSN_MASK}\\x1b]0;pwned\\x07" in err
    assert err.count("unhandled error") == 1 and "status=500" in err


def test_the_500_page_is_in_the_visitors_language(web_client, csrf, failing):
    in_english(web_client)
    answer = web_client.get("/inbox")
    assert_a_page_with_headers(answer, 500, "Something went wrong")


def test_an_unexpected_error_in_a_form_post_answers_the_500_page_too(web_client, csrf, monkeypatch):
    def boom(*_args, **_kwargs):
        raise LookupError("nothing")

    monkeypatch.setattr("postvak.citizens.service.set_daily_digest", boom)
    answer = web_client.post("/settings/daily-digest", data={"csrf_token": csrf, "digest": "on"})
    assert_a_page_with_headers(answer, 500, "Er ging iets mis")


def test_when_even_the_error_page_fails_a_bare_page_has_the_headers(web_client, csrf, failing, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the template is gone")

    monkeypatch.setattr("postvak.web.problems.error_page", broken)
    answer = web_client.get("/inbox")
    assert answer.status_code == 500 and set(answer.headers) >= PAGE_HEADERS
    assert "Er ging iets mis – Something went wrong" in answer.text and "template" not in answer.text


@pytest.fixture
def app_with_faults(runtime):
    """The app with two routes that fail: one on the web side before answering, one in the API."""
    app = build_app(runtime)

    @app.get("/_stream")
    def stream():
        def body():
            yield b"<!doctype html><p>half"
            raise RuntimeError(f"cut off at {BSN}")

        return StreamingResponse(body(), media_type="text/html")

    api = next(route.app for route in app.routes if getattr(route, "path", "") == "/api/v1")

    @api.get("/_boom")
    def boom():
        raise RuntimeError(f"api failure for {BSN}")

    return app


def test_an_unexpected_error_in_the_api_answers_a_problem_with_the_headers(app_with_faults, capsys):
    with TestClient(app_with_faults, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/_boom")
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/problems/internal-error") and BSN not in answer.text
    assert {"strict-transport-security", "x-content-type-options"} <= set(answer.headers)
    err = capsys.readouterr().err
    assert err.count("unhandled error") == 1  # the API's handler logged it; nobody logs it twice
    assert f"api failure for {BSN_MASK}" in err


def test_an_unexpected_error_in_a_providers_callback_answers_a_problem(runtime, client, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("gateway report broke us")

    runtime.settings = runtime.settings.model_copy(update={"sms_callback_secret": "s3cret"})
    monkeypatch.setattr("postvak.api.callbacks.report_is_authentic", boom)
    answer = client.post("/callbacks/sms", content=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert "gateway" not in answer.text


def test_an_error_after_the_answer_began_is_logged_and_goes_no_further(app_with_faults, capsys):
    with TestClient(app_with_faults, base_url=ORIGIN) as client:  # would raise what reached the server
        answer = client.get("/_stream")
    assert answer.status_code == 200 and answer.text.startswith("<!doctype html><p>half")
    err = capsys.readouterr().err
    assert "unhandled error" in err and f"RuntimeError: cut off at {BSN_MASK}" in err


# --- other statuses without a page of their own ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/no/such/page", 404, "Deze pagina kunnen we niet vinden"),
        ("DELETE", "/inbox", 405, "Er ging iets mis"),
        ("GET", "/api", 404, "Deze pagina kunnen we niet vinden"),
    ],
)
def test_other_errors_are_pages_with_the_headers(web_client, method, path, status, title):
    answer = web_client.request(method, path)
    if path.startswith("/api"):
        assert answer.status_code == status
    else:
        assert_a_page_with_headers(answer, status, title)
