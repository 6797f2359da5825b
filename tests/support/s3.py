"""S3 on loopback for the tests: moto's server, a fresh bucket per test, a proxy that fails on demand."""

from __future__ import annotations

import http.client
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REGION = "eu-west-1"
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
INTERNAL_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


@dataclass
class S3Bucket:
    """A fresh bucket on the loopback endpoint, with the AWS_* environment pointing at it."""

    endpoint: str
    name: str
    client: object  # a plain boto3 client, to look at what the store wrote

    def url(self, prefix: str = "postvak") -> str:
        return f"s3://{self.name}/{prefix}"

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        listing = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix).get("Contents", [])
        return {
            o["Key"]: self.client.get_object(Bucket=self.name, Key=o["Key"])["Body"].read() for o in listing
        }


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server in this test process, on a free loopback port."""
    from moto.server import ThreadedMotoServer  # imported here: most test runs need no S3

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def use_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: str) -> None:
    """The standard AWS_* environment for `endpoint`, and nothing from this machine's own AWS set-up."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3_bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Bucket:
    import boto3

    use_endpoint(monkeypatch, tmp_path, moto_endpoint)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    name = f"postvak-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return S3Bucket(moto_endpoint, name, client)


class FlakyS3(ThreadingHTTPServer):
    """A proxy in front of moto that answers the next requests of a method with a fault, then passes
    requests through: `SlowDown` (503, throttling), `InternalError` (500), or `truncate` (the real
    answer's headers, half its body, then the connection closes)."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = urlsplit(upstream).netloc
        self.faults: dict[str, list[str]] = {}
        self.seen: list[tuple[str, int]] = []  # (method, status answered)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def fail(self, method: str, fault: str, times: int = 1) -> None:
        with self._lock:
            self.faults.setdefault(method, []).extend([fault] * times)

    def next_fault(self, method: str) -> str | None:
        with self._lock:
            queue = self.faults.get(method)
            return queue.pop(0) if queue else None

    def answered(self, method: str) -> list[int]:
        return [status for m, status in self.seen if m == method]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FlakyS3

    def log_message(self, format: str, *args) -> None:  # quiet: the test reads `seen`
        pass

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.server.next_fault(self.command)
        if fault in ("SlowDown", "InternalError"):
            status, error = (503, SLOW_DOWN) if fault == "SlowDown" else (500, INTERNAL_ERROR)
            self.server.seen.append((self.command, status))
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        self.server.seen.append((self.command, answer.status))
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        length = answer.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
        self.send_header("Content-Length", length)
        if fault == "truncate":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay


@pytest.fixture
def flaky_s3(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FlakyS3]:
    """The bucket of `s3_bucket`, reached through the proxy (AWS_ENDPOINT_URL_S3 points at it)."""
    proxy = FlakyS3(s3_bucket.endpoint)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    use_endpoint(monkeypatch, tmp_path, proxy.url)
    yield proxy
    proxy.shutdown()
    proxy.server_close()
