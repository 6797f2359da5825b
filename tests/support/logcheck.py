"""Finds BSNs in log output: the suite fails any test whose captured logs contain one."""

import re

# Every BSN in the suite comes from the 9999… test range (tests/support/bsns.py).
_TEST_BSN = re.compile(r"(?<!\d)9999\d{5}(?!\d)")


def bsns_in(text: str) -> list[str]:
    return _TEST_BSN.findall(text)
