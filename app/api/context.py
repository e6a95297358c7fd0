"""Per-request access: the hub, the calling agent, the resource and enterprise a path names."""
from __future__ import annotations

import re

from flask import current_app, g, request
from pyoxigraph import NamedNode

from app.domain import documents as docs
from app.domain.agents import Agent
from app.errors import BadRequest, PreconditionFailed, Unauthorized
from app.hub import Hub

# The enterprise part of every route: both spellings FDC and we use.
ENT = "<any(enterprises, Enterprises):ent>"
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")


def hub() -> Hub:
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
            g.agent = hub().auth.agent(token.strip())
    return g.agent


def base_url() -> str:
    return hub().settings.public_base_url


def request_iri() -> NamedNode:
    """The IRI of the resource the request names (PUBLIC_BASE_URL + path)."""
    return path_iri(base_url() + request.path.rstrip("/"))


def path_iri(value: str) -> NamedNode:
    """An IRI built from a request path; 400 when the path holds what no IRI may (a control
    character, a space, `<`…)."""
    try:
        return NamedNode(value)
    except ValueError:
        raise BadRequest("the path holds characters no IRI may contain", path=request.path) from None


def namespace(eid: str) -> docs.Namespace:
    """The namespace of the enterprise a path names; 400 for an id no IRI could hold."""
    if not _SLUG.match(eid):
        raise BadRequest(f"{eid!r} is not a valid enterprise id (letters, digits, . _ ~ -)")
    return docs.Namespace(base_url(), eid)


def check_if_match(current: list | None) -> None:
    """412 when If-Match names another version than the current one."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    tags = {t.strip() for t in wanted.split(",")}
    if current is None or ("*" not in tags and docs.etag(current) not in tags):
        raise PreconditionFailed("If-Match does not match the current ETag; GET the resource again",
                                 currentETag=docs.etag(current) if current else None)
