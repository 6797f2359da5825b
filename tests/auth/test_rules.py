"""The pure log-in rules: password policy, session lifetimes, TOTP steps, throttling."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.auth import rules
from postvak.auth.passwords import common_passwords

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
COMMON = common_passwords()


def problem(password: str, username: str | None = "jan@example.nl") -> str | None:
    return rules.password_problem(password, username=username, common=COMMON)


def test_twelve_characters_is_the_minimum():
    assert "at least 12" in problem("Kx9#mq2!vLp")  # 11
    assert problem("Kx9#mq2!vLpz") is None  # 12


def test_long_passphrases_are_welcome_up_to_1024_bytes():
    assert problem("paardenbloem " * 10 + "zonnig weer") is None  # 141 characters
    long = ("Twee vrolijke fietsers reden langs de Amstel " * 30)[:1024]
    assert problem(long) is None  # 1024 bytes
    assert "at most 1024 bytes" in problem(long + "!")
    assert "at most 1024 bytes" in problem("é" * 513)  # 1026 bytes: the limit is bytes, not letters


def test_common_passwords_are_refused_whatever_their_case_or_spacing():
    for password in ("wachtwoord123", "Password1234", "QWERTYUIOP123", "Welkom 123456", "1234567890123"):
        assert "list of passwords" in (problem(password) or ""), password
    assert "list of passwords" in problem("WACHTWOORD2026")


def test_the_common_list_is_generated_and_substantial():
    assert 1000 <= len(COMMON) <= 20000
    assert all(len(p) >= rules.MIN_PASSWORD_CHARS for p in COMMON)


def test_the_username_is_not_a_password():
    assert "username" in problem("Jan.Jansen@Example.nl", username="jan.jansen@example.nl")
    assert "username" in problem("janjansen1984", username="janjansen1984@example.nl")


def test_repeating_a_few_characters_is_not_a_password():
    assert "variety" in problem("abababababababab")
    assert "variety" in problem("zzzzzzzzzzzzzzzzzzzzzzzzz")


def test_unicode_is_normalised_so_the_same_passphrase_matches():
    composed, decomposed = "Crème brûlée voor één", "Cre\u0300me bru\u0302le\u0301e voor e\u0301e\u0301n"
    assert rules.normalise_password(composed) == rules.normalise_password(decomposed)


# --- sessions --------------------------------------------------------------------------------


def alive(stage: str, created: timedelta, idle: timedelta, revoked: bool = False) -> bool:
    now = T0 + created
    return rules.session_alive(
        stage=stage,
        created_at=T0,
        last_seen_at=now - idle,
        revoked_at=T0 if revoked else None,
        now=now,
    )


def test_a_full_session_ends_after_15_idle_minutes_or_8_hours():
    assert alive("full", timedelta(hours=7, minutes=59), timedelta(minutes=14, seconds=59))
    assert not alive("full", timedelta(hours=1), timedelta(minutes=15))
    assert not alive("full", timedelta(hours=8), timedelta(seconds=1))
    assert not alive("full", timedelta(minutes=1), timedelta(0), revoked=True)


def test_the_second_factor_must_follow_the_password_within_10_minutes():
    assert alive("password", timedelta(minutes=9), timedelta(minutes=1))
    assert not alive("password", timedelta(minutes=10), timedelta(0))


def test_a_sensitive_change_needs_a_log_in_or_password_of_the_last_10_minutes():
    assert rules.recently_authenticated(T0, T0)
    assert rules.recently_authenticated(T0, T0 + timedelta(minutes=9, seconds=59))
    assert not rules.recently_authenticated(T0, T0 + timedelta(minutes=10))
    assert not rules.recently_authenticated(None, T0)  # a session from before the rule
    assert not rules.recently_authenticated(T0 + timedelta(minutes=1), T0)  # a clock that went back


def test_session_tokens_are_256_random_bits_stored_as_sha256():
    token = rules.new_session_token()
    assert len(token) >= 43 and token != rules.new_session_token()
    assert len(rules.hash_token(token)) == 64 and token not in rules.hash_token(token)


# --- TOTP ------------------------------------------------------------------------------------


def test_totp_accepts_one_step_either_side_but_never_a_used_step():
    now = datetime.fromtimestamp(30 * 1000 + 5, UTC)
    assert rules.totp_candidate_steps(now, 0) == [1000, 999, 1001]
    assert rules.totp_candidate_steps(now, 999) == [1000, 1001]
    assert rules.totp_candidate_steps(now, 1000) == [1001]
    assert rules.totp_candidate_steps(now, 1001) == []


def test_totp_secrets_need_128_bits_of_base32():
    assert rules.totp_secret_problem("JBSWY3DPEHPK3PXPJBSWY3DPEH") is None  # 26 characters, 130 bits
    assert "128 bits" in rules.totp_secret_problem("JBSWY3DPEHPK3PXP")
    assert "base32" in rules.totp_secret_problem("not base32 at all!!!!!!!!!!")


# --- throttling ------------------------------------------------------------------------------


def run(policy: rules.ThrottlePolicy, attempts: int, every: timedelta = timedelta(seconds=1)):
    state, now = None, T0
    for _ in range(attempts):
        state = rules.count_attempt(state, policy, now)
        now += every
    return state, now


def test_a_key_is_blocked_at_its_threshold_and_blocks_double_up_to_a_cap():
    policy = rules.PER_USERNAME_FROM_IP
    state, now = run(policy, policy.threshold - 1)
    assert not rules.is_blocked(state, now)
    state = rules.count_attempt(state, policy, now)
    assert state.blocked_until == now + timedelta(minutes=1)
    state = rules.count_attempt(state, policy, state.blocked_until)
    assert state.blocked_until - state.window_started_at >= timedelta(minutes=2)
    for _ in range(30):
        state = rules.count_attempt(state, policy, state.blocked_until)
    blocked_from = state.blocked_until - policy.longest_block
    assert rules.is_blocked(state, blocked_from) and not rules.is_blocked(state, state.blocked_until)


def test_the_account_wide_key_only_ever_pauses_briefly():
    policy = rules.PER_USERNAME
    state, _ = run(policy, 200)
    assert policy.longest_block <= timedelta(minutes=2)
    assert state.blocked_until - T0 <= timedelta(seconds=200) + policy.longest_block


def test_quiet_for_15_minutes_after_the_last_block_and_the_count_restarts():
    policy = rules.PER_USERNAME_FROM_IP
    state, _ = run(policy, policy.threshold)
    later = state.blocked_until + rules.THROTTLE_WINDOW
    assert rules.count_attempt(state, policy, later).failures == 1
    assert rules.count_attempt(state, policy, later - timedelta(seconds=1)).failures == policy.threshold + 1


def test_taking_back_a_right_attempt_restores_the_key():
    policy = rules.PER_IP
    before, now = run(policy, policy.threshold - 1)
    counted = rules.count_attempt(before, policy, now)
    assert rules.is_blocked(counted, now)
    restored = rules.forgive_attempt(counted, before=before, counted=counted)
    assert restored.failures == before.failures and not rules.is_blocked(restored, now)


def test_taking_back_keeps_a_block_someone_else_made_since():
    policy = rules.PER_USERNAME
    before, now = run(policy, policy.threshold - 1)
    counted = rules.count_attempt(before, policy, now)
    attacker = rules.count_attempt(counted, policy, now + timedelta(seconds=1))
    assert (
        rules.forgive_attempt(attacker, before=before, counted=counted).blocked_until
        == attacker.blocked_until
    )


def test_throttle_keys_hide_the_username_and_treat_an_ipv6_64_as_one_client():
    keys = rules.throttle_keys("Jan@Example.nl", "2001:db8:1:2:aaaa::1")
    assert keys.address[0] == "ip:2001:db8:1:2::/64"
    assert rules.throttle_keys("jan@example.nl", "2001:db8:1:2:ffff::9") == keys
    assert all("jan" not in key and len(key) <= 120 for key, _ in keys.all)
    assert rules.throttle_keys("jan@example.nl", "::ffff:192.0.2.7").address[0] == "ip:192.0.2.7"


@given(st.integers(1, 400), st.integers(0, 3600))
def test_a_block_never_exceeds_its_policy_cap(attempts: int, spacing: int):
    for policy in (rules.PER_IP, rules.PER_USERNAME, rules.PER_USERNAME_FROM_IP):
        state, now = None, T0
        for _ in range(min(attempts, 60)):
            state = rules.count_attempt(state, policy, now)
            if state.blocked_until:
                assert state.blocked_until - now <= policy.longest_block
            now += timedelta(seconds=spacing)


@pytest.mark.parametrize("ip", [None, "testclient", "not an address"])
def test_odd_client_addresses_still_get_a_key(ip):
    assert rules.throttle_keys("jan@example.nl", ip).address[0].startswith("ip:")


# --- devices and codes of a new authenticator app --------------------------------------------


@pytest.mark.parametrize(
    "user_agent, expected",
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            ("Edge", "Windows"),
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1",
            ("Safari", "iOS"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            ("Chrome", "Android"),
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", ("Firefox", "Linux")),
        ("curl/8.5.0", (None, None)),
        (None, (None, None)),
    ],
)
def test_devices_are_named_as_people_know_them(user_agent, expected):
    assert rules.describe_device(user_agent) == expected


def test_a_code_matches_only_its_own_steps():
    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret).generate_otp(1000)
    assert rules.totp_matching_step(secret, code, [999, 1000, 1001]) == 1000
    assert rules.totp_matching_step(secret, code, [998, 999]) is None
    assert rules.totp_matching_step(secret, "12345", [1000]) is None
    assert rules.totp_matching_step(secret, "１２３４５６", [1000]) is None  # digits, but not ASCII ones


# --- second factors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "has_totp, passkeys, removing, allowed",
    [
        (True, 0, "totp", False),
        (True, 1, "totp", True),
        (False, 1, "passkey", False),
        (True, 1, "passkey", True),
        (False, 2, "passkey", True),
    ],
)
def test_the_second_factor_is_always_on(has_totp, passkeys, removing, allowed):
    problem = rules.factor_removal_problem(has_totp=has_totp, passkeys=passkeys, removing=removing)
    assert (problem is None) is allowed


def test_passkey_names():
    assert rules.passkey_name_problem("My phone", ["Laptop"]) is None
    assert rules.passkey_name_problem("", []) is not None
    assert rules.passkey_name_problem("laptop", ["Laptop"]) is not None
    assert rules.passkey_name_problem("x" * 61, []) is not None
    assert rules.passkey_name_problem("a\nb", []) is not None
    assert rules.passkey_limit_problem(rules.MAX_PASSKEYS - 1) is None
    assert rules.passkey_limit_problem(rules.MAX_PASSKEYS) is not None


def test_a_secret_is_shown_in_groups_of_four():
    assert rules.group_secret("ABCDEFGHIJKLMN") == "ABCD EFGH IJKL MN"
