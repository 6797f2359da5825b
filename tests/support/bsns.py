"""Test BSNs from the 9999… range that pass the elfproef; never real people's numbers."""

from collections.abc import Iterator

from postvak.kit.bsn import is_valid_bsn


def test_bsns(start: int = 0) -> Iterator[str]:
    for n in range(start, 100_000):
        candidate = f"9999{n:05d}"
        if is_valid_bsn(candidate):
            yield candidate


def take_bsns(count: int, start: int = 0) -> list[str]:
    found = []
    for bsn in test_bsns(start):
        found.append(bsn)
        if len(found) == count:
            return found
    raise ValueError("not enough test BSNs in range")
