"""A validation problem's detail: every failing field, in the order of the fields, bounded in length."""

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from postvak.kit import validation
from postvak.kit.validation import describe_errors, join_faults


class Inner(BaseModel):
    size: int


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=3)
    kind: Literal["a", "b"]
    parts: list[Inner] = []


def _errors(raw) -> list:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(raw)
    return caught.value.errors()


def test_every_failing_field_is_named_in_the_order_of_the_fields():
    detail = describe_errors(_errors({"parts": [{"size": 1}, {"size": "x"}], "kind": "c", "name": "long"}))
    assert detail == (
        "name: String should have at most 3 characters; kind: Input should be 'a' or 'b'; "
        "parts[1].size: Input should be a valid integer, unable to parse string as an integer"
    )


def test_a_fault_of_the_whole_input_and_a_leading_location_are_named_as_asked():
    assert describe_errors(_errors([])) == "body: must be a JSON object"
    faults = [{"type": "missing", "loc": ("query", "limit"), "msg": "Field required"}]
    assert describe_errors(faults, skip=1) == "limit: Field required"
    assert describe_errors([{"type": "x", "loc": ("query",), "msg": "bad"}], skip=1, whole="request") == (
        "request: bad"
    )


def test_a_thousand_faults_make_a_bounded_detail_that_counts_the_rest():
    raw = {"name": "abc", "kind": "a", **{f"extra{n:04}": n for n in range(1000)}}
    detail = describe_errors(_errors(raw))
    assert detail.startswith("extra0000: Extra inputs are not permitted; extra0001: ")
    listed = detail.split("; ")[:-1]
    assert len(listed) == validation.MAX_LISTED
    assert detail.endswith(f"; and {1000 - validation.MAX_LISTED} more")
    assert len(detail) < validation.MAX_LISTED_CHARS + 100


def test_long_faults_are_shortened_and_the_first_is_always_listed():
    long_name = "x" * 10_000
    detail = describe_errors(_errors({"name": "abc", "kind": "a", long_name: 1, "other": 2}))
    first = detail.split("; ")[0]
    assert first.startswith("xxx") and first.endswith("…") and len(first) == validation.MAX_FAULT_CHARS
    assert "other: Extra inputs are not permitted" in detail
    many_long = [f"field{n}: " + "y" * 250 for n in range(50)]
    joined = join_faults(many_long)
    assert joined.startswith("field0: ") and joined.endswith(" more")
    assert len(joined) <= validation.MAX_LISTED_CHARS + 100


def test_a_member_name_with_control_characters_is_escaped():
    detail = describe_errors(_errors({"name": "abc", "kind": "a", "bad\x1b[31m\u202ename": 1}))
    assert detail == "bad\\x1b[31m\\u202ename: Extra inputs are not permitted"


def test_no_faults_still_say_something():
    assert join_faults([]) == "the input is not valid"
