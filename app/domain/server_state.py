"""What the server keeps inside documents clients replace: ledgers and the close of a session."""
from __future__ import annotations

from pyoxigraph import NamedNode, Triple

from app.domain import sessions, stock
from app.domain.kinds import KIND_TYPES, Kind
from app.errors import Conflict, ShapeViolation, violation
from app.namespaces import RDF_TYPE, T


def carry_over(current: dict[NamedNode, list[Triple]], documents: dict[NamedNode, list[Triple]]
               ) -> dict[NamedNode, list[Triple]]:
    """Documents to write, with each item's ledger and each session's close carried over.

    A document keeps its kind (409 otherwise): what the server keeps in it depends on the kind.
    """
    for name, triples in documents.items():
        before, after = kind_of(current.get(name) or [], name), kind_of(triples, name)
        if before and after != before:
            raise Conflict(f"{name.value} is a {_names(before)}; a write cannot make it a "
                           f"{_names(after) or 'document of no kind'}: delete it first, or write elsewhere",
                           iri=name.value, kind=sorted(t.value for t in before))
    documents = stock.keep_ledgers(current, documents)
    for name, triples in documents.items():
        if Triple(name, RDF_TYPE, T.SaleSession) in triples:
            closed = sessions.closed_at(current.get(name) or [], name)
            triples = [t for t in triples if not (t.subject == name and t.predicate == T.closedAt)]
            documents[name] = triples + ([Triple(name, T.closedAt, closed)] if closed is not None else [])
    return documents


def kind_of(triples: list[Triple], name: NamedNode) -> set[NamedNode]:
    """The types among KIND_TYPES that a document states of its own node."""
    return {t.object for t in triples if t.subject == name and t.predicate == RDF_TYPE and t.object in KIND_TYPES}


def check_kind(triples: list[Triple], name: NamedNode, kind: Kind) -> None:
    """Refuse (422) a resource written to a collection of one kind that is not of that kind alone."""
    found = kind_of(triples, name)
    if found != {kind.type}:
        raise ShapeViolation(f"a resource of {kind.segment} is a {_names({kind.type})}, and only that",
                             violations=[violation(name, RDF_TYPE, ", ".join(sorted(t.value for t in found)) or None,
                                                   f"give {name.value} the @type {_names({kind.type})}, "
                                                   "and no other resource type")])


def _names(types) -> str:
    return " and ".join(sorted("dfc-b:" + t.value.rsplit("#", 1)[-1] for t in types))


def check_deletable(name: NamedNode, triples: list[Triple], orders: int = 0) -> None:
    """Refuse (409) to delete a catalogue item that orders still hold or committed, a closed sale
    session (written again at its IRI, it would open again, and its close run twice), or one that
    `orders` Held or Complete still belong to: they would wait for a close that never comes, their
    stock reserved for ever."""
    if Triple(name, RDF_TYPE, T.SaleSession) in triples:
        closed = sessions.closed_at(triples, name)
        if closed is not None:
            raise Conflict(f"{name.value} closed at {closed.value}; a closed session stays, the record of its "
                           "orders", closedAt=closed.value)
        if orders:
            raise Conflict(f"{orders} order(s) Held or Complete belong to {name.value}; cancel them, or close "
                           "the session, before deleting it", orders=orders)
    if Triple(name, RDF_TYPE, T.CatalogItem) in triples:
        ledger = stock.read(triples, name)
        # Committed stock counts too: cancelling a Complete order later must find its ledger.
        if ledger.held > 0 or ledger.committed > 0:
            raise Conflict(f"{name.value} has {ledger.held} held and {ledger.committed} committed by "
                           "orders; it cannot be deleted while orders count on it",
                           held=str(ledger.held), committed=str(ledger.committed))
