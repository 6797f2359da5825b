"""Use cases of statements: a sender's usage of one month and its cost, for the API and the operator."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from postvak.billing import repository, rules
from postvak.billing.schemas import MoneyOut, StatementOut
from postvak.config import Settings
from postvak.errors import ValidationFailed


def tariffs_of(settings: Settings) -> rules.Tariffs:
    """The tariffs configured (POSTVAK_TARIFF_LETTER, _SMS, _PRINT, _PAPER_EQUIVALENT, in euros)."""
    return rules.Tariffs(
        letter=settings.tariff_letter,
        sms=settings.tariff_sms,
        print=settings.tariff_print,
        paper_equivalent=settings.tariff_paper_equivalent,
    )


def read_statement(
    session: Session, *, sender_id: uuid.UUID, month: str, tariffs: rules.Tariffs, now: datetime
) -> StatementOut:
    """The statement of `month` (`YYYY-MM`, Dutch time) for one sender; the current month so far.

    Raises ValidationFailed for a text that names no month a statement can cover (rules.read_month says why).
    """
    try:
        covered = rules.read_month(month, now=now)
    except rules.MonthProblem as problem:
        raise ValidationFailed(str(problem)) from None
    usage = repository.usage_of(session, sender_id, covered.starts_at, covered.ends_at)
    cost = rules.charges(usage, tariffs)
    return StatementOut(
        month=str(covered),
        letters=usage.letters,
        emails=usage.emails,
        sms=usage.sms,
        prints=usage.prints,
        amount=_money(cost.amount),
        paper_equivalent=_money(cost.paper_equivalent),
    )


def _money(value: Decimal) -> MoneyOut:
    return MoneyOut(value=f"{value:.2f}", currency=rules.CURRENCY)
