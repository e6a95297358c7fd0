"""Which named locks an order change takes (app/store/locks.py): the producers whose stock it moves.

A catalogue item (its stock ledger) is locked by its enterprise, a wholesale order by its
seller (the producer), so every change of one producer's stock and orders waits for the others
and for nothing else. A customer's order, the person it names, a replayable answer and a sale
session are locked by their own IRI: a session so that no order joins it while it closes.

The keys are guessed before locking (from the order as read then and the catalogue links);
`check` tells the unit of work, under its locks, whether what it writes is covered — if not,
it runs again over the wider set (`store.attempts`).
"""
from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import NamedNode, Triple

from app.domain import documents as docs
from app.domain import order_documents as orders
from app.namespaces import RDF_TYPE, T


enterprise = docs.owner_key      # an item's, an order's seller's: its enterprise (a partner's: itself)


def own(w, iri: NamedNode | None = None) -> list:
    """What an order's write (book._Write) locks by its own IRI: a customer's order, its person, its replay."""
    person = w.incoming.person[0] if w.incoming is not None and w.incoming.person is not None else None
    # A customer named by IRI alone is locked too: an erasure (which locks the person) cannot land
    # between the order's check that they are not erased and its commit.
    named = orders.buyer(w.new, w.iri) if w.customer and w.new is not None else None
    named = named if isinstance(named, NamedNode) else None
    return [*((iri or w.iri,) if w.customer else ()), person, named, w.key.graph if w.key is not None else None]


def guess(base_url: str, iri: NamedNode, current: list[Triple] | None, new: list[Triple] | None,
          sources: dict, customer: bool, own: Iterable = ()) -> set[str]:
    """The keys an order's change will need, as far as can be told before locking."""
    keys = {getattr(k, "value", k) for k in own if k is not None}
    for doc in (current, new):
        if doc is not None and isinstance(s := orders.session(doc, iri), NamedNode):
            keys.add(s.value)
    if customer:
        keys.add(iri.value)
        keys |= {enterprise(t.producer.value, base_url) for t in sources.values() if t is not None}
    else:
        keys.add(enterprise(iri.value, base_url))
    return keys


def check(tx, base_url: str, own: Iterable = ()) -> None:
    """Refuse (MoreLocks) a unit of work whose writes its locks do not cover; `own` are the
    documents locked by their own IRI (the customer order, a person…)."""
    cover(tx, base_url, {name: tx.writes.get(name) or tx.read.get(name) or [] for name in [*tx.writes, *tx.drops]}, own)


def cover(tx, base_url: str, docs: dict, own: Iterable = ()) -> None:
    """`check` for documents the unit of work will write (name → what it will hold, or held):
    before a large change written in parts, so that no part is refused after others were written."""
    own = {getattr(k, "value", k) for k in own if k is not None}
    needed = set(own)
    for name, doc in docs.items():
        if name.value not in own:
            needed.add(_key(name, doc, base_url))
    tx.need(needed)


def _key(name: NamedNode, doc: list[Triple], base_url: str) -> str:
    if Triple(name, RDF_TYPE, T.CatalogItem) in doc:
        return enterprise(name.value, base_url)
    seller = next((t.object for t in doc if t.subject == name and t.predicate == T.soldBy), None)
    if isinstance(seller, NamedNode) and Triple(name, RDF_TYPE, T.Order) in doc:
        return enterprise(seller.value, base_url)
    return name.value
