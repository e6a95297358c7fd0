"""The check every URL a user configures passes before the server calls it (webhooks, partners)."""
import collections
import ipaddress
import socket
import types

import pytest
from conftest import make_app

from app.config import Settings
from app.errors import PartnerUnavailable
from app.outbound import UnsafeURL, check_url
from app.partners.client import PartnerClient
from support.trickler import trickling


@pytest.mark.parametrize("url", [
    "ftp://example.org/hook", "file:///etc/passwd", "gopher://x", "http://", "not a url",
    "http://user:pw@example.org/", "http://example.org:99999/",
    # What urlsplit drops before the check (tabs, line breaks) or a store cannot hold (a lone
    # surrogate): the URL checked would not be the one kept and called.
    "http://127.0.0.1/hooks\r\nX-Evil: 1", "http://exa\tmple.org/", "http://127.0.0.1/\udcff", "http://127.0.0.1/a\x00",
])
def test_a_url_that_is_not_plain_http_is_refused(url):
    with pytest.raises(UnsafeURL) as caught:
        check_url(url, allow_private=True)
    assert caught.value.status == 422 and caught.value.extra["field"] == "url"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/", "http://localhost/", "http://10.0.0.1/", "http://169.254.169.254/latest",
    "http://192.168.1.4/", "http://172.16.0.9/", "http://[::1]/", "http://[fe80::1]/",
    "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/",
])
def test_loopback_private_and_link_local_hosts_are_refused_unless_allowed(url):
    with pytest.raises(UnsafeURL, match="does not call|does not resolve"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url


def test_a_refusal_does_not_tell_which_address_a_name_has():
    """A name the deployment resolves to a private address is refused without naming that
    address: the 422 would map the deployment's internal DNS for anyone who may subscribe."""
    with pytest.raises(UnsafeURL) as caught:
        check_url("http://localhost/hooks", allow_private=False)
    assert "localhost" in caught.value.detail
    assert "127.0.0.1" not in caught.value.detail and "::1" not in caught.value.detail


def test_a_public_address_passes():
    assert check_url("https://93.184.215.14/hooks", allow_private=False) == "https://93.184.215.14/hooks"


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeURL, match="does not resolve"):
        check_url("http://no-such-host.invalid/", allow_private=False)


@pytest.mark.parametrize("raw, value", [("true", True), ("1", True), ("false", False), ("0", False)])
def test_the_allow_private_switch_reads_as_the_environment_spells_it(raw, value):
    settings = Settings.load(environ={"DFC_HUB_WEBHOOK_ALLOW_PRIVATE": raw})
    assert settings.webhook_allow_private is value


def test_a_switch_that_is_neither_true_nor_false_stops_the_server():
    with pytest.raises(ValueError, match="not true or false"):
        Settings.load(environ={"DFC_HUB_WEBHOOK_ALLOW_PRIVATE": "maybe"})


@pytest.mark.parametrize("host", [
    "[::127.0.0.1]", "[::a9fe:a9fe]",                        # IPv4-compatible
    "[::ffff:0:127.0.0.1]", "[::ffff:0:a00:1]",              # IPv4-translated (::ffff:0:0:0/96)
    "[64:ff9b::127.0.0.1]", "[64:ff9b::a9fe:a9fe]",          # NAT64, well-known prefix
    "[64:ff9b:1::7f00:1]", "[64:ff9b:1:a9fe:a9:fe00::]",     # NAT64, local-use prefix (RFC 8215)
    "[2002:7f00:1::]", "[2002:a9fe:a9fe::1]",                # 6to4
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",                # Teredo, its client 127.0.0.1
    "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]",              # IPv4-mapped (already refused)
])
def test_an_ipv6_address_carrying_a_loopback_private_or_metadata_ipv4_is_refused(host):
    """On a network with NAT64 or a 6to4 relay each of these reaches an internal IPv4 service."""
    with pytest.raises(UnsafeURL, match="does not call"):
        check_url(f"http://{host}:8080/catalog", allow_private=False)


def test_an_ipv6_address_carrying_a_public_ipv4_passes():
    assert check_url("https://[64:ff9b::5db8:d70e]/hooks", allow_private=False)     # NAT64 of 93.184.215.14


PUBLIC = "93.184.215.14"


@pytest.fixture
def network(monkeypatch):
    """Our own DNS answers for names under .invalid, and a jail: no connection leaves loopback.

    `network.dns[name]` lists the answers, one per lookup (the last repeated); `network.looked_up`
    counts lookups; `network.jailed` lists each connection to anything but loopback, refused.
    """
    real_lookup, real_connect = socket.getaddrinfo, socket.socket.connect
    net = types.SimpleNamespace(dns={}, looked_up=collections.Counter(), jailed=[])

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".invalid") and host in net.dns:
            net.looked_up[host] += 1
            answers = net.dns[host]
            ip = answers.pop(0) if len(answers) > 1 else answers[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, int(port)))]
        return real_lookup(host, port, *args, **kwargs)

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not ipaddress.ip_address(address[0]).is_loopback:
            net.jailed.append(address[:2])
            raise ConnectionRefusedError("tests reach loopback only")
        return real_connect(sock, address)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return net


def test_a_name_that_rebinds_between_check_and_connect_is_not_followed(network):
    """DNS rebinding: the name passes the check as a public address, then answers loopback; the
    call goes to the address that was checked (here refused by the jail), never to loopback."""
    client = PartnerClient(False, 5, 1 << 20)
    try:
        with trickling(0) as inside:
            port = int(inside.url.rsplit(":", 1)[1])
            network.dns["rebind.invalid"] = [PUBLIC, "127.0.0.1"]
            with pytest.raises(PartnerUnavailable):
                client.fetch(f"http://rebind.invalid:{port}/catalog", None)
            assert inside.requests == []
    finally:
        client.close()
    assert network.jailed == [(PUBLIC, port)] and network.looked_up["rebind.invalid"] == 1


def test_a_pinned_call_keeps_the_name_in_the_host_header(network):
    client = PartnerClient(True, 5, 1 << 20)
    try:
        with trickling(0) as partner:
            port = int(partner.url.rsplit(":", 1)[1])
            network.dns["partner.invalid"] = ["127.0.0.1"]
            assert client.fetch(f"http://partner.invalid:{port}/catalog", None).status == 200
            assert client.fetch(f"http://partner.invalid:{port}/catalog", None).status == 200
    finally:
        client.close()
    assert [(path, headers["host"]) for _, path, headers in partner.requests] == \
        [("/catalog", f"partner.invalid:{port}")] * 2
    assert network.looked_up["partner.invalid"] == 2 and network.jailed == []


def test_the_partner_concurrency_is_read_from_the_environment_and_is_at_least_one():
    assert Settings.load(environ={}).partner_concurrency == 4
    assert Settings.load(environ={"DFC_HUB_PARTNER_CONCURRENCY": "2"}).partner_concurrency == 2
    with pytest.raises(ValueError, match="at least 1"):
        make_app(partner_concurrency=0)
