"""Structured logging for the whole process: one line per event, opaque ids only.

Every line, from structlog or from a library's standard logging, passes `scrub`: whatever a
request put into a logged value (a path, a header, an exception's message) cannot steer an
operator's terminal, split the line, or leave a BSN behind.
"""

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog

from postvak.kit.bsn import is_valid_bsn
from postvak.kit.text import escape_controls

BSN_MASK = "*********"
MAX_VALUE_CHARS = 2000  # a value longer than this (a 100 kB path) is cut, and says by how much
# Keys whose text is many lines by nature: the traceback of an exception, a stack.
_MULTILINE_KEYS = frozenset({"exception", "stack"})
# A UUID is skipped whole (its hex can hold nine digits in a row); any other run of exactly nine
# ASCII digits is looked at as a BSN.
_NUMBERS = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?<![0-9])(?P<digits>[0-9]{9})(?![0-9])"
)


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    # Plain tracebacks (format_exc_info): rich's show local variables, and a local may hold a BSN.
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    stamped = [structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True)]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *stamped,
            structlog.processors.format_exc_info,
            scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library (uvicorn's errors, alembic, httpx): the same
    # processors render their lines, so they are scrubbed and look like ours.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamped],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub,
            renderer,
        ],
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ScrubbedHandler)]:
        root.removeHandler(old)
    if not root.handlers:  # as logging.basicConfig did: a test runner's own level is left alone
        root.setLevel(level.upper())
    handler = ScrubbedHandler(_CurrentStderr())
    handler.setFormatter(formatter)
    root.addHandler(handler)
    # httpx logs every request it makes (SMS gateway calls) at INFO, with full URLs.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def scrub(_logger: object, _method: str, event_dict: Mapping[str, Any]) -> dict[str, Any]:
    """A structlog processor: in every value, BSN-shaped numbers (nine digits that pass the check
    digit) masked, control and bidirectional characters escaped (a line stays one line), and
    overlong values cut. Tracebacks keep their line breaks, nothing else."""
    return {key: _scrubbed(value, multiline=key in _MULTILINE_KEYS) for key, value in event_dict.items()}


def mask_bsns(text: str) -> str:
    """`text` with every run of nine digits that passes the BSN check digit replaced by BSN_MASK."""
    return _NUMBERS.sub(_mask, text) if any(c.isdigit() for c in text) else text


def _mask(found: re.Match[str]) -> str:
    digits = found.group("digits")
    return BSN_MASK if digits is not None and is_valid_bsn(digits) else found.group(0)


def _scrubbed(value: Any, *, multiline: bool = False) -> Any:
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return BSN_MASK if len(str(value)) == 9 and is_valid_bsn(str(value)) else value
    if isinstance(value, Mapping):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrubbed(item) for item in value]
    text = value if isinstance(value, str) else str(value)
    text = mask_bsns(text)
    if multiline:
        return "\n".join(escape_controls(line) for line in text.split("\n"))
    text = escape_controls(text)
    if len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS]}…[{len(text) - MAX_VALUE_CHARS} more characters]"
    return text


class ScrubbedHandler(logging.StreamHandler):
    """The root logger's handler that configure_logging installs (and replaces when called again)."""


class _CurrentStderr:
    """Whatever sys.stderr is at the moment of writing (it is replaced under test capture)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
