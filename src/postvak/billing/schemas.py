"""API models of statements: a month's usage of one sender and what it costs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from postvak.kit.schemas import ApiModel


class MoneyOut(ApiModel):
    value: str = Field(
        pattern=r"^[0-9]+\.[0-9]{2}$",
        description="The amount in euros, with two decimals and a point (a string: never a float).",
        examples=["12.34"],
    )
    currency: Literal["EUR"] = Field(description="ISO 4217 currency code.", examples=["EUR"])


class StatementOut(ApiModel):
    month: str = Field(
        description="The month covered, `YYYY-MM`: from the 1st 00:00 to the next month's 1st 00:00, Dutch "
        "time (Europe/Amsterdam).",
        examples=["2027-03"],
    )
    letters: int = Field(
        description="Letters accepted in the month (each counted once, in the month it was accepted, "
        "whatever happened to it afterwards).",
        examples=[1200],
    )
    emails: int = Field(
        description="E-mails sent about the organisation's letters: notifications, reminders and daily "
        "digests. A digest that names several of its letters counts once. Included in the letter tariff.",
        examples=[1350],
    )
    sms: int = Field(
        description="Text messages sent about the organisation's letters (notifications and reminders).",
        examples=[210],
    )
    prints: int = Field(
        description="Letters printed and posted by the paper fallback (`fallback-printed` events).",
        examples=[35],
    )
    amount: MoneyOut = Field(
        description="letters × the letter tariff + sms × the SMS tariff + prints × the print tariff, "
        "rounded to cents (half up).",
        examples=[{"value": "179.45", "currency": "EUR"}],
    )
    paper_equivalent: MoneyOut = Field(
        description="What the same letters would have cost on paper: letters × the paper tariff.",
        examples=[{"value": "1500.00", "currency": "EUR"}],
    )
