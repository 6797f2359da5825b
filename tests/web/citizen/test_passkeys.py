"""Passkeys through the real routes: added in settings, used as the second factor, never someone else's."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from postvak.auth.models import LoginEvent, Passkey
from postvak.auth.rules import PER_USERNAME_FROM_IP
from tests.support.authenticator import SoftAuthenticator, b64url
from tests.support.citizens import (
    ORIGIN,
    csrf_token_in,
    log_in_with_password,
    login_with_totp,
    make_citizen,
    session_cookie,
    sign_in,
)


@pytest.fixture
def relying_party(runtime):
    """The tests' browser is at https://testserver: the relying party must be that origin."""
    runtime.settings = runtime.settings.model_copy(update={"base_url": ORIGIN})
    return runtime


@pytest.fixture
def other(runtime, bsns):
    return make_citizen(runtime, bsns[1])


def add_passkey(client, name: str = "Laptop") -> tuple[SoftAuthenticator, object]:
    """The settings form's ceremony, as passkey.js does it; returns the authenticator and the answer."""
    csrf = csrf_token_in(client.get("/settings").text)
    options = client.post("/settings/passkeys/options", data={"csrf_token": csrf})
    assert options.status_code == 200 and options.headers["content-type"].startswith("application/json")
    authenticator = SoftAuthenticator("testserver", ORIGIN)
    form = {"csrf_token": csrf, "name": name, "credential": authenticator.create(options.text)}
    return authenticator, client.post("/settings/passkeys", data=form, follow_redirects=False)


def passkey_log_in(client, handle, authenticator: SoftAuthenticator):
    """Password, then the passkey form of the second-factor page; returns the last answer (not followed)."""
    answer = log_in_with_password(client, handle.username, handle.password)
    assert answer.headers["location"] == "/login/second-factor"
    page = client.get("/login/second-factor")
    assert 'data-passkey="login"' in page.text
    csrf = csrf_token_in(page.text)
    options = client.post("/login/passkey/options", data={"csrf_token": csrf})
    assert options.status_code == 200, options.text
    form = {"csrf_token": csrf, "credential": authenticator.get(options.text)}
    return client.post("/login/passkey", data=form, follow_redirects=False)


def passkeys_of(runtime, handle) -> list[Passkey]:
    with runtime.database.unit_of_work(write=False) as session:
        return list(session.scalars(select(Passkey).where(Passkey.citizen_id == handle.id)))


def events_of(runtime, handle) -> list[str]:
    with runtime.database.unit_of_work(write=False) as session:
        query = select(LoginEvent.kind).where(LoginEvent.citizen_id == handle.id).order_by(LoginEvent.id)
        return list(session.scalars(query))


def test_a_passkey_added_in_settings_logs_in_as_the_second_factor(relying_party, web_client, citizen):
    runtime = relying_party
    sign_in(web_client, runtime, citizen)
    authenticator, added = add_passkey(web_client, "  My   phone ")
    assert added.status_code == 303 and added.headers["location"].startswith("/settings?notice=passkey-added")
    [stored] = passkeys_of(runtime, citizen)
    assert stored.name == "My phone" and stored.credential_id == authenticator.credential_id
    assert "My phone" in web_client.get("/settings").text

    web_client.cookies.clear()
    answer = passkey_log_in(web_client, citizen, authenticator)
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"
    assert web_client.get("/settings").status_code == 200  # a full session
    [used] = passkeys_of(runtime, citizen)
    assert used.sign_count == authenticator.counter and used.last_used_at is not None
    assert events_of(runtime, citizen)[-2:] == ["password-ok", "passkey-ok"]


def test_the_session_id_changes_when_the_passkey_is_accepted(relying_party, web_client, citizen):
    sign_in(web_client, relying_party, citizen)
    authenticator, _ = add_passkey(web_client)
    web_client.cookies.clear()
    log_in_with_password(web_client, citizen.username, citizen.password)
    password_stage = session_cookie(web_client)
    page = web_client.get("/login/second-factor")
    csrf = csrf_token_in(page.text)
    options = web_client.post("/login/passkey/options", data={"csrf_token": csrf}).text
    web_client.post("/login/passkey", data={"csrf_token": csrf, "credential": authenticator.get(options)})
    assert session_cookie(web_client) not in (None, password_stage)


