"""Pure rules of statements: which month a statement covers, its boundaries in Dutch time, and the sums.

A month is a calendar month in Dutch time (Europe/Amsterdam): March 2027 runs from 1 March 00:00 to
1 April 00:00 on a Dutch clock, whatever the offset to UTC was then. Money is `Decimal`, never float;
the amount is rounded once, to whole cents, half up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from postvak.kit.moments import LATEST, in_utc, local_date

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
CURRENCY = "EUR"
CENT = Decimal("0.01")
# Postvak keeps no history from before this month: an earlier one is a typing error, not a question.
FIRST_MONTH = (2000, 1)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class MonthProblem(ValueError):
    """Why a text is not a month a statement can cover (never more than the text itself says)."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def following(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def starts_at(self) -> datetime:
        """The first moment of the month on a Dutch clock (1st, 00:00), in UTC."""
        return in_utc(date(self.year, self.month, 1), time(0), DUTCH_TIME)

    @property
    def ends_at(self) -> datetime:
        """The next month's first moment: a statement counts what happened in [starts_at, ends_at)."""
        following = self.following()
        if following.year > date.max.year:
            return LATEST
        return following.starts_at


def month_of(moment: datetime) -> Month:
    """The month a moment falls in, on a Dutch clock."""
    day = local_date(moment.astimezone(UTC), DUTCH_TIME)
    return Month(day.year, day.month)


def read_month(text: str, *, now: datetime) -> Month:
    """The month `YYYY-MM` names; raises MonthProblem saying why when it names none a statement can cover:
    not that pattern, a month number outside 01–12, before 2000-01, or after the current month (Dutch
    time). The current month is allowed: its statement so far."""
    found = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise MonthProblem("month: give a month as YYYY-MM, e.g. 2027-03")
    month = Month(int(found.group(1)), int(found.group(2)))
    if not 1 <= month.month <= 12:
        raise MonthProblem("month: the month number is 01 to 12")
    first = Month(*FIRST_MONTH)
    if month < first:
        raise MonthProblem(f"month: statements begin at {first}")
    current = month_of(now)
    if month > current:
        raise MonthProblem(f"month: {month} has not begun yet; the latest statement is {current}'s")
    return month


@dataclass(frozen=True)
class Tariffs:
    """Euros per unit. E-mails have no tariff of their own: telling the citizen by e-mail is part of
    delivering the letter, paid with the letter's tariff. SMS costs Postvak per message, so it has one."""

    letter: Decimal
    sms: Decimal
    print: Decimal
    paper_equivalent: Decimal  # what one letter would have cost the sender on paper (print and post)


@dataclass(frozen=True)
class Usage:
    """What a sender used in a month."""

    letters: int = 0
    emails: int = 0
    sms: int = 0
    prints: int = 0


@dataclass(frozen=True)
class Charges:
    amount: Decimal  # letters × letter + sms × sms + prints × print, in whole cents
    paper_equivalent: Decimal  # letters × paper_equivalent, in whole cents


def charges(usage: Usage, tariffs: Tariffs) -> Charges:
    """What the usage costs, and what the same letters would have cost on paper. Each sum is exact
    (Decimal) and rounded once, to cents, half up: a tariff of € 0,0125 per SMS is not rounded per SMS."""
    amount = usage.letters * tariffs.letter + usage.sms * tariffs.sms + usage.prints * tariffs.print
    paper = usage.letters * tariffs.paper_equivalent
    return Charges(in_cents(amount), in_cents(paper))


def in_cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
