"""Citizens for tests: accounts made through the service, sessions, and the real log-in form flow."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyotp
import pytest
from fastapi.testclient import TestClient

from postvak.app import build_app
from postvak.auth import passwords
from postvak.auth import repository as auth_repository
from postvak.auth import service as auth
from postvak.auth.rules import STAGE_FULL, hash_token, totp_step
from postvak.flows import activation
from postvak.kit import clock
from postvak.runtime import Runtime
from postvak.web.citizen.session import SESSION_COOKIE

PASSWORD = "correct horse battery staple 7"
ORIGIN = "https://testserver"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class CitizenHandle:
    id: uuid.UUID
    mailbox_id: uuid.UUID
    bsn: str
    username: str
    password: str
    totp_secret: str
    last_totp_step: int = field(default=0, compare=False)  # a code is accepted once: see login_with_totp

    def __repr__(self) -> str:  # never the BSN, not even in a failing assertion
        return f"CitizenHandle(id={self.id}, username={self.username!r})"


def make_citizen(
    runtime: Runtime, bsn: str, email: str | None = None, password: str = PASSWORD, activated: bool = True
) -> CitizenHandle:
    """A citizen through the activation flow, with the test run's (cheap) argon2 cost."""
    email = email or f"burger-{secrets.token_hex(4)}@example.nl"
    with runtime.database.unit_of_work() as session:
        citizen, secret = activation.register_citizen(
            session,
            keyring=runtime.keyring,
            bsn=bsn,
            email=email,
            password=password,
            activated=activated,
            hasher=passwords.hasher_for(runtime.settings),
        )
    return CitizenHandle(citizen.id, citizen.mailbox_id, bsn, citizen.username, password, secret)


def sign_in(client: TestClient, runtime: Runtime, handle: CitizenHandle, *, stage: str = STAGE_FULL) -> str:
    """A session made directly (no form flow), its cookie set on `client`; returns its CSRF token."""
    with runtime.database.unit_of_work() as session:
        token = auth.start_session(
            session, citizen_id=handle.id, stage=stage, ip="testclient", user_agent="pytest"
        )
        csrf_token = auth_repository.session_by_hash(session, hash_token(token)).csrf_token
    set_session_cookie(client, token)
    return csrf_token


def set_session_cookie(client: TestClient, token: str) -> None:
    """As the server would have set it (the cookie jar files host `testserver` as `testserver.local`)."""
    for cookie in [c for c in client.cookies.jar if c.name == SESSION_COOKIE]:
        client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local", path="/")


def session_cookie(client: TestClient) -> str | None:
    return next((c.value for c in client.cookies.jar if c.name == SESSION_COOKIE), None)


def csrf_token_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def log_in_with_password(client: TestClient, username: str, password: str):
    """GET / then POST the log-in form; returns the POST's response (not followed)."""
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 200, "the log-in form is not shown (signed in already?)"
    form = {"username": username, "password": password, "csrf_token": csrf_token_in(page.text)}
    return client.post("/", data=form, follow_redirects=False)


def totp_code(handle: CitizenHandle) -> str:
    """The code for the first time step (at the app's clock) that this handle has not used yet.

    A code is accepted once; a second log-in within the same 30 seconds uses the next step's
    code, which the server accepts (one step of clock drift either way).
    """
    step = max(totp_step(clock.now()), handle.last_totp_step + 1)
    handle.last_totp_step = step
    return pyotp.TOTP(handle.totp_secret).generate_otp(step)


def login_with_totp(client: TestClient, handle: CitizenHandle):
    """The real form flow: GET /, POST / (username, password), POST /login/second-factor (code).

    Returns the last response (not followed): a 303 to /inbox, or to /activate.
    """
    answer = log_in_with_password(client, handle.username, handle.password)
    assert answer.status_code == 303 and answer.headers["location"] == "/login/second-factor", answer.text
    page = client.get("/login/second-factor")
    form = {"code": totp_code(handle), "csrf_token": csrf_token_in(page.text)}
    return client.post("/login/second-factor", data=form, follow_redirects=False)


@pytest.fixture
def web_client(runtime: Runtime) -> Iterator[TestClient]:
    """A browser-like client: HTTPS (so the Secure session cookie is sent) and an Origin header on
    every request, as browsers send on form posts from our own pages."""
    with TestClient(build_app(runtime), base_url=ORIGIN, headers={"Origin": ORIGIN}) as client:
        yield client
