"""Validation faults as one problem detail that names every failing field, in a bounded length."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from postvak.kit.text import escape_controls, text_problem

# A message with a thousand bad fields must not answer with a thousand lines: the detail lists the
# first faults, in the order of the fields, and counts the rest.
MAX_LISTED = 20
MAX_LISTED_CHARS = 2000
MAX_FAULT_CHARS = 300  # one fault: its path may hold a sender's own (long) member name


def describe_errors(errors: Sequence[Mapping[str, Any]], *, skip: int = 0, whole: str = "body") -> str:
    """Pydantic's (or FastAPI's) errors as "field.path: what is wrong; other.field: …", in their order.

    `skip` drops leading parts of every location (FastAPI's "query", "path", "body"); `whole` names
    a fault of the whole input, whose location is then empty.
    """
    return join_faults(describe_error(error, skip=skip, whole=whole) for error in errors)


def describe_error(error: Mapping[str, Any], *, skip: int = 0, whole: str = "body") -> str:
    """One fault as "field.path: what is wrong"; the path is escaped: it may be a sender's own key."""
    path = ""
    for part in tuple(error["loc"])[skip:]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "model_type":
        message = "must be a JSON object"
    elif error["type"] == "string_unicode" and isinstance(error.get("input"), str):
        # A lone surrogate, which no text can hold: in a value, or (at the top) in a member's name.
        message = text_problem(error["input"]) or message
        if not path:
            path, message = error["input"], f"not a known member ({message})"
    return _shortened(f"{escape_controls(path) or whole}: {message}")


def join_faults(faults: Iterable[str]) -> str:
    """The faults joined by "; ": at most MAX_LISTED of them and about MAX_LISTED_CHARS characters
    (always the first one whole), then "and N more" for the rest."""
    listed: list[str] = []
    size = rest = 0
    for fault in faults:
        fault = _shortened(fault)
        if listed and (rest or len(listed) == MAX_LISTED or size + len(fault) > MAX_LISTED_CHARS):
            rest += 1
            continue
        listed.append(fault)
        size += len(fault) + 2
    if not listed:
        return "the input is not valid"
    return "; ".join(listed) + (f"; and {rest} more" if rest else "")


def _shortened(fault: str) -> str:
    return fault if len(fault) <= MAX_FAULT_CHARS else fault[: MAX_FAULT_CHARS - 1] + "…"
