"""A real HTTP server on loopback for tests that need one: the app under uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from postvak.app import build_app
from postvak.runtime import Runtime


@contextmanager
def live_server(runtime: Runtime, *, start_seconds: float = 10.0) -> Iterator[str]:
    """Serve the app on a free 127.0.0.1 port and yield its base URL, e.g. `http://127.0.0.1:41234`.

    The socket is bound here, before uvicorn starts, so the port is known and cannot be taken by
    another test in between. At exit the server finishes its open requests and the thread ends.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(build_app(runtime), log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    try:
        _wait_until_healthy(base_url, thread, start_seconds)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
    assert not thread.is_alive(), "the live server did not stop"


def _wait_until_healthy(base_url: str, thread: threading.Thread, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped while starting")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the live server did not answer /health within {seconds} s")
