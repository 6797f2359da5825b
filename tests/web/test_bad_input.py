"""Odd input in every citizen form: huge fields, control and bidirectional characters, NULs, lone
surrogates, invalid UTF-8 and percent-encoding, forged CSRF tokens, ids that are not ids, calendar
edges. Each answers an exact status and page: the form again with its problem, a 4xx page, or the
redirect of a harmless no-op. Never a 500, never a partial change.

No citizen form takes a date: the calendar's edges reach the pages through the letters' due dates
(the last test). Lone surrogates cannot arrive through a form: browsers percent-encode UTF-8, and
the server decodes what is not UTF-8 into U+FFFD (or Latin-1 for raw bytes), so they are sent here
as the bytes a client would send.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select, update

from postvak.auth import credentials
from postvak.auth.models import WebSession
from postvak.citizens import service as citizens
from postvak.citizens.models import Citizen, EmailAddress
from postvak.citizens.rules import NOT_AN_EMAIL
from postvak.inbox import service as inbox
from postvak.inbox.models import Folder, InboxItem
from postvak.inbox.rules import folder_name_problem
from postvak.messages.models import Message
from postvak.web.i18n import translate
from tests.support.citizens import ORIGIN, csrf_token_in, make_citizen, sign_in
from tests.support.letters import letter

MIB = 1024 * 1024
# No page holds these as they are, not even a refused value shown again in its form.
UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORM = "application/x-www-form-urlencoded"
FOLDER_TOO_LONG = folder_name_problem("m" * 61, [])


def nl(text: str) -> str:
    return translate("nl", text)


# Pages by their heading (in Dutch, the default language).
LOG_IN = nl("Log in to your Postvak")
SECOND_FACTOR = nl("Confirm it is you")
ACTIVATE = nl("Activate your Postvak")
ACTIVATE_CODE = nl("Enter the code")
SETTINGS = nl("Settings")
NEW_APP = nl("Set up your authenticator app")
FOLDERS = nl("My folders")
INBOX = nl("Inbox")
CONFIRM_PASSWORD = nl("Confirm your password")
FORBIDDEN = nl("This form was not accepted")
NOT_FOUND = nl("We cannot find this")
NO_PAGE = nl("We cannot find this page")
TOO_LARGE = nl("That is more than we can accept")
BAD_REQUEST = nl("That did not work")


@dataclass(frozen=True)
class Case:
    """One odd request. `form` fields (or a raw `body`) may name {csrf}, {folder} and {letter}; the
    answer is `status` with the page headed `page`, or a redirect to `location`."""

    name: str
    path: str
    status: int
    page: str | None = None
    location: str | None = None
    form: dict[str, str | list[str]] | None = None
    body: bytes | None = None
    method: str = "POST"
    stage: str = "full"  # "login" (the log-in form), "password", "inactive", "full"
    pending: str | None = None  # "email" or "totp": a code or a new app waiting
    alert: str | None = None  # the form's problem, as the page shows it

    def __str__(self) -> str:
        return self.name


def ok(name: str, path: str, location: str, **fields) -> Case:
    """A request that is harmless as it is: it ends in the redirect it would always end in."""
    return Case(name, path, 303, location=location, **fields)


def log_in(name: str, status: int, page: str, *, body: bytes | None = None, **form: str) -> Case:
    return Case(name, "/", status, page, form=None if body else form, body=body, stage="login")


def code(name: str, status: int, page: str, value: str, **form: str) -> Case:
    return Case(name, "/login/second-factor", status, page, form={"code": value, **form}, stage="password")


def activate(name: str, path: str, status: int, page: str, **fields) -> Case:
    return Case(name, path, status, page, stage="inactive", **fields)


HUGE = "x" * (2 * MIB)
ME = {"username": "{username}"}
PASSKEY_NAME = nl("A passkey's name cannot contain control characters.")
FOLDER_NAME = nl("A folder name cannot contain control characters.")
CHOOSE = nl("Choose Nederlands or English.")
ARCHIVED = "/inbox?notice=archive&count=1"
CONFIRMED = "/settings?notice=password-confirmed"
CASES = [
    # --- log in: the password ------------------------------------------------------------------
    log_in("login-nul-username", 401, LOG_IN, username="jan\x00@example.nl", password="x"),
    log_in("login-esc-bidi-username", 401, LOG_IN, username="\x1b[2J\u202ejan@example.nl", password="x"),
    log_in("login-long-username", 401, LOG_IN, username="a" * 5000 + "@example.nl", password="x"),
    log_in("login-nul-password", 401, LOG_IN, **ME, password="correct\x00horse"),
    log_in("login-huge-password", 413, TOO_LARGE, **ME, password=HUGE),
    log_in("login-oversized-password", 401, LOG_IN, **ME, password="é" * 600),
    log_in("login-wrong-csrf", 403, FORBIDDEN, **ME, password="{password}", csrf_token="forged"),
    log_in("login-no-csrf", 403, FORBIDDEN, body=b"username=a&password=b"),
    log_in(
        "login-invalid-utf8-escapes", 401, LOG_IN, body=b"username=%ff%fe%fd&password=%c3&csrf_token={csrf}"
    ),
    log_in("login-raw-bytes", 401, LOG_IN, body=b"username=\xff\xfe\x00&password=\x80&csrf_token={csrf}"),
    log_in("login-broken-percent", 401, LOG_IN, body=b"username=%zz%&password=%%%&csrf_token={csrf}"),
    log_in(
        "login-lone-surrogate", 401, LOG_IN, body=b"username=%ed%a0%80&password=%ed%b0%80&csrf_token={csrf}"
    ),
    log_in("login-repeated-fields", 401, LOG_IN, body=b"username=a&username=b&password=c&csrf_token={csrf}"),
    # --- log in: the second factor -----------------------------------------------------------
    code("code-nul", 401, SECOND_FACTOR, "12\x0034"),
    code("code-huge-number", 401, SECOND_FACTOR, "1" * 100_000),
    code("code-fullwidth-digits", 401, SECOND_FACTOR, "１２３４５６"),
    code("code-arabic-digits", 401, SECOND_FACTOR, "١٢٣٤٥٦"),
    code("code-bidi", 401, SECOND_FACTOR, "\u202e654321"),
    code("code-wrong-csrf", 403, FORBIDDEN, "123456", csrf_token="x"),
    code("code-over-the-limit", 413, TOO_LARGE, HUGE),
    # --- activation ----------------------------------------------------------------------------
    activate("activate-nul-address", "/activate", 422, ACTIVATE, form={"email": "jan\x00@example.nl"}),
    activate("activate-bidi-address", "/activate", 422, ACTIVATE, form={"email": "jan@exa\u202emple.nl"}),
    activate("activate-long-address", "/activate", 422, ACTIVATE, form={"email": "j" * 300 + "@example.nl"}),
    activate(
        "activate-code-nul",
        "/activate/verify",
        401,
        ACTIVATE_CODE,
        form={"code": "\x00" * 6},
        pending="email",
    ),
    activate(
        "activate-code-esc", "/activate/verify", 401, ACTIVATE_CODE, form={"code": "\x1b[6n"}, pending="email"
    ),
    # --- settings: e-mail, phone, language, digest -----------------------------------------------
    Case(
        "email-nul",
        "/settings/emails",
        422,
        SETTINGS,
        form={"email": "x\x00@example.nl"},
        alert=nl(NOT_AN_EMAIL),
    ),
    Case(
        "email-bidi",
        "/settings/emails",
        422,
        SETTINGS,
        form={"email": "x@ex\u202e.nl"},
        alert=nl(NOT_AN_EMAIL),
    ),
    Case("email-huge", "/settings/emails", 413, TOO_LARGE, form={"email": HUGE}),
    ok("email-code-nul", "/settings/emails/verify", "/settings#email", form={"code": "\x00"}),
    Case("phone-nul", "/settings/phone", 422, SETTINGS, form={"phone": "+316\x0012345678"}),
    Case("phone-bidi", "/settings/phone", 422, SETTINGS, form={"phone": "+31612345678\u202e"}),
    Case("phone-fullwidth", "/settings/phone", 422, SETTINGS, form={"phone": "＋３１６１２３４５６７８"}),
    Case("phone-huge", "/settings/phone", 422, SETTINGS, form={"phone": "6" * 100_000}),
    Case("language-nul", "/settings/language", 422, SETTINGS, form={"language": "en\x00"}, alert=CHOOSE),
    Case("language-missing", "/settings/language", 422, SETTINGS, body=b"csrf_token={csrf}", alert=CHOOSE),
    Case(
        "language-bad-utf8",
        "/settings/language",
        422,
        SETTINGS,
        body=b"csrf_token={csrf}&language=%ff",
        alert=CHOOSE,
    ),
    Case("language-huge", "/settings/language", 413, TOO_LARGE, form={"language": HUGE}),
    ok(
        "digest-nul-is-off",
        "/settings/daily-digest",
        "/settings?notice=digest-off#digest",
        form={"digest": "on\x00"},
    ),
    ok(
        "digest-last-wins",
        "/settings/daily-digest",
        "/settings?notice=digest-off#digest",
        form={"digest": ["on", "-"]},
    ),
    Case(
        "digest-wrong-csrf",
        "/settings/daily-digest",
        403,
        FORBIDDEN,
        form={"digest": "on", "csrf_token": "{csrf}x"},
    ),
    Case("sms-no-csrf", "/settings/sms-notifications", 403, FORBIDDEN, form={"sms": "on", "csrf_token": ""}),
    # --- settings: the authenticator app and passkeys -------------------------------------------
    Case("totp-code-nul", "/settings/totp", 401, NEW_APP, form={"code": "\x00\x00\x00"}, pending="totp"),
    Case(
        "totp-code-bidi", "/settings/totp", 401, NEW_APP, form={"code": "\u2066123456\u2069"}, pending="totp"
    ),
    Case("totp-code-huge", "/settings/totp", 413, TOO_LARGE, form={"code": HUGE}, pending="totp"),
    Case("totp-new-wrong-csrf", "/settings/totp/new", 403, FORBIDDEN, form={"csrf_token": "nope"}),
    Case(
        "passkey-bidi",
        "/settings/passkeys",
        422,
        SETTINGS,
        form={"name": "a\u202eb", "credential": ""},
        alert=PASSKEY_NAME,
    ),
    Case(
        "passkey-nul",
        "/settings/passkeys",
        422,
        SETTINGS,
        form={"name": "\x00", "credential": ""},
        alert=PASSKEY_NAME,
    ),
    Case(
        "passkey-c1",
        "/settings/passkeys",
        422,
        SETTINGS,
        form={"name": "a\x9bb", "credential": ""},
        alert=PASSKEY_NAME,
    ),
    Case(
        "passkey-garbage-answer",
        "/settings/passkeys",
        400,
        SETTINGS,
        form={"name": "Laptop", "credential": "\x00{not json"},
        alert=nl("The passkey could not be added. Try again, or use another passkey."),
    ),
    Case(
        "passkey-huge-answer",
        "/settings/passkeys",
        413,
        TOO_LARGE,
        form={"name": "Laptop", "credential": HUGE},
    ),
    Case("passkey-delete-nul-id", "/settings/passkeys/%00/delete", 404, NOT_FOUND, form={}),
    Case("email-delete-not-an-id", "/settings/emails/..%2F..%2Fx/delete", 404, NO_PAGE, form={}),
    Case("email-delete-odd-id", "/settings/emails/%1b%5B2J/delete", 404, NOT_FOUND, form={}),
    Case("options-wrong-csrf", "/settings/passkeys/options", 403, FORBIDDEN, form={"csrf_token": "\x00"}),
    # --- folders -------------------------------------------------------------------------------
    Case("folder-nul", "/folders", 422, FOLDERS, form={"name": "Belasting\x00"}, alert=FOLDER_NAME),
    Case("folder-esc", "/folders", 422, FOLDERS, form={"name": "\x1b]0;pwned\x07"}, alert=FOLDER_NAME),
    Case("folder-bidi", "/folders", 422, FOLDERS, form={"name": "factuur\u202efdp.exe"}, alert=FOLDER_NAME),
    Case("folder-long", "/folders", 422, FOLDERS, form={"name": "m" * 61}, alert=nl(FOLDER_TOO_LONG)),
    Case("folder-huge", "/folders", 413, TOO_LARGE, form={"name": HUGE}),
    Case(
        "folder-rename-nul",
        "/folders/{folder}/rename",
        422,
        FOLDERS,
        form={"name": "\x00"},
        alert=FOLDER_NAME,
    ),
    Case("folder-rename-not-an-id", "/folders/%E2%80%AE/rename", 404, NOT_FOUND, form={"name": "Nieuw"}),
    Case("folder-delete-not-an-id", "/folders/%00/delete", 404, NOT_FOUND, form={}),
    # --- the inbox's actions ---------------------------------------------------------------------
    ok("action-unknown", "/letters/actions", "/inbox", form={"action": "archive\x00", "ids": "{letter}"}),
    ok(
        "action-ids-not-ids",
        "/letters/actions",
        ARCHIVED[:-1] + "0",
        form={"action": "archive", "ids": ["\x00", "'"]},
    ),
    Case(
        "action-move-nowhere",
        "/letters/actions",
        404,
        NOT_FOUND,
        form={"action": "move:\x00", "ids": "{letter}"},
    ),
    ok(
        "action-back-elsewhere",
        "/letters/actions",
        ARCHIVED,
        form={"action": "archive", "ids": "{letter}", "back": "//x"},
    ),
    ok(
        "action-back-crlf",
        "/letters/actions",
        ARCHIVED,
        form={"action": "archive", "ids": "{letter}", "back": "/\r\nA: b"},
    ),
    Case(
        "action-too-many-fields",
        "/letters/actions",
        400,
        BAD_REQUEST,
        form={"action": "bin", "ids": ["x"] * 1000},
    ),
    Case("confirm-not-an-id", "/letters/%00/confirm", 404, NOT_FOUND, form={}),
    Case(
        "confirm-wrong-csrf", "/letters/{letter}/confirm", 403, FORBIDDEN, form={"csrf_token": "{csrf}\u202e"}
    ),
    Case("bin-empty-no-csrf", "/bin/empty", 403, FORBIDDEN, body=b""),
    # --- the password again ----------------------------------------------------------------------
    Case(
        "reauth-nul",
        "/confirm-password",
        401,
        CONFIRM_PASSWORD,
        form={"password": "\x00", "next": "/settings"},
    ),
    Case("reauth-huge", "/confirm-password", 413, TOO_LARGE, form={"password": HUGE}),
    ok(
        "reauth-odd-next",
        "/confirm-password",
        CONFIRMED,
        form={"password": "{password}", "next": "/\x00\u202e//evil"},
    ),
    # --- odd addresses and query strings ----------------------------------------------------------
    Case(
        "inbox-odd-query",
        "/inbox?q=%00%1b%E2%80%AE&sort=%00&box=%ff&sender=x&page=-1",
        200,
        INBOX,
        method="GET",
    ),
    Case("inbox-huge-page", "/inbox?page=99999999999999999999999999", 200, INBOX, method="GET"),
    Case("inbox-long-search", "/inbox?q=" + "ab " * 3000, 200, INBOX, method="GET"),
    Case("settings-odd-notice", "/settings?notice=%1b%5B2J", 200, SETTINGS, method="GET"),
    ok("language-back-elsewhere", "/language?lang=en%00&back=//evil.example", "/", method="GET"),
    Case("letter-not-an-id", "/letters/%ED%A0%80", 404, NOT_FOUND, method="GET"),
    Case("attachment-odd-position", "/letters/{letter}/attachments/%C2%B2", 404, NOT_FOUND, method="GET"),
]


@dataclass
class World:
    """What a case's request needs: a signed-in (or half-signed-in) citizen, a folder, a letter."""

    username: str = ""
    password: str = ""
    csrf: str = ""
    folder: str = ""
    letter: str = ""
    citizen_id: object = None
    before: dict = field(default_factory=dict)

    def fill(self, text: str) -> str:
        for name in ("csrf", "folder", "letter", "username", "password"):
            text = text.replace("{" + name + "}", getattr(self, name))
        return text


