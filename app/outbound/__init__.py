"""Calls the server makes to URLs its users configured: webhook receivers, partner platforms.

A URL a user gives us is a request we will make later, from inside the deployment: without a
check, `http://169.254.169.254/` (a cloud's metadata service) or `http://10.0.0.5/admin` would
make the hub a proxy into its own network. So a URL must be http(s) and every address its host
resolves to must be public — an IPv6 address that carries an IPv4 one (mapped, compatible,
translated, NAT64, 6to4, Teredo) is judged by that IPv4 address too, as a NAT64 gateway or a 6to4
relay would deliver it there — unless the deployment allows private ones
(DFC_HUB_WEBHOOK_ALLOW_PRIVATE: tests, single-host setups). The check runs when the URL is given
and again before every call, and the call connects to the addresses that check resolved, never
resolving the name again (DNS rebinding); the Host header and TLS (SNI, certificate) keep the name.

Every call goes through `Outbound.request`, the one place that knows urllib3 (used directly, not
through requests, which cost twice the CPU per call): it never follows a redirect, retries nothing,
takes no proxy or .netrc from the environment, ends within one total deadline covering connect,
TLS, headers and body (a watchdog shuts the socket down when it passes, so a peer trickling a byte
at a time cannot hold a worker), reads at most a given size, may cap the calls under way to one
origin, and turns every failure into one of the errors below:

    UnsafeURL (422)      the URL is not one the server calls
    CallFailed           no usable answer; `str()` says why
    ├── Unreachable      no connection, or it broke
    ├── DeadlinePassed   no complete answer within the deadline
    ├── TooLarge         the answer is larger than the caller reads
    └── Busy             the origin already has as many calls under way as allowed

urllib3's connection internals used here (`_new_conn`, `conn_kw`, `connection_from_pool_key`)
are those of urllib3 2, which pyproject.toml requires. What requests did for us besides is done
here as it did it: its default headers, header values checked, certifi's CA bundle. Its cookie jar
is not: no call carries a cookie a peer set on another.
"""
from __future__ import annotations

import contextlib
import dataclasses
import http.client
import ipaddress
import re
import socket
import threading
from urllib.parse import urlsplit

from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.util import connection as urllib3_connection
from urllib3.util import make_headers, parse_url

try:
    import certifi
except ImportError:        # requests depends on it: there as long as the project keeps requests
    certifi = None

from app.errors import InvalidValue
from app.outbound.deadline import Deadline

DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 ranges whose last 32 bits are an IPv4 address a gateway delivers to: IPv4-compatible
# (::/96), IPv4-translated (::ffff:0:0:0/96, RFC 2765) and NAT64's well-known prefix (RFC 6052).
IPV4_IN_LOW_BITS = [ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")]
# NAT64's local-use prefix (RFC 8215): its networks place the IPv4 address where they choose, so
# nothing in it is judged public.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
# The headers requests sent unless told otherwise (its User-Agent aside), so a peer answers as it
# did; a compressed answer is decoded before it is measured against max_bytes, as requests did.
DEFAULT_HEADERS = {"Accept-Encoding": ", ".join(make_headers(accept_encoding=True)["accept-encoding"].split(",")),
                   "Accept": "*/*", "Connection": "keep-alive"}
# A header value with a line break (a token a peer gave us, say) is refused before it is sent, as
# requests refused it: http.client would raise a bare ValueError.
BAD_HEADER_VALUE = re.compile(r"\A\s|[\r\n]")
# http.client writes header values as Latin-1 and raises UnicodeEncodeError on anything else.
LATIN_1 = re.compile(r"[\x00-\xff]*")
# Verified against certifi's CA bundle, the one requests used, so the peers trusted do not change
# (urllib3 alone would use the system's store); the hostname is checked against the certificate.
TLS = {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where() if certifi else None}


class UnsafeURL(InvalidValue):
    """A configured URL the server will not call (422)."""


class CallFailed(Exception):
    """An outbound call that gave no usable answer."""


class Unreachable(CallFailed):
    """No connection to the peer, or it broke before the answer was complete."""


class DeadlinePassed(CallFailed):
    """No complete answer within the call's total deadline."""


class TooLarge(CallFailed):
    """An answer larger than the caller reads."""


class Busy(CallFailed):
    """The origin already has as many calls under way as allowed."""

    def __init__(self, origin: str, limit: int):
        super().__init__(f"{limit} calls to {origin} are already under way")
        self.origin, self.limit = origin, limit


# What a call may raise below us (a watchdog's shutdown surfaces as any of them); anything else is a bug.
TRANSPORT_ERRORS = (HTTPError, http.client.HTTPException, OSError, Unreachable)


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: dict            # names in lower case
    body: bytes


# --- the guard ------------------------------------------------------------------------------

def check_url(url: str, allow_private: bool, field: str = "url") -> str:
    """Return `url` if the server may call it; else raise UnsafeURL naming `field`."""
    host, port = _parts(url, field)
    if not allow_private:
        _resolve(host, port, allow_private, field)
    return url


@dataclasses.dataclass(frozen=True)
class Guard:
    """`check_url` with the server's setting: what services that store URLs are given (they never
    import the network themselves: a name is resolved here)."""
    allow_private: bool

    def __call__(self, url: str, field: str = "url") -> str:
        return check_url(url, self.allow_private, field)


def refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether the server refuses to call `address`: not public, or an IPv6 form of one that is not."""
    if address.version == 6:
        if address in LOCAL_NAT64:
            return True
        if any(refused(inner) for inner in _embedded(address)):
            return True
    return not address.is_global or address.is_multicast


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, where a gateway or relay would deliver it."""
    found = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if any(address in network for network in IPV4_IN_LOW_BITS):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _parts(url: str, field: str) -> tuple[str, int]:
    if not isinstance(url, str) or len(url) > 2048:
        raise UnsafeURL("a URL must be a string of at most 2048 characters", field=field)
    # urlsplit drops tabs and line breaks before it parses, and a lone surrogate is no text a store
    # holds: the URL judged must be the one kept and called, character for character.
    if not url.isprintable():
        raise UnsafeURL("a URL may not hold control characters, line breaks or lone surrogates", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnsafeURL(f"{url!r} is not a URL: {e}", field=field) from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UnsafeURL(f"{url!r} must be an http or https URL with a host", field=field)
    if parts.username or parts.password:
        raise UnsafeURL("a URL may not carry a user name or password; give a token instead", field=field)
    return parts.hostname, DEFAULT_PORTS[parts.scheme] if port is None else port


def _resolve(host: str, port: int, allow_private: bool, field: str) -> tuple[str, ...]:
    """The addresses `host` resolves to, once, each judged unless private ones are allowed."""
    addresses = _addresses(host, port, field)
    if not allow_private:
        for address in addresses:
            if refused(address):
                # Not which address: the answer would map the deployment's internal names for any caller.
                raise UnsafeURL(f"{host} resolves to a loopback, private or link-local address the server "
                                "does not call (DFC_HUB_WEBHOOK_ALLOW_PRIVATE)", field=field)
    return tuple(dict.fromkeys(str(a) for a in addresses))


def _addresses(host: str, port: int, field: str) -> list:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"{host} does not resolve", field=field) from None
    return [ipaddress.ip_address(sockaddr[0].split("%", 1)[0]) for *_, sockaddr in found]


# --- the calls ------------------------------------------------------------------------------

class Outbound:
    """Outbound calls of one kind: one connection pool, the guard, deadlines, an optional cap per origin."""

    def __init__(self, allow_private: bool, pool: int = 10, per_origin: int | None = None):
        self.allow_private, self.per_origin = allow_private, per_origin
        # urllib3 reads no proxy or .netrc from the environment: where we connect is what we checked.
        self._manager = PoolManager(num_pools=pool, maxsize=pool, block=False)
        self._manager.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}
        self._under_way: dict[str, int] = {}
        self._lock = threading.Lock()

    def request(self, method: str, url: str, *, deadline: float, max_bytes: int, headers: dict | None = None,
                body: bytes | None = None, truncate: bool = False) -> Answer:
        """One call, its answer whatever the status, all of it within `deadline` seconds.

        An answer past `max_bytes` is TooLarge, or with `truncate` cut there — as it is at the
        deadline once the status came (a webhook receiver's body is not kept).
        """
        with self._slot(url), Deadline(deadline) as clock:
            try:
                pool, target = self._pool(url)
                response = pool.urlopen(method, target, body=body, headers=_headers(headers), redirect=False,
                                        retries=False, assert_same_host=False, preload_content=False,
                                        timeout=clock.remaining())
            except TRANSPORT_ERRORS as e:
                raise _failure(clock, e) from None
            try:
                content = self._read(response, clock, max_bytes, truncate)
            finally:
                # Read to its end, the connection went back to the pool; else it is closed, then given back.
                response.close()
                response.release_conn()
            return Answer(response.status, {k.lower(): v for k, v in response.headers.itermerged()}, content)

    def _pool(self, url: str) -> tuple[HTTPConnectionPool, str]:
        """The pool for `url` pinned to the addresses checked now, and the target to ask it for."""
        host, port = _parts(url, "url")
        try:
            addresses = _resolve(host, port, self.allow_private, "url")
        except UnsafeURL:
            if self.allow_private:     # only a name that does not resolve: a failed call, as before pinning
                raise Unreachable(f"{host} does not resolve") from None
            raise
        parsed = parse_url(url)        # as urllib3's own urlopen: the path and query, quoted where needed
        # One pool per (origin, addresses): a connection kept alive goes to addresses checked for it.
        key = (parsed.scheme, host, port, addresses, *TLS.items())
        context = {**self._manager.connection_pool_kw, **TLS, "scheme": parsed.scheme, "host": host,
                   "port": port, "addresses": addresses}
        return self._manager.connection_from_pool_key(key, request_context=context), parsed.request_uri

    def _read(self, response, clock: Deadline, max_bytes: int, truncate: bool) -> bytes:
        """The body, read until the watchdog cuts it off at the deadline (then what came, if `truncate`)."""
        chunks, size = [], 0
        try:
            for chunk in response.stream(65536, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    if truncate:
                        break
                    raise TooLarge(f"the answer is larger than {max_bytes} bytes")
                chunks.append(chunk)
        except TRANSPORT_ERRORS as e:
            if not truncate:
                raise _failure(clock, e) from None
        return b"".join(chunks)

    @contextlib.contextmanager
    def _slot(self, url: str):
        if self.per_origin is None:
            yield
            return
        origin = _origin(url)
        with self._lock:
            if self._under_way.get(origin, 0) >= self.per_origin:
                raise Busy(origin, self.per_origin)
            self._under_way[origin] = self._under_way.get(origin, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._under_way[origin] -= 1
                if not self._under_way[origin]:
                    del self._under_way[origin]

    def close(self) -> None:
        self._manager.clear()


def _headers(given: dict | None) -> dict:
    """The caller's headers over the defaults (names compared without case), each value checked."""
    given = given or {}
    for name, value in given.items():
        if BAD_HEADER_VALUE.search(value):
            raise Unreachable(f"InvalidHeader: the value of {name} starts with a space or holds a line break")
        if not LATIN_1.fullmatch(value):
            raise Unreachable(f"InvalidHeader: the value of {name} holds a character an HTTP header cannot carry")
    names = {name.lower() for name in given}
    return {**{k: v for k, v in DEFAULT_HEADERS.items() if k.lower() not in names}, **given}


def _failure(clock: Deadline, error: Exception) -> CallFailed:
    """What a transport error means: the deadline, if it passed (or cut the call), else unreachable."""
    if clock.cut(error):
        return DeadlinePassed(clock.message())
    if isinstance(error, CallFailed):
        return error
    return Unreachable(f"{type(error).__name__}: {str(error)[:300]}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or DEFAULT_PORTS.get(parts.scheme, '')}"


class _Pinned:
    """A connection to the addresses given (in order), within the current call's deadline."""

    def __init__(self, *args, addresses: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = addresses

    def _new_conn(self) -> socket.socket:
        deadline = Deadline.current()
        error: Exception = NewConnectionError(self, f"{self.host} has no address")
        for address in self.addresses:
            timeout = self.timeout if deadline is None else deadline.bound(self.timeout)
            try:
                sock = urllib3_connection.create_connection((address, self.port), timeout,
                                                            source_address=self.source_address,
                                                            socket_options=self.socket_options)
            except socket.timeout:
                error = ConnectTimeoutError(self, f"connecting to {self.host} ({address}) timed out")
            except OSError as e:
                error = NewConnectionError(self, f"cannot connect to {self.host} ({address}): {e}")
            else:
                if deadline is not None:
                    deadline.watch(sock)
                return sock
        raise error

    def request(self, *args, **kwargs):
        deadline = Deadline.current()
        if deadline is not None and self.sock is not None:    # a connection kept alive from a call before
            deadline.watch(self.sock)
        return super().request(*args, **kwargs)


class _PinnedHTTPConnection(_Pinned, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection

