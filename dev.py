#!/usr/bin/env python3
"""Sets the project up and runs it: `python3 dev.py demo` or `python3 dev.py test`.

Needs only Python 3.11+, git and the machine's services. Everything else (the virtual
environment, Python packages, npm packages) is installed here, and again whenever
pyproject.toml or package-lock.json changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
CHROMIUM = "/usr/bin/chromium"
PG_URL = os.environ.get("POSTVAK_TEST_PG", "postgresql://127.0.0.1:5432/test")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    setup(with_tests=command != "demo")
    if command == "demo":
        return run([str(BIN / "postvak"), "demo", *rest])
    if command == "test":
        return run_tests(rest)
    return 0


def setup(*, with_tests: bool) -> None:
    extras = ".[test]" if with_tests else "."
    if not (BIN / "python").exists():
        step("creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{'test' if with_tests else 'app'}"
    wanted = digest(ROOT / "pyproject.toml")
    if not stamp.exists() or stamp.read_text() != wanted:
        step(f"installing Python packages ({extras})")
        check([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        check([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", extras])
        stamp.write_text(wanted)
    setup_npm(with_tests=with_tests)
    if with_tests:
        setup_chromium()


def setup_npm(*, with_tests: bool) -> None:
    """npm packages from package-lock.json: Swagger UI for /api/v1/docs always, the test tools
    (Spectral, axe-core) for the tests. Without npm the demo still runs; its API docs page then
    only links the OpenAPI document."""
    if shutil.which("npm") is None:
        if with_tests:
            sys.exit("npm is needed for the test tools (Spectral, axe-core); install Node.js and npm first")
        print("note: npm not found, so /api/v1/docs will only link the OpenAPI document", flush=True)
        return
    modules = ROOT / "node_modules"
    wanted = digest(ROOT / "package-lock.json")
    installed = [modules / ".installed-all"] + ([] if with_tests else [modules / ".installed-runtime"])
    if any(stamp.exists() and stamp.read_text() == wanted for stamp in installed):
        return
    step("installing npm packages from package-lock.json" + ("" if with_tests else " (runtime only)"))
    omit = [] if with_tests else ["--omit=dev"]
    check(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", *omit], cwd=ROOT)
    installed[-1].write_text(wanted)


def setup_chromium() -> None:
    """The browser tests drive Debian's Chromium (Playwright cannot download its own here)."""
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        sys.exit(f"the browser tests need {CHROMIUM}: install Debian's `chromium` package first")
    step("installing Debian's chromium for the browser tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        if subprocess.run(cmd, env=env).returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}")


def run_tests(pytest_args: list[str]) -> int:
    step("ruff")
    if run([str(BIN / "ruff"), "check", "src", "tests", "bench", "migrations", "dev.py"]) != 0:
        return 1
    ensure_postgresql()
    failed = 0
    for db in ("sqlite", "postgresql"):
        step(f"tests on {db}")
        failed |= run([str(BIN / "pytest"), "-n", "2", "--db", db, *pytest_args], cwd=ROOT) != 0
    return 1 if failed else 0


def ensure_postgresql() -> None:
    """The suite also runs on PostgreSQL; start the machine's cluster if it is not up."""
    probe = [
        str(BIN / "python"),
        "-c",
        f"import psycopg; psycopg.connect({PG_URL!r}, connect_timeout=3).close()",
    ]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if versions:
        step("starting PostgreSQL")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"])
        for _ in range(30):
            if subprocess.run(probe, capture_output=True).returncode == 0:
                return
            time.sleep(1)
    sys.exit(f"PostgreSQL is not reachable at {PG_URL}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "none"


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def check(cmd: list[str], cwd: Path | None = None) -> None:
    if run(cmd, cwd=cwd) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")


def run(cmd: list[str], cwd: Path | None = None) -> int:
    return subprocess.run(cmd, cwd=cwd or ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