@pytest.fixture
def world(request, runtime, web_client, sender, bsns) -> World:
    case: Case = request.param
    citizen = make_citizen(runtime, bsns[0], activated=case.stage != "inactive")
    found = World(citizen.username, citizen.password, citizen_id=citizen.id)
    if case.stage == "login":
        found.csrf = csrf_token_in(web_client.get("/").text)
        return found
    stage = "password" if case.stage == "password" else "full"
    found.csrf = sign_in(web_client, runtime, citizen, stage=stage)
    if case.stage != "full":
        if case.pending == "email":
            with runtime.database.unit_of_work() as session:
                citizens.request_email_code(session, citizen_id=citizen.id, address=citizen.username)
        return found
    answer = web_client.post("/api/v1/messages", json=letter(citizen.bsn, "ODD-1"), headers=sender.headers)
    assert answer.status_code == 201, answer.text
    found.letter = answer.json()["id"]
    with runtime.database.unit_of_work() as session:
        found.folder = str(inbox.create_folder(session, mailbox_id=citizen.mailbox_id, name="Belasting"))
        if case.pending == "totp":
            credentials.start_totp_replacement(session, keyring=runtime.keyring, citizen_id=citizen.id)
    found.before = snapshot(runtime, citizen.id)
    return found


def snapshot(runtime, citizen_id) -> dict:
    """What a refused request must leave as it was."""
    with runtime.database.unit_of_work(write=False) as session:
        account = session.get(Citizen, citizen_id)
        return {
            "account": (account.language, account.phone, account.daily_digest, account.totp_sealed),
            "addresses": sorted(session.scalars(select(EmailAddress.address)).all()),
            "folders": sorted(session.scalars(select(Folder.name)).all()),
            "items": sorted(
                (str(item.message_id), item.archived, item.binned_at is None, item.folder_id is None)
                for item in session.scalars(select(InboxItem))
            ),
        }


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has no <h1>"
    return found.group(1).strip()


