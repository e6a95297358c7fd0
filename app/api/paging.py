"""Pagination of collections: `?page=` (from 1) and `?per_page=`, with Link headers."""
from __future__ import annotations

from collections.abc import Callable

from flask import request

from app.api.context import request_iri, services
from app.api.negotiate import family, rdf_response
from app.errors import BadRequest, clipped
from app.rdf.render import ldp_container
from app.rdf.terms import whole


def whole_number(name: str, default: int, low: int, high: int) -> int:
    """A query parameter that is a whole number from `low` to `high` (`default` without it); 400
    naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    number = whole(raw)
    if number is None or not low <= number <= high:
        raise BadRequest(f"query parameter {name} must be a whole number from {low} to {high}",
                         parameter=name, value=clipped(raw))
    return number


def page_of(items: list, triples_of: Callable[[list], list]):
    """Render one page of a collection's documents, with Link and X-Total-Count headers."""
    settings = services().settings
    per_page = whole_number("per_page", settings.page_size, 1, settings.max_page_size)
    last = max(1, -(-len(items) // per_page))
    page = whole_number("page", 1, 1, 10**9)
    chunk = items[(page - 1) * per_page: page * per_page]
    base = settings.public_base_url + request.path
    links = [f'<{base}?page={p}&per_page={per_page}>; rel="{rel}"'
             for rel, p in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last))
             if 1 <= p <= last and not (rel in ("prev", "next") and p == page)]
    headers = {"X-Total-Count": str(len(items))}
    if links:
        headers["Link"] = ", ".join(links)
    return rdf_response(container(chunk, triples_of(chunk)), 200, headers)


def container(members: list, triples: list) -> list:
    """A collection's triples: for DFC 2.0 clients, an LDP container listing its members first."""
    if family() != "2.0":
        return triples
    return ldp_container(request_iri().value, members, triples)
