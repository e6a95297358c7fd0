"""Who is asking: agents and their tokens (what each may do is app/domain/policy.py)."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import re
import secrets
import time

import jwt
from pyoxigraph import Literal, NamedNode

from app import queries
from app.errors import BadRequest, InvalidValue, Unauthorized, clipped, echoed
from app.rdf.checks import MAX_IRI
from app.store import Store

DFC_SCOPES = {"ReadEnterprise", "ReadProducts", "WriteProducts", "ReadOrders", "WriteOrders",
              "WriteEnterprise", "Analytics"}
# A token request's scopes: each known one, even named twice; a longer list names one nobody knows.
MAX_SCOPES = 2 * len(DFC_SCOPES)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


@dataclasses.dataclass(frozen=True)
class Agent:
    """An authenticated caller: an enterprise, a person or a platform, with scopes."""
    iri: str
    scopes: frozenset | None = None     # None: unscoped, may do everything its agent owns
    admin: bool = False

    def allows(self, scope: str) -> bool:
        """An unscoped token may do everything its agent owns; a scoped one only its scopes."""
        return self.admin or self.scopes is None or scope in self.scopes


# --- opaque tokens ------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: Store, agent_iri: str, scopes: list[str]) -> str:
    """Create an opaque token for an agent; only its digest is stored."""
    if not isinstance(agent_iri, str) or len(agent_iri) > MAX_IRI or not valid_iri(agent_iri):
        raise InvalidValue(f"`agent` must be an absolute IRI of at most {MAX_IRI} characters (no spaces, "
                           "no < > \" { } | \\ ^ `)", pointer="/agent",
                           value=clipped(agent_iri) if isinstance(agent_iri, str) else None)
    if not isinstance(scopes, list) or len(scopes) > MAX_SCOPES or not all(isinstance(s, str) for s in scopes):
        raise BadRequest(f"`scopes` must be a list of at most {MAX_SCOPES} strings, from {sorted(DFC_SCOPES)}",
                         pointer="/scopes")
    unknown = sorted(set(scopes) - DFC_SCOPES)
    if unknown:
        raise BadRequest(f"unknown scopes {echoed(unknown[:5])}; known: {sorted(DFC_SCOPES)}", pointer="/scopes")
    token = secrets.token_urlsafe(32)
    with store.transaction() as tx:
        tx.append(queries.load("insert_token"), {
            "token": NamedNode("urn:x-dfc-hub:token:" + _digest(token)),
            "agent": NamedNode(agent_iri), "scopes": Literal(" ".join(sorted(set(scopes)))),
        })
    return token


def _opaque(store: Store, token: str) -> Agent | None:
    rows = store.select(queries.load("find_token"),
                        {"token": NamedNode("urn:x-dfc-hub:token:" + _digest(token))})
    if not rows:
        return None
    scopes = rows[0]["scopes"].value.split()
    return Agent(rows[0]["agent"].value, frozenset(scopes) if scopes else None)


# --- resolving a bearer token -------------------------------------------------------

class Authenticator:
    """Turns a bearer token into an Agent: the admin token, an issued token, or an RS256 JWT."""

    def __init__(self, store: Store, admin_token: str | None, issuers_file: str | None,
                 audience: str | None = None, max_lifetime: int = 86400):
        self.store, self.admin_token, self.audience = store, admin_token, audience
        self.max_lifetime = max_lifetime
        self._known: dict[str, tuple[Agent, float]] = {}
        self.issuers: dict[str, Issuer] = {}
        if issuers_file:
            with open(issuers_file, encoding="utf-8") as f:
                self.issuers = read_issuers(json.load(f))

    def agent(self, token: str) -> Agent:
        """Return the agent a token stands for; raise Unauthorized for a bad one."""
        if self.admin_token and hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Agent("urn:x-dfc-hub:admin", admin=True)
        if token.count(".") == 2:
            return self._jwt(token)
        digest = _digest(token)
        cached = self._known.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        found = _opaque(self.store, token)
        if found is None:
            raise Unauthorized("unknown bearer token")
        # Issued tokens never change (there is no revocation yet), so a minute's memory saves a
        # store query on every request; only digests are kept, as in the store.
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[digest] = (found, time.monotonic() + 60)
        return found

    def issue(self, agent_iri: str, scopes: list[str]) -> str:
        """Create an opaque token for an agent (issue_token on this authenticator's store)."""
        return issue_token(self.store, agent_iri, scopes)

    def _jwt(self, token: str) -> Agent:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError) as e:
            raise Unauthorized(f"malformed JWT: {e}") from None
        issuer = unverified.get("iss")
        trusted = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise Unauthorized(f"JWT issuer {issuer!r} is not trusted here")
        try:
            claims = jwt.decode(token, trusted.key, algorithms=["RS256"], issuer=issuer,
                                audience=self.audience,
                                options={"verify_aud": self.audience is not None, "verify_exp": False,
                                         "verify_nbf": False, "verify_iat": False,
                                         "require": ["exp", "iss"]})
        except (jwt.PyJWTError, ValueError, TypeError) as e:
            raise Unauthorized(f"JWT rejected: {e}") from None
        # Times are checked here, not by PyJWT, which lets strings ("exp": "9999999999") through
        # and fails on lists; a signed token valid for years is as good as a leaked password.
        self._check_times(claims)
        agent = _claimed_agent(claims)
        if not trusted.speaks_for(agent):
            raise Unauthorized(f"the issuer {issuer} may not speak for {agent} (DFC_HUB_JWT_ISSUERS)")
        return Agent(agent, _claimed_scopes(claims))

    def _check_times(self, claims: dict) -> None:
        now = time.time()
        for name in ("exp", "nbf", "iat"):
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, (int, float))
                                   or not math.isfinite(value)):
                raise Unauthorized(f"the JWT claim {name} must be a number of seconds since 1970")
        if claims["exp"] <= now:
            raise Unauthorized("the JWT has expired")
        if claims["exp"] > now + self.max_lifetime:
            raise Unauthorized(f"the JWT expires more than {self.max_lifetime} s from now "
                               "(DFC_HUB_JWT_MAX_LIFETIME_SECONDS); ask its issuer for a shorter-lived one")
        if claims.get("nbf", now) > now + 60:
            raise Unauthorized("the JWT is not valid yet (nbf)")


