"""How a command answers: one JSON object on stdout with --json, else lines for a person; problems exit 2."""

from __future__ import annotations

import json
from typing import NoReturn

import typer
from rich.console import Console

from postvak.errors import Problem

err = Console(stderr=True)
out = Console(soft_wrap=True)


def emit(result: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(result, default=str))
    else:
        for line in lines:
            out.print(line)


def fail(problem: Problem, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps({"error": problem.slug, "detail": problem.detail}))
    else:
        err.print(f"[red]{problem.title}:[/red] {problem.detail}")
    raise typer.Exit(2)
