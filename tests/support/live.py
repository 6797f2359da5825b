"""A real HTTP server on loopback for tests that need one: the app under uvicorn in a thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from postvak.app import build_app
from postvak.kit.loopback import serve_in_thread
from postvak.runtime import Runtime


@contextmanager
def live_server(runtime: Runtime, *, start_seconds: float = 10.0) -> Iterator[str]:
    """Serve the app on a free 127.0.0.1 port and yield its base URL, e.g. `http://127.0.0.1:41234`."""
    with serve_app(build_app(runtime), start_seconds=start_seconds) as base_url:
        _wait_until_healthy(base_url, start_seconds)
        yield base_url


def _wait_until_healthy(base_url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the live server did not answer /health within {seconds} s")


@contextmanager
def serve_app(app, *, start_seconds: float = 10.0) -> Iterator[str]:
    """Serve any ASGI app on a free 127.0.0.1 port; at exit the server finishes its open requests
    and the thread ends."""
    base_url, server, thread = serve_in_thread(app, start_seconds=start_seconds)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
