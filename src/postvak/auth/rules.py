"""Pure rules of logging in and of credentials: passwords, sessions, TOTP, second factors, throttling."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from postvak.kit.text import text_problem

# --- passwords -------------------------------------------------------------------------------

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 1024  # far above the 128 characters asked for; argon2 hashes it whole
MIN_DISTINCT_CHARS = 5


def normalise_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B advises: the same passphrase typed on two keyboards verifies."""
    return unicodedata.normalize("NFKC", password)


def password_problem(password: str, *, username: str | None, common: Collection[str]) -> str | None:
    """Why `password` may not be chosen, or None when it may.

    No composition rules (they make passwords worse); length, a list of common passwords,
    and the obvious: not the username, not one or two characters over and over.
    """
    password = normalise_password(password)
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password has at least {MIN_PASSWORD_CHARS} characters"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return f"a password has at most {MAX_PASSWORD_BYTES} bytes: as many plain letters, fewer with accents"
    folded = password.casefold()
    if username and folded in {username.casefold(), username.casefold().split("@")[0]}:
        return "a password may not be the username"
    if len(set(folded)) < MIN_DISTINCT_CHARS:
        return "a password needs more variety than a few characters repeated"
    if common_form(password) in common:
        return "this password is on the list of passwords that attackers try first"
    return None


def common_form(password: str) -> str:
    """How a password is compared with the common list: case and spaces do not make it different."""
    return "".join(normalise_password(password).casefold().split())


def is_oversized(password: str) -> bool:
    return len(password.encode()) > MAX_PASSWORD_BYTES


# --- sessions --------------------------------------------------------------------------------

IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
SECOND_FACTOR_TIMEOUT = timedelta(minutes=10)  # from the password step to the second factor
TOUCH_INTERVAL = timedelta(seconds=30)  # last_seen_at is written at most this often
STAGE_PASSWORD = "password"  # noqa: S105 - a stage name, not a secret
STAGE_FULL = "full"


def new_session_token() -> str:
    """256 random bits; the cookie holds it, the table only its hash."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """A fast hash is right: the token is 256 random bits and cannot be guessed offline."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_alive(
    *, stage: str, created_at: datetime, last_seen_at: datetime, revoked_at: datetime | None, now: datetime
) -> bool:
    """Not revoked, used within the idle timeout, younger than the absolute timeout.

    A session that passed only the password must finish the second factor quickly.
    """
    if revoked_at is not None:
        return False
    lifetime = ABSOLUTE_TIMEOUT if stage == STAGE_FULL else SECOND_FACTOR_TIMEOUT
    return now - last_seen_at < IDLE_TIMEOUT and now - created_at < lifetime


def needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    """Writing last_seen_at on every page view would turn reads into writes; every 30 s is enough."""
    return now - last_seen_at >= TOUCH_INTERVAL


# A sensitive change (a new passkey, another authenticator app) comes soon after the citizen proved
# who they are: a session left open on a shared computer, or a stolen cookie, is not enough for it.
REAUTHENTICATION_WINDOW = timedelta(minutes=10)


def recently_authenticated(authenticated_at: datetime | None, now: datetime) -> bool:
    """The full log-in, or the password given again, was less than REAUTHENTICATION_WINDOW ago."""
    return authenticated_at is not None and timedelta(0) <= now - authenticated_at < REAUTHENTICATION_WINDOW


# --- TOTP ------------------------------------------------------------------------------------

TOTP_PERIOD_SECONDS = 30
TOTP_WINDOW = 1  # one step either side: clocks drift, people type slowly
MIN_TOTP_SECRET_BITS = 128  # RFC 4226: at least 128 bits, 160 recommended
NEW_TOTP_LIFETIME = timedelta(minutes=30)  # time to add a new secret to an app and type its first code


def totp_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_PERIOD_SECONDS


