"""Statement rules without a database: months in Dutch time, and sums in Decimal, rounded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.billing.rules import (
    DUTCH_TIME,
    Month,
    MonthProblem,
    Tariffs,
    Usage,
    charges,
    in_cents,
    month_of,
    read_month,
)

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
months = st.builds(Month, st.integers(2000, 9999), st.integers(1, 12))
counts = st.integers(0, 10_000_000)
tariffs_ = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False)
usages = st.builds(Usage, counts, counts, counts, counts)
tariff_sets = st.builds(Tariffs, tariffs_, tariffs_, tariffs_, tariffs_)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-13", "the month number is 01 to 12"),
        ("2026-00", "the month number is 01 to 12"),
        ("0999-01", "statements begin at 2000-01"),
        ("1999-12", "statements begin at 2000-01"),
        ("2027-04", "2027-04 has not begun yet; the latest statement is 2027-03's"),
        ("9999-12", "has not begun yet"),
        ("2027-3", "give a month as YYYY-MM"),
        ("202703", "give a month as YYYY-MM"),
        ("2027-03-01", "give a month as YYYY-MM"),
        (" 2027-03", "give a month as YYYY-MM"),
        ("２０２７-０３", "give a month as YYYY-MM"),  # full-width digits are digits to Python, not to us
        ("", "give a month as YYYY-MM"),
    ],
)
def test_a_text_that_names_no_coverable_month_is_refused_saying_why(text, why):
    with pytest.raises(MonthProblem, match=why.replace("(", r"\(")) as refused:
        read_month(text, now=NOW)
    assert str(refused.value).startswith("month: ")


def test_the_current_month_and_the_first_one_are_allowed():
    assert read_month("2027-03", now=NOW) == Month(2027, 3)
    assert read_month("2000-01", now=NOW) == Month(2000, 1)


def test_the_current_month_is_the_dutch_one():
    new_year_in_amsterdam = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2027 there
    assert read_month("2027-01", now=new_year_in_amsterdam) == Month(2027, 1)
    with pytest.raises(MonthProblem):
        read_month("2027-01", now=new_year_in_amsterdam - timedelta(hours=1))


def test_months_begin_at_dutch_midnight_in_winter_and_in_summer():
    assert Month(2027, 1).starts_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # CET, UTC+1
    assert Month(2027, 7).starts_at == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)  # CEST, UTC+2
    # March has 31 days less the hour the clocks go forward.
    assert Month(2027, 3).ends_at - Month(2027, 3).starts_at == timedelta(days=31, hours=-1)


@given(months)
def test_months_follow_each_other_without_gap_or_overlap(month):
    assert str(month) == f"{month.year:04d}-{month.month:02d}" and read_month(str(month), now=month.starts_at)
    assert month.starts_at < month.ends_at
    local = month.starts_at.astimezone(DUTCH_TIME)
    assert (local.day, local.hour, local.minute) == (1, 0, 0)
    if month < Month(9999, 12):
        assert month.ends_at == month.following().starts_at
    assert month_of(month.starts_at) == month
    assert month_of(month.ends_at - timedelta(microseconds=1)) == month
    assert timedelta(days=28, hours=-1) <= month.ends_at - month.starts_at <= timedelta(days=31, hours=1)


@given(usages, tariff_sets)
def test_the_amount_is_the_sum_of_the_units_at_their_tariffs_rounded_once(usage, tariffs):
    cost = charges(usage, tariffs)
    exact = usage.letters * tariffs.letter + usage.sms * tariffs.sms + usage.prints * tariffs.print
    assert cost.amount == in_cents(exact) and abs(cost.amount - exact) <= Decimal("0.005")
    assert cost.paper_equivalent == in_cents(usage.letters * tariffs.paper_equivalent)
    assert cost.amount.as_tuple().exponent == -2 and cost.paper_equivalent.as_tuple().exponent == -2
    assert cost.amount >= 0


@given(usages, tariff_sets, st.sampled_from(["letters", "emails", "sms", "prints"]))
def test_one_more_unit_never_costs_less_and_an_email_costs_nothing(usage, tariffs, unit):
    more = Usage(**{**usage.__dict__, unit: getattr(usage, unit) + 1})
    assert charges(more, tariffs).amount >= charges(usage, tariffs).amount
    if unit == "emails":
        assert charges(more, tariffs) == charges(usage, tariffs)


def test_money_is_decimal_and_rounds_half_up_once():
    tariffs = Tariffs(
        letter=Decimal("0.10"), sms=Decimal("0.0125"), print=Decimal("1.25"), paper_equivalent=Decimal("1.50")
    )
    cost = charges(Usage(letters=3, emails=7, sms=2, prints=1), tariffs)
    assert cost.amount == Decimal("1.58")  # 0.30 + 0.025 + 1.25 = 1.575, half up
    assert cost.paper_equivalent == Decimal("4.50")
    assert charges(Usage(sms=1), tariffs).amount == Decimal("0.01")  # 0.0125
    assert charges(Usage(), tariffs).amount == Decimal("0.00")
