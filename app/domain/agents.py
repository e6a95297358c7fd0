"""Who is asking, and what they may do: agents, tokens and the write rules of API.md."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
import time

import jwt
from pyoxigraph import Literal, NamedNode

from app import queries
from app.domain.documents import Namespace
from app.errors import BadRequest, Forbidden, Unauthorized
from app.store import Store

DFC_SCOPES = {"ReadEnterprise", "ReadProducts", "WriteProducts", "ReadOrders", "WriteOrders",
              "WriteEnterprise", "Analytics"}
TOKENS_GRAPH = NamedNode("urn:x-dfc-hub:tokens")


@dataclasses.dataclass(frozen=True)
class Agent:
    """An authenticated caller: an enterprise, a person or a platform, with scopes."""
    iri: str
    scopes: frozenset | None = None     # None: unscoped, may do everything its agent owns
    admin: bool = False

    def allows(self, scope: str) -> bool:
        """An unscoped token may do everything its agent owns; a scoped one only its scopes."""
        return self.admin or self.scopes is None or scope in self.scopes


def require_writer(agent: Agent | None, ns: Namespace, scope: str) -> Agent:
    """Allow a write to an enterprise's resources, or raise 401/403."""
    if agent is None:
        raise Unauthorized("this write needs a bearer token")
    if agent.admin:
        return agent
    if agent.iri not in ns.iris:
        raise Forbidden(f"{agent.iri} may not write the resources of enterprise {ns.eid}")
    if not agent.allows(scope):
        raise Forbidden(f"the token lacks the {scope} scope", scopes=sorted(agent.scopes or ()))
    return agent


# --- opaque tokens ------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: Store, agent_iri: str, scopes: list[str]) -> str:
    """Create an opaque token for an agent; only its digest is stored."""
    if not isinstance(agent_iri, str) or "://" not in agent_iri:
        raise BadRequest("`agent` must be an absolute IRI", pointer="/agent")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise BadRequest("`scopes` must be a list of strings", pointer="/scopes")
    unknown = sorted(set(scopes) - DFC_SCOPES)
    if unknown:
        raise BadRequest(f"unknown scopes {unknown}; known: {sorted(DFC_SCOPES)}", pointer="/scopes")
    token = secrets.token_urlsafe(32)
    store.update(queries.load("insert_token"), {
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
                 audience: str | None = None):
        self.store, self.admin_token, self.audience = store, admin_token, audience
        self._known: dict[str, tuple[Agent, float]] = {}
        self.issuers = {}
        if issuers_file:
            with open(issuers_file, encoding="utf-8") as f:
                self.issuers = json.load(f)

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

    def _jwt(self, token: str) -> Agent:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as e:
            raise Unauthorized(f"malformed JWT: {e}") from None
        key = self.issuers.get(issuer)
        if key is None:
            raise Unauthorized(f"JWT issuer {issuer!r} is not trusted here")
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], issuer=issuer,
                                audience=self.audience,
                                options={"verify_aud": self.audience is not None,
                                         "require": ["exp", "iss"]})
        except jwt.PyJWTError as e:
            raise Unauthorized(f"JWT rejected: {e}") from None
        agent = claims.get("agent") or claims.get("sub")
        if not agent:
            raise Unauthorized("the JWT names no agent (`agent` or `sub` claim)")
        scopes = claims.get("scopes") or str(claims.get("scope", "")).split()
        if "scope" not in claims and "scopes" not in claims:
            return Agent(agent)
        # Only DFC scopes count: a JWT whose scopes are all foreign may do nothing here.
        return Agent(agent, frozenset(scopes) & DFC_SCOPES)
