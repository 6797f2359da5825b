"""`python -m postvak.cli`: the `postvak` command, as tests and benchmarks start it without the script."""

from postvak.cli.main import app

app()
