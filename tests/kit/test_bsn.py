"""The elfproef: every valid BSN passes, every single-digit change of one fails."""

from hypothesis import assume, given
from hypothesis import strategies as st

from postvak.kit.bsn import bsn_problem, elfproef_sum, is_valid_bsn


@st.composite
def valid_bsns(draw) -> str:
    """Eight random digits, then the ninth digit that makes the weighted sum divisible by 11."""
    head = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    last = sum(w * d for w, d in zip(range(9, 1, -1), head, strict=True)) % 11
    assume(last <= 9 and any(head))
    return "".join(map(str, head)) + str(last)


@given(valid_bsns())
def test_every_valid_bsn_passes(bsn: str) -> None:
    assert elfproef_sum(bsn) % 11 == 0
    assert is_valid_bsn(bsn)


@given(valid_bsns(), st.integers(0, 8), st.integers(1, 9))
def test_every_single_digit_change_fails(bsn: str, position: int, delta: int) -> None:
    digit = (int(bsn[position]) + delta) % 10
    changed = bsn[:position] + str(digit) + bsn[position + 1 :]
    assert not is_valid_bsn(changed)


def test_known_test_numbers() -> None:
    assert is_valid_bsn("999993653")
    assert is_valid_bsn("999990019")


def test_all_zeros_and_wrong_lengths_are_refused() -> None:
    assert bsn_problem("000000000") == "a BSN cannot be all zeros"
    assert "9 digits" in bsn_problem("99999365")
    assert "9 digits" in bsn_problem("9999936530")
    assert "digits only" in bsn_problem("99999365a")
    assert "digits only" in bsn_problem("９９９９９３６５３")  # full-width digits are not ASCII


def test_problem_never_repeats_the_number() -> None:
    for value in ("123456789", "000000000", "12345"):
        assert value not in (bsn_problem(value) or "")
