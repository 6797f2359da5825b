"""A webhook receiver on loopback for tests: records every request, answers as told per path.

Plain HTTP (the guard allows it under POSTVAK_WEBHOOKS_ALLOW_PRIVATE=true) or HTTPS with a given
certificate. A path may be told to hang until released, or to send its answer a byte at a time.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] | None = None


class Receiver:
    def __init__(self, server: ThreadingHTTPServer, scheme: str) -> None:
        self._server = server
        self.scheme = scheme
        self.port = server.server_address[1]
        self.received: list[Received] = []
        self._replies: dict[str, list[Reply]] = {}
        self.hanging: set[str] = set()  # paths whose requests wait for `release`
        self.dripping: set[str] = set()  # paths that answer one header byte at a time
        self.released = threading.Event()
        self.arrived = threading.Condition()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def reply(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with these replies, in order; then 200 again."""
        self._replies.setdefault(path, []).extend(replies)

    def clear_replies(self, path: str) -> None:
        """Forget the replies told for `path`: it answers 200 again."""
        self._replies.pop(path, None)

    def next_reply(self, path: str) -> Reply:
        queue = self._replies.get(path)
        return queue.pop(0) if queue else Reply()

    def record(self, received: Received) -> None:
        with self.arrived:
            self.received.append(received)
            self.arrived.notify_all()

    def wait_for(self, count: int, path: str | None = None, seconds: float = 20.0) -> list[Received]:
        """The requests (to `path`) once there are `count` of them, or those there are after `seconds`."""

        def matching() -> list[Received]:
            return [r for r in self.received if path is None or r.path == path]

        with self.arrived:
            self.arrived.wait_for(lambda: len(matching()) >= count, seconds)
            return matching()

    def to(self, path: str) -> list[Received]:
        with self.arrived:
            return [r for r in self.received if r.path == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    receiver: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        self._handle()

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.receiver.record(Received(self.command, self.path, headers, body))
        if self.path in self.receiver.hanging:
            self.receiver.released.wait(60)
        reply = self.receiver.next_reply(self.path)
        if self.path in self.receiver.dripping:
            self._drip(reply)
            return
        self.send_response(reply.status)
        for name, value in (reply.headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _drip(self, reply: Reply) -> None:
        """The status line, then one byte of a long header every 0.2 s, for at most 20 s."""
        self.wfile.write(f"HTTP/1.1 {reply.status} OK\r\nx-slow: ".encode())
        self.wfile.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not self.receiver.released.is_set():
            try:
                self.wfile.write(b"a")
                self.wfile.flush()
            except OSError:
                return  # the client gave up
            time.sleep(0.2)
        self.wfile.write(b"\r\ncontent-length: 0\r\n\r\n")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the http.server signature
        pass


@contextmanager
def receiver(ssl_context: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """A receiver on a free 127.0.0.1 port for the block; hanging requests are released at its end."""
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    receiving = Receiver(server, "https" if ssl_context else "http")
    handler.receiver = receiving
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiving
    finally:
        receiving.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