def totp_candidate_steps(now: datetime, last_step: int) -> list[int]:
    """The time steps whose code is accepted now: the current one first, never one used before.

    Refusing every step up to the last accepted one makes a code single-use, even a code
    seen over the citizen's shoulder a moment ago.
    """
    current = totp_step(now)
    steps = [current, current - TOTP_WINDOW, current + TOTP_WINDOW]
    return [step for step in steps if step > last_step]


def totp_matching_step(secret: str, code: str, steps: list[int]) -> int | None:
    """The first of `steps` whose code (of `secret`) is `code`, compared in constant time; else None."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for step in steps:
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_secret_problem(secret: str) -> str | None:
    try:
        raw = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        return "a TOTP secret is base32 (letters A-Z and digits 2-7)"
    if len(raw) * 8 < MIN_TOTP_SECRET_BITS:
        return f"a TOTP secret has at least {MIN_TOTP_SECRET_BITS} bits (26 base32 characters)"
    return None


def group_secret(secret: str, size: int = 4) -> str:
    """A TOTP secret typed by hand into an app: ABCD EFGH IJKL … is easier to copy without mistakes."""
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


# --- second factors: what may be added and removed -------------------------------------------

MAX_PASSKEYS = 10
MAX_PASSKEY_NAME = 60


def passkey_name_problem(name: str, existing: list[str]) -> str | None:
    if not name:
        return "Give the passkey a name, so that you can tell your passkeys apart."
    if len(name) > MAX_PASSKEY_NAME:
        return "A passkey's name has at most 60 characters."
    if text_problem(name):  # also bidirectional controls: "phone\u202eenohp" would show reversed
        return "A passkey's name cannot contain control characters."
    if name.casefold() in {other.casefold() for other in existing}:
        return "You already have a passkey with this name."
    return None


def passkey_limit_problem(count: int) -> str | None:
    if count >= MAX_PASSKEYS:
        return "You can have at most 10 passkeys. Remove one first."
    return None


def factor_removal_problem(*, has_totp: bool, passkeys: int, removing: str) -> str | None:
    """The second factor is always on: what is left after removing one must still be a second factor."""
    left = (passkeys - (removing == "passkey")) + (has_totp and removing != "totp")
    if left < 1:
        return "This is your last second factor. Add another one before you remove it."
    return None


# --- throttling ------------------------------------------------------------------------------

THROTTLE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class ThrottlePolicy:
    threshold: int  # attempts counted within the window at which blocking starts
    first_block: timedelta
    longest_block: timedelta


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    window_started_at: datetime
    blocked_until: datetime | None


# One address guessing many usernames: an office behind one NAT shares it, so it gets more room.
PER_IP = ThrottlePolicy(threshold=20, first_block=timedelta(minutes=1), longest_block=timedelta(hours=1))
# One address guessing one username: blocked hard and soon; the real user is elsewhere, or waits.
PER_USERNAME_FROM_IP = ThrottlePolicy(
    threshold=5, first_block=timedelta(minutes=1), longest_block=timedelta(hours=1)
)
# One username guessed from many addresses: only short, capped pauses, so that the real user
# is slowed down at worst and never locked out for long.
PER_USERNAME = ThrottlePolicy(
    threshold=10, first_block=timedelta(seconds=15), longest_block=timedelta(minutes=2)
)


@dataclass(frozen=True)
class AttemptKeys:
    """The throttle keys of one log-in attempt (see throttle_keys)."""

    address: tuple[str, ThrottlePolicy]
    username: tuple[str, ThrottlePolicy]
    username_from_address: tuple[str, ThrottlePolicy]

    @property
    def all(self) -> list[tuple[str, ThrottlePolicy]]:
        return [self.address, self.username, self.username_from_address]


def throttle_keys(username: str, ip: str | None) -> AttemptKeys:
    """The throttle keys of one log-in attempt and the policy of each.

    The rule, per key (see `count_attempt`): every attempt counts until it succeeds; at
    `threshold` counted attempts within 15 minutes the key is blocked, and every further
    attempt after a block doubles the block, up to `longest_block`. A blocked key answers
    "try again later" without looking at the password or code. Quiet for 15 minutes after
    the last block, and the count starts again.

    Three keys, so that an attacker is stopped without locking the real user out:
    - the IP address (an IPv6 address counts as its /64, which one client usually owns)
      stops one address trying many usernames;
    - the username from that address stops one address guessing one username after 5 tries
      — and only that address: the real user logging in from elsewhere is not affected;
    - the username from anywhere slows a distributed guess to a few tries a minute with
      pauses of 15 seconds up to 2 minutes, a delay the real user can live with; the second
      factor is what keeps a guessed password out.
    Keys never hold the username or address in clear: they are hashed (usernames are
    e-mail addresses, personal data) — except the IP, which the log-in history shows anyway.
    Unknown usernames get keys exactly like known ones, so throttling reveals nothing. Stored keys
    keep their "account:" and "account-ip:" prefixes.
    """
    digest = _digest("account", username.casefold())
    network = client_network(ip)
    return AttemptKeys(
        address=(f"ip:{network}", PER_IP),
        username=(f"account:{digest}", PER_USERNAME),
        username_from_address=(f"account-ip:{_digest(digest, network)}", PER_USERNAME_FROM_IP),
    )


def client_network(ip: str | None) -> str:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return (ip or "unknown")[:64]
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def is_blocked(state: ThrottleState | None, now: datetime) -> bool:
    return state is not None and state.blocked_until is not None and state.blocked_until > now


def count_attempt(state: ThrottleState | None, policy: ThrottlePolicy, now: datetime) -> ThrottleState:
    """Count one more attempt (counted before it is checked, so parallel guesses cannot race past)."""
    if state is None or _window_over(state, now):
        failures, started, blocked_until = 1, now, None
    else:
        failures, started, blocked_until = state.failures + 1, state.window_started_at, state.blocked_until
    if failures >= policy.threshold:
        doublings = min(failures - policy.threshold, 20)
        block = min(policy.first_block * 2**doublings, policy.longest_block)
        blocked_until = max(blocked_until or now, now + block)
    return ThrottleState(failures, started, blocked_until)


def forgive_attempt(
    current: ThrottleState, *, before: ThrottleState | None, counted: ThrottleState
) -> ThrottleState:
    """Undo one counted attempt that turned out to be right: `before` and `counted` are the states
    its counting saw and wrote. The block is restored only if nobody else has changed it since."""
    blocked_until = current.blocked_until
    if blocked_until == counted.blocked_until:
        blocked_until = before.blocked_until if before is not None else None
    return ThrottleState(max(0, current.failures - 1), current.window_started_at, blocked_until)


def throttles_quiet_since(now: datetime) -> datetime:
    """A throttle whose window began and whose block ended at or before this moment counts for
    nothing any more (its next attempt starts a new window), so it can be forgotten."""
    return now - THROTTLE_WINDOW


def _window_over(state: ThrottleState, now: datetime) -> bool:
    quiet_since = max(state.window_started_at, state.blocked_until or state.window_started_at)
    return now - quiet_since >= THROTTLE_WINDOW


# E-mailed codes cost the receiving address an e-mail each: 5 per 15 minutes, then pauses.
EMAIL_CODES = ThrottlePolicy(threshold=5, first_block=timedelta(minutes=15), longest_block=timedelta(hours=1))


def email_code_key(citizen_id: object) -> tuple[str, ThrottlePolicy]:
    return f"email-code:{citizen_id}", EMAIL_CODES


# Each SMS costs money and wakes a phone: the same pace as e-mailed codes.
def phone_code_key(citizen_id: object) -> tuple[str, ThrottlePolicy]:
    return f"phone-code:{citizen_id}", EMAIL_CODES


# --- the devices in the session list and log-in history --------------------------------------

_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str | None) -> tuple[str | None, str | None]:
    """(browser, system) as people name them, e.g. ("Firefox", "Windows"); None for what is unknown.

    Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", Android also
    says "Linux" and an iPhone says "like Mac OS X".
    """
    text = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    return browser, system
