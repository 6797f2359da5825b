"""Outgoing HTTP to URLs that others choose: only to public addresses, checked at every connection.

A URL is checked when it is registered and again at every connection: the host is resolved once,
every address it resolves to is checked, and the socket connects to one of exactly those
addresses. The hostname stays in the request (Host header, TLS SNI and certificate verification),
so a DNS answer that changes between the check and the connection (DNS rebinding) can never steer
a request to an address that was not checked. Redirects are never followed; a request has one
deadline for everything (connect, TLS, send, answer); an answer is read up to a limit.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from postvak.kit.text import text_problem

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
DEFAULT_TIMEOUT = 15.0
DEFAULT_ANSWER_LIMIT = 64 * 1024


class Refused(Exception):
    """The guard refuses this URL or address; the message says why, in words for whoever chose the URL."""


class Unresolvable(Exception):
    """The host name has no address (now); DNS may answer later."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for `host`, in its order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"{host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# --- addresses ---------------------------------------------------------------------------------

_ALWAYS = "always"  # refused even when private addresses are allowed: nothing listens there
_PRIVATE = "private"  # refused unless POSTVAK_WEBHOOKS_ALLOW_PRIVATE (development, tests)

_V4_REFUSED: list[tuple[ipaddress.IPv4Network, str, str]] = [
    (ipaddress.IPv4Network(net), name, kind)
    for net, name, kind in [
        ("0.0.0.0/8", "unspecified ('this network')", _ALWAYS),
        ("10.0.0.0/8", "private (RFC 1918)", _PRIVATE),
        ("100.64.0.0/10", "shared carrier-grade NAT (RFC 6598)", _PRIVATE),
        ("127.0.0.0/8", "loopback", _PRIVATE),
        ("169.254.0.0/16", "link-local (incl. cloud metadata)", _PRIVATE),
        ("172.16.0.0/12", "private (RFC 1918)", _PRIVATE),
        ("192.0.0.0/24", "IETF protocol assignment", _PRIVATE),
        ("192.0.2.0/24", "documentation (TEST-NET-1)", _PRIVATE),
        ("192.88.99.0/24", "6to4 relay anycast (deprecated)", _PRIVATE),
        ("192.168.0.0/16", "private (RFC 1918)", _PRIVATE),
        ("198.18.0.0/15", "benchmarking", _PRIVATE),
        ("198.51.100.0/24", "documentation (TEST-NET-2)", _PRIVATE),
        ("203.0.113.0/24", "documentation (TEST-NET-3)", _PRIVATE),
        ("224.0.0.0/4", "multicast", _ALWAYS),
        ("240.0.0.0/4", "reserved (incl. broadcast)", _PRIVATE),
    ]
]

# Forms that carry an IPv4 address inside an IPv6 one: judged by the IPv4 address they carry.
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

_V6_REFUSED: list[tuple[ipaddress.IPv6Network, str, str]] = [
    (ipaddress.IPv6Network(net), name, kind)
    for net, name, kind in [
        ("::/128", "unspecified", _ALWAYS),
        ("::1/128", "loopback", _PRIVATE),
        ("::/96", "IPv4-compatible (deprecated)", _PRIVATE),
        ("64:ff9b:1::/48", "local-use NAT64", _PRIVATE),
        ("100::/64", "discard-only", _PRIVATE),
        ("2001::/23", "IETF protocol assignment (incl. Teredo)", _PRIVATE),
        ("2001:db8::/32", "documentation", _PRIVATE),
        ("3fff::/20", "documentation", _PRIVATE),
        ("fc00::/7", "unique local (private)", _PRIVATE),
        ("fe80::/10", "link-local", _PRIVATE),
        ("fec0::/10", "site-local (deprecated)", _PRIVATE),
        ("ff00::/8", "multicast", _ALWAYS),
    ]
]
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def address_problem(address: str | IPAddress, *, allow_private: bool = False) -> str | None:
    """Why a connection to `address` is refused (e.g. "a loopback address"), or None when it is public.

    IPv4 addresses carried inside IPv6 ones (mapped, SIIT, NAT64, 6to4) are judged by the IPv4
    address; IPv6 outside global unicast (2000::/3) is refused unless it carries IPv4.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "an IPv6 address with a zone index"
        inner = _carried_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner, allow_private=allow_private)
            return f"{problem} (IPv4 inside IPv6)" if problem else None
        table: list = _V6_REFUSED
    else:
        table = _V4_REFUSED
    for network, name, kind in table:
        if ip in network:
            return None if allow_private and kind == _PRIVATE else f"a {name} address"
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST and not allow_private:
        return "an IPv6 address outside global unicast"
    return None


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _MAPPED or ip in _TRANSLATED or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


# --- URLs --------------------------------------------------------------------------------------

# A host whose last label is a number is an IPv4 address to URL parsers (WHATWG), in any of the
# legacy notations (2130706433, 0x7f.1, 0177.0.0.1); only the dotted-decimal form is accepted.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as the client connects: lower case, IDNA-encoded, IPv6 without brackets
    port: int


@dataclass(frozen=True)
class Policy:
    """Where outgoing requests may go. `allow_private` (POSTVAK_WEBHOOKS_ALLOW_PRIVATE, never on by
    default) also allows `http` and loopback/private addresses, for tests and demos."""

    allow_private: bool = False
    resolver: Resolver = field(default=system_resolver, compare=False)

    def parse(self, url: str) -> Target:
        """The URL's target, or Refused saying what is wrong with its form (no DNS lookup)."""
        if len(url) > MAX_URL_LENGTH:
            raise Refused(f"at most {MAX_URL_LENGTH} characters")
        if problem := text_problem(url):
            raise Refused(problem)
        if any(c.isspace() for c in url):
            raise Refused("may not contain spaces")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise Refused(f"not a valid URL ({exc})") from None
        schemes = ("https", "http") if self.allow_private else ("https",)
        if parsed.scheme not in schemes:
            raise Refused("must be an https URL")
        if parsed.userinfo:
            raise Refused("may not carry a user name or password")
        if parsed.fragment:
            raise Refused("may not carry a fragment (#…): it is never sent")
        host = parsed.raw_host.decode("ascii").lower()
        if not host:
            raise Refused("must name a host")
        if "%" in host:
            raise Refused("may not carry an IPv6 zone index")
        if parsed.port == 0:
            raise Refused("port 0 is not a port")
        self._check_host_form(host)
        return Target(parsed.scheme, host, parsed.port or (443 if parsed.scheme == "https" else 80))

    def _check_host_form(self, host: str) -> None:
        labels = host.split(".")
        if ":" in host:  # an IPv6 literal; httpx has parsed it already
            return
        if _NUMERIC_LABEL.match(labels[-1] or (labels[-2] if len(labels) > 1 else "")):
            try:
                canonical = str(ipaddress.IPv4Address(host)) == host
            except ValueError:
                canonical = False
            if not canonical:
                raise Refused("write an IPv4 address as four decimal numbers (like 192.0.2.10)")
            return
        bare = host.rstrip(".")
        if not self.allow_private and (bare == "localhost" or bare.endswith(".localhost")):
            raise Refused("localhost is never a webhook receiver")

    def addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each checked: Refused when any one is not allowed (a name that
        resolves to a public and a private address is refused as a whole), Unresolvable when none."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        found = [str(literal)] if literal is not None else self.resolver(host, port)
        if not found:
            raise Unresolvable(f"{host} does not resolve")
        for address in found:
            if problem := address_problem(address, allow_private=self.allow_private):
                where = "is" if literal is not None else f"resolves to {address},"
                raise Refused(f"{host} {where} {problem}")
        return found

    def check_url(self, url: str) -> Target:
        """At registration: the URL's form, and every address its host resolves to now."""
        target = self.parse(url)
        self.addresses(target.host, target.port)
        return target


# --- the pinned connection ---------------------------------------------------------------------

# The moment (time.monotonic) by which the request in this thread must be done, set by
# GuardedClient.post; every connect, TLS handshake, read and write gets only what is left of it.
_deadline: ContextVar[float | None] = ContextVar("netguard_deadline", default=None)


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the time for this request is over")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the request's deadline: a receiver that sends its
    answer a byte at a time cannot keep a delivery going past it."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _remaining(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Resolves the host itself, checks every address, and connects to one of those addresses.

    httpcore hands this backend the URL's host name and then does TLS with that same name as SNI
    and for certificate verification: the name is only ever looked up here, once per connection.
    """

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = self._policy.addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = self._sockets.connect_tcp(
                    address,
                    port,
                    timeout=_remaining(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address may answer
                continue
            return _DeadlineStream(stream)
        assert failure is not None
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise Refused("unix sockets are never used for outgoing requests")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_CORE_TO_HTTPX: list[tuple[type[Exception], type[httpx.HTTPError]]] = [
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
]


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as httpx's (what every httpx transport raises); Refused and Unresolvable
    pass unchanged, so that a caller can tell the guard's refusal from a network failure."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise _mapped(exc) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise _mapped(exc) from exc


def _mapped(exc: Exception) -> httpx.HTTPError:
    for core, mapped in _CORE_TO_HTTPX:
        if isinstance(exc, core):
            return mapped(str(exc))
    return httpx.TransportError(str(exc))  # pragma: no cover - the table covers every httpcore error


class _AnswerStream(httpx.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._inner

    def close(self) -> None:
        with _as_httpx_errors():
            self._inner.close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that only talks to addresses the policy allows, checked at every connection.

    Use it under `httpx.Client(transport=..., follow_redirects=False, trust_env=False)`, or call
    `handle_request` directly. Connections are pooled per origin (scheme, host name, port), each
    connected to an address that was checked when it was opened.
    """

    def __init__(
        self, policy: Policy, *, ssl_context: ssl.SSLContext | None = None, max_connections: int = 100
    ) -> None:
        self.policy = policy
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=_PinnedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.parse(str(request.url))  # the scheme and form; the addresses at connection
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            answer = self._pool.handle_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_AnswerStream(answer.stream),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        self._pool.close()


# --- one POST ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What became of one request: the status and the start of the body, or why there was none."""

    status: int | None  # None: no HTTP answer arrived
    body: bytes  # at most the client's answer limit
    error: str | None  # refused | unresolvable | timeout | tls | connect | network | protocol
    detail: str | None  # the error in words (never the request's content)
    seconds: float


class GuardedClient:
    """POSTs to URLs that others chose, through a GuardedTransport: never a redirect, one deadline
    per request (`timeout`, 15 s), at most `answer_limit` bytes of the answer read."""

    def __init__(
        self,
        policy: Policy,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        answer_limit: int = DEFAULT_ANSWER_LIMIT,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        user_agent: str = "Postvak",
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.answer_limit = answer_limit
        self.user_agent = user_agent
        self.transport = GuardedTransport(policy, ssl_context=ssl_context, max_connections=max_connections)

    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        token = _deadline.set(started + self.timeout)
        try:
            request = httpx.Request(
                "POST",
                url,
                content=content,
                headers={"user-agent": self.user_agent, **headers},
                extensions={"timeout": httpx.Timeout(self.timeout).as_dict()},
            )
            response = self.transport.handle_request(request)
        except Exception as exc:  # noqa: BLE001 - every failure is an answer to record, none may escape
            error, detail = failure_of(exc)
            return Answer(None, b"", error, detail, time.monotonic() - started)
        else:
            body = self._read_start(response)
            return Answer(response.status_code, body, None, None, time.monotonic() - started)
        finally:
            _deadline.reset(token)

    def _read_start(self, response: httpx.Response) -> bytes:
        """Up to answer_limit bytes of the (undecoded) body; the status is the answer, so a body that
        breaks off or runs past the deadline still leaves it standing."""
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                body += chunk
                if len(body) >= self.answer_limit:
                    break
        except httpx.HTTPError:
            pass
        finally:
            response.close()  # a body not read to its end closes the connection
        return bytes(body[: self.answer_limit])

    def close(self) -> None:
        self.transport.close()


def failure_of(exc: BaseException) -> tuple[str, str]:
    """The class of a failed request and a short description of it."""
    if isinstance(exc, Refused):
        return "refused", str(exc)
    if isinstance(exc, Unresolvable):
        return "unresolvable", str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", "no answer in time"
    if _caused_by(exc, ssl.SSLError):
        return "tls", f"TLS failed: {_first_line(_cause(exc, ssl.SSLError))}"
    if isinstance(exc, httpx.ConnectError):
        return "connect", f"could not connect: {_first_line(exc)}"
    if isinstance(exc, httpx.NetworkError):
        return "network", f"the connection failed: {_first_line(exc)}"
    if isinstance(exc, httpx.HTTPError):
        return "protocol", f"not a valid HTTP answer: {_first_line(exc)}"
    return "internal", type(exc).__name__


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return _cause(exc, kind) is not None


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    current: BaseException | None = exc
    for _ in range(10):  # a chain is short; a cycle in it must not hang the delivery
        if current is None or isinstance(current, kind):
            return current
        current = current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException | None) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
