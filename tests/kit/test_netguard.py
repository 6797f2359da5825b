"""The SSRF guard: which addresses and URLs it refuses, and that a request goes only to an address
that was checked when its connection was opened (DNS rebinding), with TLS for the host name."""

from __future__ import annotations

import datetime
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from postvak.kit.netguard import (
    GuardedClient,
    GuardedTransport,
    Policy,
    Refused,
    Unresolvable,
    address_problem,
)
from tests.support.receiver import Reply, receiver

PUBLIC = "93.184.215.14"

REFUSED_ADDRESSES = [
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
    ("0.1.2.3", "unspecified"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.100.100.200", "carrier-grade NAT"),  # a cloud's metadata service lives here
    ("100.127.255.254", "carrier-grade NAT"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link-local"),  # the classic cloud metadata address
    ("169.254.0.1", "link-local"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.0.0.170", "IETF protocol assignment"),  # NAT64 discovery
    ("192.0.2.1", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback address (IPv4 inside IPv6)"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:0:7f00:1", "loopback address (IPv4 inside IPv6)"),  # SIIT, IPv4-translated
    ("::127.0.0.1", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"),  # deprecated, whatever it carries
    ("64:ff9b::7f00:1", "loopback address (IPv4 inside IPv6)"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:7f00:1::1", "loopback address (IPv4 inside IPv6)"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
    ("100::1", "discard-only"),
    ("2001::1", "Teredo"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("fc00::1", "unique local"),
    ("fd12:3456:789a::1", "unique local"),
    ("fe80::1", "link-local"),
    ("febf::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("4000::1", "outside global unicast"),
    ("fe80::1%eth0", "zone index"),
]
PUBLIC_ADDRESSES = [
    PUBLIC,
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "reason"), REFUSED_ADDRESSES)
def test_every_non_public_range_is_refused(address, reason):
    problem = address_problem(address)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(address):
    assert address_problem(address) is None


def test_the_development_switch_allows_private_and_loopback_but_never_unspecified_or_multicast():
    assert address_problem("127.0.0.1", allow_private=True) is None
    assert address_problem("192.168.1.1", allow_private=True) is None
    assert address_problem("::ffff:127.0.0.1", allow_private=True) is None
    assert address_problem("fd00::1", allow_private=True) is None
    assert "unspecified" in address_problem("0.0.0.0", allow_private=True)  # noqa: S104
    assert "multicast" in address_problem("ff02::1", allow_private=True)


def resolving(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise Unresolvable(f"{host} does not resolve")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.test/", "https"),
        ("ftp://hooks.example.test/", "https"),
        ("file:///etc/passwd", "https"),
        ("gopher://hooks.example.test/", "https"),
        ("https://2130706433/", "four decimal numbers"),  # decimal 127.0.0.1
        ("https://0x7f.1/", "four decimal numbers"),  # hex and short form
        ("https://0x7f000001/", "four decimal numbers"),
        ("https://127.1/", "four decimal numbers"),
        ("https://017700000001/", "four decimal numbers"),  # octal
        ("https://0177.0.0.1/", "valid"),  # octal dotted: httpx refuses it outright
        ("https://127.0.0.1./", "four decimal numbers"),  # trailing dot on an address
        ("https://evil@127.0.0.1/", "user name"),
        ("https://hooks.example.test:secret@127.0.0.1/", "user name"),
        ("https://user:pw@hooks.example.test/", "user name"),
        ("https://localhost/", "localhost"),
        ("https://localhost./", "localhost"),  # trailing dot
        ("https://api.localhost/", "localhost"),
        ("https://hooks.example.test/#x", "fragment"),
        ("https://[fe80::1%25eth0]/", "zone index"),
        ("https://hooks.example.test:0/", "port"),
        ("https://hooks.example.test/a b", "spaces"),
        ("https://hooks.example.test/\u202e", "bidirectional"),
        ("https:///nohost", "host"),
        ("https://" + "a" * 2050 + ".test/", "2048"),
    ],
)
def test_urls_of_the_wrong_form_are_refused_before_any_lookup(url, reason):
    def no_lookups(host: str, port: int) -> list[str]:
        raise AssertionError(f"{host} was looked up")

    with pytest.raises(Refused, match=reason):
        Policy(resolver=no_lookups).check_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/", "127.0.0.1 is a loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.1.2.3:8443/hook", "private"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:a9fe:a9fe]/", "link-local"),
        ("https://[64:ff9b::a00:1]/", "private"),
        ("https://[fd00::1]/", "unique local"),
        ("https://loopback.example.test/", "resolves to 127.0.0.1, a loopback"),
        ("https://loopback.example.test./", "resolves to 127.0.0.1, a loopback"),  # trailing dot, same name
        ("https://metadata.example.test/", "resolves to 169.254.169.254"),
        ("https://mixed.example.test/", "resolves to 10.0.0.5"),  # one bad address refuses the name
        ("https://six.example.test/", "resolves to ::1"),
        ("https://mapped.example.test/", "resolves to ::ffff:127.0.0.1"),
    ],
)
def test_hosts_that_are_or_resolve_to_non_public_addresses_are_refused(url, reason):
    policy = Policy(
        resolver=resolving(
            {
                "loopback.example.test": ["127.0.0.1"],
                "loopback.example.test.": ["127.0.0.1"],
                "metadata.example.test": ["169.254.169.254"],
                "mixed.example.test": [PUBLIC, "10.0.0.5"],
                "six.example.test": ["2606:4700:4700::1111", "::1"],
                "mapped.example.test": ["::ffff:127.0.0.1"],
            }
        )
    )
    with pytest.raises(Refused, match=reason):
        policy.check_url(url)


def test_public_urls_pass_and_a_name_without_address_is_unresolvable():
    policy = Policy(resolver=resolving({"hooks.example.test": [PUBLIC, "2606:4700:4700::1111"]}))
    assert policy.check_url("https://hooks.example.test/postvak?x=1").host == "hooks.example.test"
    assert policy.check_url("https://HOOKS.example.test:8443/").port == 8443
    assert policy.check_url(f"https://{PUBLIC}/hook").host == PUBLIC
    with pytest.raises(Unresolvable):
        policy.check_url("https://unknown.example.test/")


def test_http_and_loopback_only_with_the_development_switch():
    policy = Policy(
        allow_private=True, resolver=resolving({"dev.example.test": ["127.0.0.1"], "localhost": ["::1"]})
    )
    assert policy.check_url("http://127.0.0.1:8080/hook").port == 8080
    assert policy.check_url("http://localhost:8080/hook").host == "localhost"
    assert policy.check_url("https://dev.example.test/").host == "dev.example.test"
    with pytest.raises(Refused, match="four decimal numbers"):
        policy.check_url("http://2130706433/")  # an ambiguous form stays refused


# --- at the connection --------------------------------------------------------------------------


class Rebinding:
    """A DNS that answers one thing at registration and another afterwards, counting the questions."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked = 0

    def __call__(self, host: str, port: int) -> list[str]:
        answer = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return answer


def test_a_dns_answer_that_changes_after_registration_is_refused_at_connection():
    with receiver() as hooks:
        dns = Rebinding([PUBLIC], ["127.0.0.1"])
        policy = Policy(resolver=dns)
        url = f"https://rebind.example.test:{hooks.port}/hook"
        policy.check_url(url)  # registration: a public address
        answer = GuardedClient(policy).post(url, content=b"{}", headers={})
        assert answer.status is None and answer.error == "refused"
        assert "resolves to 127.0.0.1, a loopback address" in answer.detail
        assert hooks.received == []
        assert dns.asked == 2


def test_the_connection_goes_to_the_address_that_was_checked_and_nowhere_else():
    # The system cannot resolve this name at all: the request can only arrive if the socket went to
    # the address the guard's own lookup gave (and checked), never through a second lookup.
    with receiver() as hooks:
        dns = Rebinding(["127.0.0.1"])
        client = GuardedClient(Policy(allow_private=True, resolver=dns))
        answer = client.post(
            f"http://pinned.example.test:{hooks.port}/hook", content=b'{"a":1}', headers={"x-test": "1"}
        )
        assert answer.status == 200 and answer.body == b"ok"
        [request] = hooks.received
        assert request.headers["host"] == f"pinned.example.test:{hooks.port}"
        assert request.body == b'{"a":1}' and request.headers["x-test"] == "1"
        assert dns.asked == 1


def test_every_resolved_address_is_checked_at_connection_too():
    with receiver() as hooks:
        client = GuardedClient(Policy(resolver=Rebinding([PUBLIC, "127.0.0.1"])))
        answer = client.post(f"https://mixed.example.test:{hooks.port}/", content=b"", headers={})
        assert answer.error == "refused" and hooks.received == []


def test_the_transport_refuses_under_a_plain_httpx_client_too():
    transport = GuardedTransport(Policy())
    with httpx.Client(transport=transport, follow_redirects=False, trust_env=False) as client:
        with pytest.raises(Refused, match="loopback"):
            client.get("https://127.0.0.1:1/")
        with pytest.raises(Refused, match="https"):
            client.get("http://8.8.8.8/")


def test_redirects_are_never_followed():
    with receiver() as hooks:
        hooks.reply("/hook", Reply(302, b"", {"location": hooks.url("/elsewhere")}))
        client = GuardedClient(Policy(allow_private=True))
        answer = client.post(hooks.url("/hook"), content=b"{}", headers={})
        assert answer.status == 302
        assert [r.path for r in hooks.received] == ["/hook"]


def test_an_answer_is_read_only_up_to_the_limit():
    with receiver() as hooks:
        hooks.reply("/big", Reply(200, b"x" * 1_000_000))
        answer = GuardedClient(Policy(allow_private=True), answer_limit=1024).post(
            hooks.url("/big"), content=b"{}", headers={}
        )
        assert answer.status == 200 and answer.body == b"x" * 1024


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline():
    # Each byte arrives well within the per-read timeout; only the one deadline for the whole
    # request ends it (the receiver would otherwise keep dripping for 20 s and then answer 200).
    with receiver() as hooks:
        hooks.dripping.add("/slow")
        answer = GuardedClient(Policy(allow_private=True), timeout=1.0).post(
            hooks.url("/slow"), content=b"{}", headers={}
        )
        assert answer.status is None and answer.error == "timeout"


def test_a_refused_connection_is_a_connect_error():
    with receiver() as hooks:
        port = hooks.port
    answer = GuardedClient(Policy(allow_private=True)).post(
        f"http://127.0.0.1:{port}/", content=b"", headers={}
    )
    assert answer.status is None and answer.error == "connect"


# --- TLS for the host name, on the checked address ------------------------------------------------


def _certificate(name: str, tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for `name`: the server's context and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_tls_is_verified_for_the_host_name_while_connecting_to_the_checked_address(tmp_path):
    server_tls, client_tls = _certificate("hooks.example.test", tmp_path)
    with receiver(server_tls) as hooks:
        dns = Rebinding(["127.0.0.1"])
        client = GuardedClient(Policy(allow_private=True, resolver=dns), ssl_context=client_tls)
        answer = client.post(f"https://hooks.example.test:{hooks.port}/hook", content=b"{}", headers={})
        assert answer.status == 200
        assert hooks.received[0].headers["host"] == f"hooks.example.test:{hooks.port}"
        # Another name on the same address: its certificate does not match, nothing is sent.
        dns.answers = [["127.0.0.1"]]
        other = client.post(f"https://other.example.test:{hooks.port}/hook", content=b"{}", headers={})
        assert other.status is None and other.error == "tls"
        assert len(hooks.received) == 1