@pytest.mark.parametrize("world", CASES, ids=str, indirect=True)
def test_odd_input_gets_an_exact_answer(runtime, web_client, world, request):
    case: Case = request.node.callspec.params["world"]
    path = world.fill(case.path)
    if case.method == "GET":
        answer = web_client.get(path, follow_redirects=False)
    elif case.body is not None:
        body = case.body.replace(b"{csrf}", world.csrf.encode())
        answer = web_client.post(path, content=body, headers={"Content-Type": FORM}, follow_redirects=False)
    else:
        form = {"csrf_token": "{csrf}", **case.form}
        data = {
            k: [world.fill(v) for v in v] if isinstance(v, list) else world.fill(v) for k, v in form.items()
        }
        answer = web_client.post(path, data=data, follow_redirects=False)

    assert answer.status_code == case.status, answer.text[:500]
    if case.location is not None:
        assert answer.headers["location"] == case.location
        return
    assert answer.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in answer.headers and answer.headers["cache-control"] == "no-store"
    assert heading(answer.text) == case.page
    assert not UNSHOWABLE.findall(answer.text), "the page shows a control character as it is"
    if case.alert:
        assert 'role="alert"' in answer.text and case.alert in answer.text
    if case.status >= 400 and world.before:
        assert snapshot(runtime, world.citizen_id) == world.before, "a refused request changed something"


