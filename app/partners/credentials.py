"""A partner's credentials as platforms issue them (API.md "credentials as platforms issue them"): pure.

A partner's JSON gives `token` (a static bearer token) or `auth`, one of:

    {"kind": "bearer", "token"}
    {"kind": "client_credentials", "token_url", "client_id", "client_secret", "scope"?}
    {"kind": "refresh_token", "token_url", "client_id", "client_secret"?, "refresh_token"}

and, for the two OAuth 2.0 kinds, `token_endpoint_auth_method` ("client_secret_basic", the
default, or "client_secret_post": the names of RFC 7591) where the identity provider wants the
client's secret in the form rather than in HTTP Basic. They are kept with what the hub learns
by using them — the access token in use and until when, the refresh token as last rotated —
in the partner's private graph (desk.token_graph), which no read path reaches.
"""
from __future__ import annotations

import dataclasses
import re

from pyoxigraph import Literal, NamedNode, Triple

from app.errors import InvalidValue
from app.namespaces import XSD, hub
from app.rdf.triples import first

BEARER, CLIENT_CREDENTIALS, REFRESH_TOKEN = "bearer", "client_credentials", "refresh_token"
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
MAX_TEXT = 4096
BEARER_TOKEN = re.compile(r"[!-~]+")      # visible ASCII: what an Authorization header carries as is
_MEMBERS = {
    BEARER: ({"token"}, set()),
    CLIENT_CREDENTIALS: ({"token_url", "client_id", "client_secret"}, {"scope", "token_endpoint_auth_method"}),
    REFRESH_TOKEN: ({"token_url", "client_id", "refresh_token"}, {"client_secret", "token_endpoint_auth_method"}),
}
# Where each is kept in the private graph (the JSON member → the predicate).
_STORED = {"token": hub("partnerToken"), "token_url": hub("tokenURL"), "client_id": hub("clientId"),
           "client_secret": hub("clientSecret"), "scope": hub("oauthScope"), "refresh_token": hub("refreshToken"),
           "token_endpoint_auth_method": hub("tokenEndpointAuthMethod")}
