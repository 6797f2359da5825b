"""The BSN (burgerservicenummer) and its check digit, the elfproef."""

BSN_LENGTH = 9


def bsn_problem(value: str) -> str | None:
    """Why `value` is not a valid BSN, or None when it is.

    The reasons never repeat the number itself: they end up in problem details.
    """
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return "a BSN consists of digits only"
    if len(value) != BSN_LENGTH:
        return f"a BSN has {BSN_LENGTH} digits"
    if set(value) == {"0"}:
        return "a BSN cannot be all zeros"
    if elfproef_sum(value) % 11 != 0:
        return "the BSN fails the check digit (elfproef)"
    return None


def is_valid_bsn(value: str) -> bool:
    return bsn_problem(value) is None


def elfproef_sum(value: str) -> int:
    """9·d1 + 8·d2 + … + 2·d8 − 1·d9: divisible by 11 for a valid BSN."""
    digits = [int(c) for c in value]
    return sum(weight * d for weight, d in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
