"""What the server keeps inside documents clients replace: ledgers and the close of a session."""
from __future__ import annotations

from pyoxigraph import NamedNode, Triple

from app.domain import sessions, stock
from app.errors import Conflict
from app.namespaces import RDF_TYPE, T


def carry_over(current: dict[NamedNode, list[Triple]], documents: dict[NamedNode, list[Triple]]
               ) -> dict[NamedNode, list[Triple]]:
    """Documents to write, with each item's ledger and each session's close carried over."""
    documents = stock.keep_ledgers(current, documents)
    for name, triples in documents.items():
        if Triple(name, RDF_TYPE, T.SaleSession) in triples:
            closed = sessions.closed_at(current.get(name) or [], name)
            triples = [t for t in triples if not (t.subject == name and t.predicate == T.closedAt)]
            documents[name] = triples + ([Triple(name, T.closedAt, closed)] if closed is not None else [])
    return documents


def check_deletable(name: NamedNode, triples: list[Triple]) -> None:
    """Refuse (409) to delete a catalogue item that orders still hold or committed."""
    if Triple(name, RDF_TYPE, T.CatalogItem) in triples:
        ledger = stock.read(triples, name)
        # Committed stock counts too: cancelling a Complete order later must find its ledger.
        if ledger.held > 0 or ledger.committed > 0:
            raise Conflict(f"{name.value} has {ledger.held} held and {ledger.committed} committed by "
                           "orders; it cannot be deleted while orders count on it",
                           held=str(ledger.held), committed=str(ledger.committed))