@dataclasses.dataclass(frozen=True)
class Issuer:
    """A trusted JWT issuer: its RSA public key, and the agents it may speak for."""
    key: str
    agents: tuple[str, ...]         # IRIs; one ending in `*` stands for every IRI it begins

    def speaks_for(self, agent: str) -> bool:
        """Tell whether this issuer may sign tokens for `agent`."""
        return any(agent == a or (a.endswith("*") and agent.startswith(a[:-1])) for a in self.agents)


def read_issuers(config) -> dict[str, Issuer]:
    """Read DFC_HUB_JWT_ISSUERS: {issuer: {"key": PEM, "agents": [IRI or prefix*]}}; refuse others."""
    if not isinstance(config, dict):
        raise ValueError("DFC_HUB_JWT_ISSUERS must hold a JSON object {issuer: {key, agents}}")
    out = {}
    for issuer, entry in config.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("key"), str)
                and isinstance(entry.get("agents"), list) and entry["agents"]
                and all(isinstance(a, str) and a for a in entry["agents"])):
            raise ValueError(f'DFC_HUB_JWT_ISSUERS: give issuer {issuer!r} as {{"key": "<PEM>", "agents": '
                             '["<agent IRI>", "<IRI prefix>*", …]}: an issuer speaks only for the agents listed')
        out[issuer] = Issuer(entry["key"], tuple(entry["agents"]))
    return out


def _claimed_agent(claims: dict) -> str:
    agent = claims.get("agent") or claims.get("sub")
    if not agent:
        raise Unauthorized("the JWT names no agent (`agent` or `sub` claim)")
    if not isinstance(agent, str) or not valid_iri(agent):
        raise Unauthorized("the JWT's agent must be one absolute IRI")
    return agent


def _claimed_scopes(claims: dict) -> frozenset | None:
    """The DFC scopes a JWT grants; None (unscoped) when it names none at all."""
    if "scope" not in claims and "scopes" not in claims:
        return None
    scopes, scope = claims.get("scopes", []), claims.get("scope", "")
    if not (isinstance(scopes, list) and all(isinstance(x, str) for x in scopes) and isinstance(scope, str)):
        raise Unauthorized("JWT scopes must be a list of strings (`scopes`) or one string (`scope`)")
    # Only DFC scopes count: a JWT whose scopes are all foreign may do nothing here.
    return frozenset(scopes or scope.split()) & DFC_SCOPES


def valid_iri(text: str) -> bool:
    """Tell whether `text` is an absolute IRI the store can hold."""
    if not _ABSOLUTE.fullmatch(text):
        return False
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True
