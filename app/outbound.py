"""Calls the server makes to URLs its users configured: webhook receivers, partner platforms.

A URL a user gives us is a request we will make later, from inside the deployment: without a
check, `http://169.254.169.254/` (a cloud's metadata service) or `http://10.0.0.5/admin` would
make the hub a proxy into its own network. So a URL must be http(s) and every address its host
resolves to must be public, unless the deployment allows private ones
(DFC_HUB_WEBHOOK_ALLOW_PRIVATE: tests, single-host setups). The check runs when the URL is
given and again before every call, as a name may resolve elsewhere later (DNS rebinding).
Calls never follow redirects (a public URL could redirect to a private one) and always time out.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from app.errors import InvalidValue


class UnsafeURL(InvalidValue):
    """A configured URL the server will not call (422)."""


def check_url(url: str, allow_private: bool, field: str = "url") -> str:
    """Return `url` if the server may call it; else raise UnsafeURL naming `field`."""
    if not isinstance(url, str) or len(url) > 2048:
        raise UnsafeURL("a URL must be a string of at most 2048 characters", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnsafeURL(f"{url!r} is not a URL: {e}", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(f"{url!r} must be an http or https URL with a host", field=field)
    if parts.username or parts.password:
        raise UnsafeURL("a URL may not carry a user name or password; give a token instead", field=field)
    if allow_private:
        return url
    for address in _addresses(parts.hostname, port, field):
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(f"{parts.hostname} resolves to {address}, a loopback, private or "
                            "link-local address the server does not call (DFC_HUB_WEBHOOK_ALLOW_PRIVATE)",
                            field=field)
    return url


def _addresses(host: str, port: int | None, field: str) -> list:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        return [literal]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"{host} does not resolve", field=field) from None
    out = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        # An IPv4 address spelt as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 one.
        out.append(getattr(address, "ipv4_mapped", None) or address)
    return out


def new_session(pool: int = 10) -> requests.Session:
    """A requests session with a connection pool, for one kind of outbound call."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False       # no proxy or .netrc from the environment changes where we go
    return session


def call(session: requests.Session, method: str, url: str, *, allow_private: bool, timeout: float,
         **kwargs) -> requests.Response:
    """One outbound request: the URL checked again now, no redirect followed, a timeout."""
    check_url(url, allow_private)
    return session.request(method, url, allow_redirects=False, timeout=timeout, **kwargs)
