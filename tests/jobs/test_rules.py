"""Rules of background work: backoff, parking after too many failures, what a failure may say."""

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from postvak.jobs import rules
from postvak.kit import moments
from tests.support.bsns import take_bsns

NOW = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def test_the_first_retry_comes_within_30_seconds_then_the_wait_doubles_up_to_six_hours():
    rng = random.Random(1)
    assert timedelta(seconds=15) <= rules.retry_delay(1, rng) <= timedelta(seconds=30)
    assert timedelta(seconds=30) <= rules.retry_delay(2, rng) <= timedelta(seconds=60)
    assert rules.retry_delay(40, rng) <= timedelta(hours=6)
    assert rules.retry_delay(10**9, rng) <= timedelta(hours=6)


def test_a_job_is_parked_at_its_last_allowed_failure_and_retried_before():
    for failures in range(1, 5):
        assert rules.after_failure(failures, 5, NOW) > NOW
    assert rules.after_failure(5, 5, NOW) is None
    assert rules.after_failure(6, 5, NOW) is None


@given(st.datetimes(timezones=st.just(UTC)), st.integers(1, 1000))
def test_the_next_try_never_overflows(now, failures):
    after = rules.after_failure(failures, 10**6, now)
    assert after is not None and after >= now and (after > now or now == moments.LATEST)


def test_a_summary_names_the_error_class_and_the_first_line_of_its_message():
    assert rules.error_summary(OverflowError("date value out of range")) == (
        "OverflowError: date value out of range"
    )
    assert rules.error_summary(KeyError("messageId")) == "KeyError: 'messageId'"
    assert rules.error_summary(RuntimeError()) == "RuntimeError"
    database_error = ValueError(
        "duplicate key value\nDETAIL: Key (address)=(jan@example.nl)\n[SQL: INSERT …]"
    )
    assert rules.error_summary(database_error) == "ValueError: duplicate key value"
    assert len(rules.error_summary(ValueError("x" * 5000))) == rules.ERROR_CHARS


@given(
    st.sampled_from(take_bsns(50)),
    st.sampled_from(["jan@example.nl", "a.b+c@gemeente.example", "x@y"]),
    st.sampled_from(["+31612345678", "06-12345678", "+31 6 1234 5678"]),
    st.text(max_size=40),
)
def test_no_bsn_address_or_phone_number_survives_into_a_summary(bsn, address, phone, noise):
    for message in (f"{noise} {bsn} {noise}", f"no user {address}: {noise}", f"{noise}number {phone}!"):
        summary = rules.error_summary(ValueError(message))
        assert bsn not in summary and address not in summary and phone not in summary
        assert summary.startswith("ValueError")


def test_small_numbers_and_ids_stay_readable():
    assert rules.error_summary(LookupError("job 12345 attempt 3")) == "LookupError: job 12345 attempt 3"


def test_what_a_job_is_doing():
    later, earlier = NOW + timedelta(minutes=1), NOW - timedelta(minutes=1)
    assert rules.state(done_at=NOW, parked_at=None, locked_until=None, now=NOW) == "done"
    assert rules.state(done_at=NOW, parked_at=NOW, locked_until=None, now=NOW) == "discarded"
    assert rules.state(done_at=None, parked_at=NOW, locked_until=None, now=NOW) == "parked"
    assert rules.state(done_at=None, parked_at=None, locked_until=later, now=NOW) == "running"
    assert rules.state(done_at=None, parked_at=None, locked_until=earlier, now=NOW) == "waiting"
    assert rules.state(done_at=None, parked_at=None, locked_until=None, now=NOW) == "waiting"
