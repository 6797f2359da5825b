"""Bodies over their limit are answered 413 before they are read whole (a real server, real sockets)."""

import socket
from urllib.parse import urlsplit

from tests.support.live import live_server


def _send_and_read(base_url: str, head: bytes, chunks, *, settle_after: int) -> tuple[bytes, int]:
    """Send `head`, then chunks until the server answers; returns (answer, bytes of body sent)."""
    parts = urlsplit(base_url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(head)
        for n, chunk in enumerate(chunks):
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            if n >= settle_after:
                conn.settimeout(0.05)
                try:
                    answer = conn.recv(65536)
                except TimeoutError:
                    continue
                if answer:
                    return answer, sent
        conn.settimeout(10)
        return conn.recv(65536), sent


def test_a_declared_length_over_the_limit_is_refused_at_once(runtime, sender):
    limit = runtime.settings.max_message_request_bytes
    with live_server(runtime) as base_url:
        head = (
            f"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sender.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {limit * 4}\r\n\r\n"
        ).encode()
        answer, sent = _send_and_read(
            base_url, head, (b"x" * 65536 for _ in range(limit * 4 // 65536)), settle_after=0
        )
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"application/problem+json" in answer and b"payload-too-large" in answer
    assert sent < limit  # answered long before the body was all there


def test_a_chunked_body_is_cut_off_at_the_limit(runtime, sender):
    limit = runtime.settings.max_message_request_bytes
    with live_server(runtime) as base_url:
        head = (
            f"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sender.api_key}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        piece = b"x" * 65536
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        answer, sent = _send_and_read(
            base_url, head, (chunk for _ in range(limit * 3 // 65536)), settle_after=limit // 65536 - 2
        )
    assert answer.startswith(b"HTTP/1.1 413")
    assert sent < limit * 2