def test_another_citizens_passkey_is_refused(relying_party, web_client, citizen, other):
    runtime = relying_party
    sign_in(web_client, runtime, citizen)
    mine, _ = add_passkey(web_client)
    web_client.cookies.clear()
    sign_in(web_client, runtime, other)
    theirs, _ = add_passkey(web_client)
    web_client.cookies.clear()

    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    options = web_client.post("/login/passkey/options", data={"csrf_token": csrf}).text
    allowed = [item["id"] for item in json.loads(options)["allowCredentials"]]
    assert allowed == [b64url(mine.credential_id)]  # the options never name another citizen's passkey
    answer = web_client.post(
        "/login/passkey", data={"csrf_token": csrf, "credential": theirs.get(options)}, follow_redirects=False
    )
    assert answer.status_code == 401 and 'role="alert"' in answer.text
    assert web_client.get("/settings", follow_redirects=False).headers["location"] == "/login/second-factor"
    assert events_of(runtime, citizen)[-1] == "passkey-failed"


def test_an_answer_is_used_once(relying_party, web_client, citizen):
    """The challenge is cleared when used: a replayed answer, or one to no challenge, is refused."""
    sign_in(web_client, relying_party, citizen)
    authenticator, _ = add_passkey(web_client)
    web_client.cookies.clear()
    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    answer = authenticator.get(web_client.post("/login/passkey/options", data={"csrf_token": csrf}).text)
    assert (
        web_client.post("/login/passkey", data={"csrf_token": csrf, "credential": answer}).status_code == 200
    )

    web_client.cookies.clear()
    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    replay = web_client.post("/login/passkey", data={"csrf_token": csrf, "credential": answer})
    assert replay.status_code == 401  # no ceremony was started in this session
    web_client.post("/login/passkey/options", data={"csrf_token": csrf})
    assert (
        web_client.post("/login/passkey", data={"csrf_token": csrf, "credential": answer}).status_code == 401
    )


def test_wrong_passkey_answers_are_throttled_like_codes(relying_party, web_client, citizen):
    sign_in(web_client, relying_party, citizen)
    add_passkey(web_client)
    web_client.cookies.clear()
    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    statuses = [
        web_client.post("/login/passkey", data={"csrf_token": csrf, "credential": "{}"}).status_code
        for _ in range(PER_USERNAME_FROM_IP.threshold + 1)
    ]
    assert statuses == [401] * PER_USERNAME_FROM_IP.threshold + [429]


def test_the_passkey_form_is_only_offered_to_citizens_with_a_passkey(relying_party, web_client, citizen):
    log_in_with_password(web_client, citizen.username, citizen.password)
    page = web_client.get("/login/second-factor")
    assert 'data-passkey="login"' not in page.text and 'name="code"' in page.text
    csrf = csrf_token_in(page.text)
    assert web_client.post("/login/passkey/options", data={"csrf_token": csrf}).status_code == 404


def test_the_passkey_forms_wait_for_the_script(relying_party, web_client, citizen):
    """Rendered hidden; passkey.js shows them only where WebAuthn works, so TOTP always remains."""
    sign_in(web_client, relying_party, citizen)
    page = web_client.get("/settings").text
    form = page[page.index('data-passkey="register"') :].split(">", 1)[0]
    assert " hidden" in form and "/static/passkey.js" in page
    add_passkey(web_client)
    web_client.cookies.clear()
    log_in_with_password(web_client, citizen.username, citizen.password)
    page = web_client.get("/login/second-factor").text
    assert " hidden" in page[page.index('data-passkey="login"') :].split(">", 1)[0]
    assert "/static/passkey.js" in page