KIND = hub("credentialsKind")
# An origin (scheme://host:port) of the catalog and orders URLs the credentials were given with:
# the partner's token goes to no other (desk.check_origin).
TOKEN_ORIGIN = hub("tokenOrigin")
ACCESS_TOKEN, USABLE_UNTIL = hub("accessToken"), hub("accessTokenUsableUntil")
REFRESHES = hub("refreshCount")
# Marks the partner's own document when its identity provider refused what the hub holds.
REFUSED = hub("credentialsRefused")


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What a partner was given, and what using it taught (the access token, the rotated refresh token)."""
    kind: str
    token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    refresh_token: str | None = None
    token_endpoint_auth_method: str | None = None
    access_token: str | None = None
    usable_until: float | None = None       # seconds since 1970; None: until the partner answers 401
    refreshes: int = 0
    origins: frozenset[str] = frozenset()

    @property
    def issued(self) -> bool:
        """Tell whether access tokens come from a token endpoint (they expire, and are renewed)."""
        return self.kind != BEARER

    def usable(self, now: float) -> str | None:
        """The access token to send now, or None when a fresh one is needed."""
        if self.kind == BEARER:
            return self.token
        if self.access_token is None or (self.usable_until is not None and self.usable_until <= now):
            return None
        return self.access_token


def from_json(body: dict, guard) -> Credentials | None:
    """The credentials a partner's JSON gives (`token` or `auth`), None when it gives none; 422 else.

    `guard(url, field)` refuses a URL the server may not call (app/outbound Guard).
    """
    if "token" in body and "auth" in body:
        raise InvalidValue("give the credentials once: `token` or `auth`, not both", field="auth")
    if "token" in body:
        return Credentials(BEARER, token=_bearer(_text(body["token"], "token"), "token"))
    if "auth" not in body:
        return None
    auth = body["auth"]
    if not isinstance(auth, dict) or auth.get("kind") not in _MEMBERS:
        raise InvalidValue(f"auth must be an object whose kind is one of {', '.join(_MEMBERS)}",
                           pointer="/auth/kind" if isinstance(auth, dict) else "/auth", allowed=list(_MEMBERS))
    kind = auth["kind"]
    required, optional = _MEMBERS[kind]
    unknown = sorted(set(auth) - required - optional - {"kind"})
    if unknown:
        raise InvalidValue(f"unknown member(s) {', '.join(unknown)} of a {kind} auth; it has "
                           f"{', '.join(sorted(required | optional))}", pointer=f"/auth/{unknown[0]}")
    missing = sorted(required - set(auth))
    if missing:
        raise InvalidValue(f"a {kind} auth needs {', '.join(missing)}", pointer=f"/auth/{missing[0]}")
    values = {name: _text(auth[name], f"auth/{name}") for name in auth if name != "kind"}
    if kind == BEARER:
        values["token"] = _bearer(values["token"], "auth/token")
    if "token_url" in values:
        guard(values["token_url"], field="auth/token_url")
    method = values.get("token_endpoint_auth_method")
    if method is not None and method not in AUTH_METHODS:
        raise InvalidValue(f"token_endpoint_auth_method is one of {', '.join(AUTH_METHODS)}",
                           pointer="/auth/token_endpoint_auth_method", allowed=list(AUTH_METHODS))
    if method == "client_secret_post" and "client_secret" not in values:
        raise InvalidValue("client_secret_post sends the client's secret: give client_secret",
                           pointer="/auth/client_secret")
    return Credentials(kind, **values)


def _bearer(value: str, name: str) -> str:
    """A bearer token as an Authorization header carries it: visible ASCII, no space (RFC 6750
    asks less of a token than this, and real platforms' tokens hold `|` or `:`)."""
    if not BEARER_TOKEN.fullmatch(value):
        where = {"pointer": f"/{name}"} if "/" in name else {"field": name}
        raise InvalidValue(f"{name} must be printable ASCII without spaces: an HTTP header carries it", **where)
    return value


def _text(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or any(c in value for c in "\r\n"):
        where = {"pointer": f"/{name}"} if "/" in name else {"field": name}
        raise InvalidValue(f"{name} must be a non-empty string of at most {MAX_TEXT} characters on one line",
                           **where)
    return value


def document(partner: NamedNode, found: Credentials) -> list[Triple]:
    """The private graph that keeps a partner's credentials and what using them taught."""
    out = [Triple(partner, KIND, Literal(found.kind))]
    for name, predicate in _STORED.items():
        value = getattr(found, name)
        if value is not None:
            out.append(Triple(partner, predicate, Literal(value)))
    if found.access_token is not None:
        out.append(Triple(partner, ACCESS_TOKEN, Literal(found.access_token)))
        if found.usable_until is not None:
            out.append(Triple(partner, USABLE_UNTIL, Literal(repr(found.usable_until), datatype=NamedNode(XSD + "double"))))
    if found.refreshes:
        out.append(Triple(partner, REFRESHES, Literal(str(found.refreshes), datatype=NamedNode(XSD + "integer"))))
    out += [Triple(partner, TOKEN_ORIGIN, Literal(o)) for o in sorted(found.origins)]
    return out


def read(triples: list[Triple], partner: NamedNode) -> Credentials | None:
    """The credentials kept in a partner's private graph; None when it holds none."""
    def text(predicate):
        found = first(triples, partner, predicate)
        return found.value if found is not None else None
    kind = text(KIND) or (BEARER if text(_STORED["token"]) is not None else None)   # kept before `auth` was
    if kind is None:
        return None
    until, refreshes = text(USABLE_UNTIL), text(REFRESHES)
    return Credentials(kind, **{name: text(p) for name, p in _STORED.items()}, access_token=text(ACCESS_TOKEN),
                       usable_until=float(until) if until is not None else None,
                       refreshes=int(refreshes) if refreshes is not None else 0,
                       origins=frozenset(t.object.value for t in triples
                                         if t.subject == partner and t.predicate == TOKEN_ORIGIN))


def refused(partner_doc: list[Triple], partner: NamedNode) -> str | None:
    """Why the partner's identity provider refused its credentials, if it did (they need renewing)."""
    found = first(partner_doc, partner, REFUSED)
    return found.value if found is not None else None


def with_refusal(partner_doc: list[Triple], partner: NamedNode, reason: str | None) -> list[Triple]:
    """The partner's document marked as needing new credentials (reason), or unmarked (None)."""
    out = [t for t in partner_doc if not (t.subject == partner and t.predicate == REFUSED)]
    return out + [Triple(partner, REFUSED, Literal(reason[:500]))] if reason else out


def margin(lifetime: float) -> float:
    """How long before its end an access token is renewed: a quarter of its life, 1 s to 60 s."""
    return min(60.0, max(1.0, lifetime / 4))
