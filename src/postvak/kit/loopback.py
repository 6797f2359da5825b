"""An ASGI app served on a free 127.0.0.1 port by uvicorn in a daemon thread (stand-ins, tests)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def serve_in_thread(app, *, start_seconds: float = 10.0) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Starts the server (the socket is bound here, so the port is known before it runs) and returns
    its base URL, the server (set `should_exit` to stop it) and its thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_seconds
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise RuntimeError(f"the server did not start within {start_seconds} s")
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread
