"""GET /api/v1/statements/{YYYY-MM} as a sender reads it: its own month, money as strings, bad months 400."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from postvak.kit import clock
from tests.support.notifying import deliver
from tests.support.problems import assert_problem

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def march():
    clock.set_clock(lambda: NOW)


def test_the_sender_reads_its_own_month(client, sender, other_sender, bsns):
    for n in range(3):
        deliver(client, sender, bsns[n], f"ST-{n}")
    deliver(client, other_sender, bsns[0], "ST-other")
    answer = client.get("/api/v1/statements/2027-03", headers=sender.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "month": "2027-03",
        "letters": 3,
        "emails": 0,
        "sms": 0,
        "prints": 0,
        "amount": {"value": "0.30", "currency": "EUR"},  # 3 × the default letter tariff, 0.10
        "paperEquivalent": {"value": "4.50", "currency": "EUR"},  # 3 × 1.50
    }
    assert client.get("/api/v1/statements/2027-02", headers=sender.headers).json()["letters"] == 0


def test_the_tariffs_are_configuration(runtime, client, sender, bsns):
    runtime.settings = runtime.settings.model_copy(
        update={"tariff_letter": Decimal("0.0333"), "tariff_paper_equivalent": Decimal("2")}
    )
    deliver(client, sender, bsns[0], "ST-1")
    body = client.get("/api/v1/statements/2027-03", headers=sender.headers).json()
    assert body["amount"] == {"value": "0.03", "currency": "EUR"}
    assert body["paperEquivalent"] == {"value": "2.00", "currency": "EUR"}


@pytest.mark.parametrize(
    ("month", "detail"),
    [
        ("2026-13", "month: the month number is 01 to 12"),
        ("0999-01", "month: statements begin at 2000-01"),
        ("2027-04", "month: 2027-04 has not begun yet; the latest statement is 2027-03's"),
        ("2027-3", "month: give a month as YYYY-MM, e.g. 2027-03"),
        ("27-03", "month: give a month as YYYY-MM, e.g. 2027-03"),
        ("2027-03-01", "month: give a month as YYYY-MM, e.g. 2027-03"),
        ("%E2%80%AE2027-03", "month: give a month as YYYY-MM, e.g. 2027-03"),
    ],
)
def test_a_month_no_statement_can_cover_is_a_precise_problem(client, sender, month, detail):
    answer = client.get(f"/api/v1/statements/{month}", headers=sender.headers)
    problem = assert_problem(answer, "validation-failed", 422)
    assert problem["detail"] == detail
    assert problem["instance"].startswith("/api/v1/statements/")


def test_only_senders_may_read_statements(client):
    assert_problem(client.get("/api/v1/statements/2027-03"), "unauthorized", 401)
