"""API models of reachability: the recipients a sender asks about, and a yes or no for each."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from postvak.citizens.rules import MAX_REACHABILITY_CHECKS
from postvak.errors import ProblemOut
from postvak.kit.schemas import ApiModel

_BSN_EXAMPLE = "999993653"  # a test number: passes the elfproef, belongs to no one


class ReachabilityRecipient(ApiModel):
    """A recipient as in a letter's `recipient`."""

    type: Literal["BSN"] = Field(description="Kind of identifier; `BSN` now.", examples=["BSN"])
    value: Annotated[str, StringConstraints(max_length=32)] = Field(
        description="The identifier; a BSN that fails the elfproef is answered `reachable: false` with a "
        "problem.",
        examples=[_BSN_EXAMPLE],
    )


class ReachabilityCheckIn(ApiModel):
    recipients: list[ReachabilityRecipient] = Field(
        min_length=1,
        max_length=MAX_REACHABILITY_CHECKS,
        description=(
            f"The recipients to check, at most {MAX_REACHABILITY_CHECKS:,} (more answers 413). Each is "
            "judged alone; the same recipient twice is answered twice."
        ),
        examples=[[{"type": "BSN", "value": _BSN_EXAMPLE}]],
    )


class ReachabilityResultOut(ApiModel):
    index: int = Field(description="The recipient's position in the request, from 0.", examples=[0])
    reachable: bool = Field(
        description=(
            "true: a letter sent now reaches the recipient digitally (an activated mailbox with a verified "
            "way to tell them, and no choice of paper for this organisation); false: it would not, or the "
            "recipient is not valid (see problem)."
        ),
        examples=[True],
    )
    problem: ProblemOut | None = Field(
        default=None,
        description="Why the recipient could not be checked (e.g. a BSN that fails the elfproef); else null.",
        examples=[
            {
                "type": "https://postvak.example.nl/problems/invalid-recipient",
                "title": "Invalid recipient",
                "status": 422,
                "detail": "value: the BSN fails the check digit (elfproef)",
                "instance": "/api/v1/reachability-checks#/recipients/3",
            }
        ],
    )


class ReachabilityOut(ApiModel):
    results: list[ReachabilityResultOut] = Field(
        description="One result per recipient, in request order.",
        examples=[[{"index": 0, "reachable": True, "problem": None}, {"index": 1, "reachable": False}]],
    )
