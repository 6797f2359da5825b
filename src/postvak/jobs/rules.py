"""Pure rules of background work: when to try again."""

import random
from datetime import timedelta

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: at most 30 s after the first failure, then doubling."""
    ceiling = min(FIRST_RETRY * (2 ** max(attempt - 1, 0)), LONGEST_WAIT)
    return ceiling * (rng or random).uniform(0.5, 1.0)
