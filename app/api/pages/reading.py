"""What the pages read, through the services every API route uses, each under its row of the policy table.

Nothing here opens the store: the catalogue (`services().catalog`), the order book (`services().orders`)
and the partner desk read for it, and `policy.require` decides before each read, as the API's
routes do. A section the token may not read is `Refused` with the API's reason.
"""
from __future__ import annotations

import dataclasses
import hashlib

from app.api.context import services
from app.domain import documents as docs
from app.domain import lifecycle, policy, statuses
from app.domain import order_documents as orders
from app.domain.kinds import ORDERS
from app.errors import Forbidden, NotFound, Unauthorized
from app.namespaces import T, b
from app.rdf.terms import whole
from app.rdf.triples import Indexed, first

NAME = b("name")
PERSONS = "/persons/"


@dataclasses.dataclass(frozen=True)
class Refused:
    """A section the agent may not see, and why (the API's 401 or 403 detail)."""
    detail: str


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a long table: its rows, which page of how many, and the rows before it."""
    rows: list
    number: int
    last: int
    total: int
    start: int


def paged(rows: list, number: int) -> Page:
    """Page `number` of `rows`, DFC_HUB_PAGE_SIZE to a page (404 past the last): a session of
    thousands of orders makes a page as long as a few orders do."""
    size = services().settings.page_size
    last = max(1, -(-len(rows) // size))
    if number > last:
        raise NotFound(f"no page {number}: the table has {last} page(s)")
    start = (number - 1) * size
    return Page(rows[start:start + size], number, last, len(rows), start)


def guarded(read):
    """`read()`, or Refused when the policy table says no: a board shows what it may, and says what it may not."""
    try:
        return read()
    except (Unauthorized, Forbidden) as e:
        return Refused(e.detail)


def enterprise(ns: docs.Namespace) -> tuple[str, list]:
    """The enterprise's name and profile (public), or 404."""
    try:
        node, triples = services().catalog.load(ns.iri)
    except NotFound:
        raise NotFound(f"no enterprise at {ns.iri}") from None
    found = first(triples, node, NAME)
    return (found.value if found is not None else ns.eid), triples


def names() -> dict[str, str]:
    """Every enterprise's IRI → its name (the public enterprises listing)."""
    catalog = services().catalog
    found = catalog.enterprises()
    triples = catalog.documents(found)
    return {t.subject.value: t.object.value for t in triples if t.predicate == NAME}


def party(node, known: dict[str, str]) -> str:
    """How a page names a buyer or an agent: an enterprise by its name, a customer by a pseudonym only."""
    iri = getattr(node, "value", None)
    if iri is None:
        return "a customer"
    if iri in known:
        return known[iri]
    if PERSONS in iri or iri.startswith("mailto:"):
        return pseudonym(iri)
    return iri.rsplit("/", 1)[-1] or iri


def pseudonym(iri: str) -> str:
    """A customer as the pages show them: a short label drawn from their IRI, never their name."""
    return "customer " + hashlib.sha256(iri.encode()).hexdigest()[:6]


def order_documents(who, ns: docs.Namespace) -> list[tuple]:
    """(IRI, triples) of the orders sold by `ns` the agent may read (row order list), read at once."""
    book = services().orders
    names = book.listing(who, ns)
    read = book.each_document(names)
    return [(name, read.get(name, [])) for name in names]


def status_of(doc, iri) -> str:
    """An order's status as the pages show it: the lifecycle's for a wholesale order, DFC's for a customer's."""
    if orders.is_customer(doc, iri):
        found = orders.status(doc, iri)
        return found.value.rsplit("#", 1)[-1] if found is not None else "?"
    return statuses.name(lifecycle.status_of(doc, iri)).replace("_", " ")


def history(doc, iri) -> list[dict]:
    """The order's status changes, oldest first."""
    index = Indexed(doc)
    steps = [s for s in index.objects(iri, T.statusChange)]
    out = []
    for step in steps:
        def value(term):
            found = index.first(step, term)
            return found.value if found is not None else None
        out.append({"to": _status_name(index.first(step, T.toStatus)), "from": _status_name(index.first(step, T.fromStatus)),
                    "at": value(T.changedAt), "by": index.first(step, T.changedBy), "reason": value(T.reason),
                    "n": whole(step.value.rsplit("/", 1)[-1]) or 0})
    return sorted(out, key=lambda s: (s["n"], s["at"] or ""))


def placed_at(doc, iri) -> str:
    """When the order began (its first status change), for newest-first listings."""
    steps = history(doc, iri)
    return steps[0]["at"] or "" if steps else ""


def _status_name(node) -> str | None:
    return statuses.name(node).replace("_", " ") if node is not None and node in statuses.DFC else None


def order_path(iri: str) -> str | None:
    """The page of an order of this server: /pages/enterprises/{eid}/orders/{oid}; None for another's."""
    base = services().settings.public_base_url + "/api/dfc/enterprises/"
    if not iri.startswith(base):
        return None
    parts = iri[len(base):].split("/")
    if len(parts) != 3 or parts[1] not in (ORDERS.segment, ORDERS.alias):
        return None
    return f"/pages/enterprises/{parts[0]}/orders/{parts[2]}"


def require(who, resource: str, action: str, ns) -> None:
    """The policy table's row for `action` on `resource` of the enterprise `ns`: 401/403, as the API says."""
    policy.require(who, resource, action, owner=ns)
