"""Per-request access: the services, the calling agent, the resource and enterprise a path names."""
from __future__ import annotations

from flask import current_app, g, request

from app.domain import documents as docs
from app.domain import versions
from app.orders import idempotency
from app.domain.agents import Agent
from app.errors import BadRequest, Unauthorized
from app.runtime.services import Services

# The enterprise part of every route: both spellings FDC and we use.
ENT = "<any(enterprises, Enterprises):ent>"
# An id is one path segment of IRI-safe characters that does not start with a dot: no `..`,
# no encoded slash (the server sees `%2F` decoded), nothing an IRI cannot hold.
# The route variables that name a resource: enterprise, resource, order, session, line, delivery, webhook,
# contract, person, partner.
_ID_ARGS = {"eid": "enterprise", "rid": "resource", "oid": "order", "sid": "sale session", "lid": "order line",
            "did": "delivery", "wid": "webhook subscription",
            "cid": "contract", "pid": "person",
            "slug": "partner"}


def services() -> Services:
    """What this process holds open (app/runtime/services.py): the store, the services, the settings."""
    return current_app.extensions["dfc_hub"]


def agent() -> Agent | None:
    """The agent of the request's bearer token, None without one; 401 for a bad one."""
    if "agent" not in g:
        header = request.headers.get("Authorization", "")
        if not header:
            g.agent = None
        else:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("use `Authorization: Bearer <token>`")
            g.agent = services().auth.agent(token.strip())
    return g.agent


def bearer_challenge() -> dict:
    """The WWW-Authenticate header of a 401 (RFC 6750 §3): the scheme, and whether the token sent was the trouble."""
    sent = "Authorization" in request.headers
    return {"WWW-Authenticate": 'Bearer realm="DFC Order Hub"' + (', error="invalid_token"' if sent else "")}


def base_url() -> str:
    return services().settings.public_base_url


def request_iri():
    """The IRI of the resource the request names (PUBLIC_BASE_URL + path)."""
    return docs.node(base_url() + request.path.rstrip("/"))


def check_ids(endpoint, values: dict | None) -> None:
    """Refuse (400) a path whose ids are not slugs, before any view builds an IRI of them."""
    for name, what in _ID_ARGS.items():
        value = (values or {}).get(name)
        # A resource id may have several segments (FDC's `…/SuppliedProducts/1/CatalogItem`).
        segments = value.split("/") if name == "rid" and value is not None else [value]
        if value is not None and not all(docs.SLUG.fullmatch(s) for s in segments):
            raise BadRequest(f"{value!r} is not a valid {what} id: path segments of letters, digits "
                             "and . _ ~ -, none starting with a dot", parameter=name)


def namespace(eid: str) -> docs.Namespace:
    """The namespace of the enterprise a path names; 400 for an id no IRI could hold."""
    check_ids(None, {"eid": eid})
    return docs.Namespace(base_url(), eid)


def expected(**checks) -> versions.Expected:
    """What the write expects to find: the request's If-Match and If-None-Match, and `checks`."""
    return versions.Expected(request.headers.get("If-Match"), request.headers.get("If-None-Match"), **checks)


def idempotency_key() -> idempotency.Key | None:
    """The request's Idempotency-Key, bound to its agent, method, path and body."""
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    if not value.strip() or len(value) > 255:
        raise BadRequest("Idempotency-Key must be 1 to 255 characters", header="Idempotency-Key")
    who = agent()
    # Bound to the path in either spelling: a retry through `…/Enterprises/x/Orders` is the same request.
    path = docs.snake_case(base_url() + request.path, base_url())[len(base_url()):]
    return idempotency.key(who.iri if who else "", value, request.method, path, request.get_data())