def test_an_empty_token_never_matches_a_missing_one(web_client):
    """No log-in cookie (so no token to expect) and an empty csrf_token: still refused."""
    answer = web_client.post("/", data={"username": "a", "password": "b", "csrf_token": ""})
    assert answer.status_code == 403 and heading(answer.text) == FORBIDDEN


def test_there_are_at_least_forty_odd_inputs():
    assert len(CASES) >= 40 and len({case.name for case in CASES}) == len(CASES)


# --- the calendar's edges, through letters stored before the API checked them ---------------------


@pytest.mark.parametrize(
    ("due", "shown"),
    [
        (date(1, 1, 2), "2 januari 1"),
        (date(9999, 12, 31), "31 december 9999"),
        (date(2028, 2, 29), "29 februari 2028"),
        (date(1970, 1, 1), "1 januari 1970"),
    ],
)
def test_a_letter_due_at_a_calendar_edge_is_shown(runtime, web_client, csrf, citizen, sender, due, shown):
    sent = letter(citizen.bsn, f"EDGE-{due}")
    answer = web_client.post("/api/v1/messages", json=sent, headers=sender.headers)
    letter_id = uuid.UUID(answer.json()["id"])
    with runtime.database.unit_of_work() as session:
        session.execute(update(Message).where(Message.id == letter_id).values(due_date=due))
    for path in ("/inbox", "/inbox?sort=due", f"/letters/{letter_id}", f"/letters/{letter_id}/print"):
        page = web_client.get(path)
        assert page.status_code == 200, path
    assert shown in web_client.get(f"/letters/{letter_id}").text


def test_the_session_of_a_refused_form_is_left_alone(runtime, web_client, csrf, citizen):
    web_client.post("/settings/language", data={"csrf_token": csrf, "language": HUGE})
    with runtime.database.unit_of_work(write=False) as session:
        query = select(WebSession.revoked_at).where(WebSession.citizen_id == citizen.id)
        assert session.scalar(query) is None
    assert web_client.get("/settings").status_code == 200
    assert web_client.headers["origin"] == ORIGIN
