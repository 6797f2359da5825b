"""A real `postvak serve --no-worker` process on a free loopback port, to start, kill and restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel picks it, so xdist workers never collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """One server on fixed data (database and data directory); every start gets a fresh port.

    The server's stderr of every start is appended to `log_path`, so a test can read what
    the server logged (for debugging, or to check that no BSN ever reached a log line).
    """

    def __init__(
        self, database_url: str, data_dir: Path, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.extra_env = env or {}
        self.port = 0
        self.starts = 0
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 30.0) -> str:
        """Start the server and return its URL once GET /health answers 200."""
        if self.running():
            raise RuntimeError("the server is already running")
        # The port is free when we look, but another process may take it before the server
        # binds; the server then exits at once and we try again on another port.
        for _attempt in range(3):
            if self._start_on(free_port(), timeout):
                self.starts += 1
                return self.url
        raise RuntimeError(f"the server did not start; see {self.log_path}:\n{self.log_tail()}")

    def _start_on(self, port: int, timeout: float) -> bool:
        self.port = port
        env = {
            **os.environ,
            "POSTVAK_DATABASE_URL": self.database_url,
            "POSTVAK_DATA_DIR": str(self.data_dir),
            "POSTVAK_BASE_URL": self.url,
            **self.extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "postvak.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-worker",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- start on port {port}\n".encode())
            log.flush()
            # A session of its own: kill() then takes any child (a PDF check) down with it.
            self._process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self._process = None
                    return False
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server gave no healthy answer within {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, as a power cut would: no shutdown handler runs. Returns once the process is gone."""
        if self._process is None:
            return
        if self._process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=30)
        self._process = None

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful shutdown (SIGTERM), falling back to SIGKILL."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=timeout)
        self.kill()

    def restart(self, timeout: float = 30.0) -> str:
        self.kill()
        return self.start(timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc) -> None:
        self.kill()
