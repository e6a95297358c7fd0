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
    """Refuse (409) to delete a catalogue item that Held orders still reserve."""
    if Triple(name, RDF_TYPE, T.CatalogItem) in triples:
        held = stock.read(triples, name).held
        if held > 0:
            raise Conflict(f"{name.value} has {held} held by orders; they must complete or be "
                           "cancelled before the item is deleted", held=str(held))
