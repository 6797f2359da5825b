"""Due dates relative to today: letters sent through the API must stay inside its plausible window."""

from datetime import date, timedelta

from babel.dates import format_date

from postvak.kit import clock


def due_in(days: int = 120) -> date:
    """A due date `days` after today (UTC), far enough ahead that no reminder is due yet."""
    return clock.now().date() + timedelta(days=days)


def spelled(day: date, language: str = "nl") -> str:
    """The date as notifications and pages write it ("31 maart 2027")."""
    return format_date(day, "d MMMM y", locale=language)