def test_passkey_log_in_needs_a_session_waiting_for_its_second_factor(relying_party, web_client, citizen):
    assert web_client.post("/login/passkey/options", data={}).status_code == 409
    assert web_client.post("/login/passkey", data={}, follow_redirects=False).headers["location"] == "/"
    login_with_totp(web_client, citizen)
    csrf = csrf_token_in(web_client.get("/settings").text)
    assert web_client.post("/login/passkey/options", data={"csrf_token": csrf}).status_code == 409
    full = web_client.post("/login/passkey", data={"csrf_token": csrf}, follow_redirects=False)
    assert full.headers["location"] == "/inbox"


def test_passkey_log_in_checks_csrf(relying_party, web_client, citizen):
    sign_in(web_client, relying_party, citizen, stage="password")
    assert web_client.post("/login/passkey/options", data={}).status_code == 403
    assert web_client.post("/login/passkey", data={"credential": "{}"}).status_code == 403


def test_a_registration_from_another_origin_or_without_a_ceremony_is_refused(
    relying_party, web_client, citizen
):
    sign_in(web_client, relying_party, citizen)
    csrf = csrf_token_in(web_client.get("/settings").text)
    options = web_client.post("/settings/passkeys/options", data={"csrf_token": csrf}).text
    phished = SoftAuthenticator("testserver", "https://testserver.example.com")
    form = {"csrf_token": csrf, "name": "Phone", "credential": phished.create(options)}
    refused = web_client.post("/settings/passkeys", data=form)
    assert refused.status_code == 400 and 'id="passkey-error"' in refused.text
    form["credential"] = SoftAuthenticator("testserver", ORIGIN).create(options)
    assert web_client.post("/settings/passkeys", data=form).status_code == 400  # its challenge is gone
    assert passkeys_of(relying_party, citizen) == []


def test_a_passkey_needs_a_name_of_its_own(relying_party, web_client, citizen):
    sign_in(web_client, relying_party, citizen)
    _, first = add_passkey(web_client, "Phone")
    assert first.status_code == 303
    _, nameless = add_passkey(web_client, "   ")
    assert nameless.status_code == 422 and 'aria-invalid="true"' in nameless.text
    _, same = add_passkey(web_client, "PHONE")
    assert same.status_code == 422 and "al een passkey met deze naam" in same.text
    assert len(passkeys_of(relying_party, citizen)) == 1


def test_the_last_second_factor_cannot_be_removed(relying_party, web_client, citizen, other):
    runtime = relying_party
    csrf = sign_in(web_client, runtime, citizen)
    add_passkey(web_client)
    [passkey] = passkeys_of(runtime, citizen)

    # TOTP and a passkey: the app may go, as the passkey remains.
    answer = web_client.post("/settings/totp/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.headers["location"].startswith("/settings?notice=totp-removed")
    # The passkey is now the only second factor: it stays.
    refused = web_client.post(f"/settings/passkeys/{passkey.id}/delete", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "laatste tweede stap" in refused.text
    assert passkeys_of(runtime, citizen) != []
    assert f"/settings/passkeys/{passkey.id}/delete" not in refused.text  # not even offered

    # With a second passkey, one of them may go; another citizen's passkey is not found.
    add_passkey(web_client, "Security key")
    assert len(passkeys_of(runtime, citizen)) == 2
    gone = web_client.post(f"/settings/passkeys/{passkey.id}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 200 and len(passkeys_of(runtime, citizen)) == 1
    web_client.cookies.clear()
    other_csrf = sign_in(web_client, runtime, other)
    [left] = passkeys_of(runtime, citizen)
    assert (
        web_client.post(f"/settings/passkeys/{left.id}/delete", data={"csrf_token": other_csrf}).status_code
        == 404
    )
    assert len(passkeys_of(runtime, citizen)) == 1


def test_without_an_authenticator_app_a_code_does_not_log_in(relying_party, web_client, citizen):
    csrf = sign_in(web_client, relying_party, citizen)
    authenticator, _ = add_passkey(web_client)
    web_client.post("/settings/totp/delete", data={"csrf_token": csrf})
    web_client.cookies.clear()
    assert login_with_totp(web_client, citizen).status_code == 401
    web_client.cookies.clear()
    assert passkey_log_in(web_client, citizen, authenticator).headers["location"] == "/inbox"
