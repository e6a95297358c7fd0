"""The catalogue service: enterprises, catalogue resources and a hub's settings, read and written.

Every write is one unit of work (`store.transaction()`): read what it replaces, check it
(the expected ETag a client sent, the kind, what the server keeps in it), write the result.
Views parse and render; they reach the store only through this service and the order book.
"""
from __future__ import annotations

from pyoxigraph import NamedNode, Triple

from app.domain import documents as docs
from app.domain import hub_settings
from app.domain.kinds import ENTERPRISE, Kind
from app.domain.server_state import carry_over, check_deletable, check_kind
from app.errors import Conflict, NotFound
from app.store import Store


class Catalog:
    """Catalogue, enterprise and settings documents of one store."""

    def __init__(self, store: Store, base_url: str):
        self.store, self.base_url = store, base_url

    # --- reading ---------------------------------------------------------------------------

    def load(self, iri: str) -> tuple[NamedNode, list[Triple]]:
        """The document at any spelling of `iri`, or 404."""
        return _found(self.store, iri, self.base_url)

    def documents(self, names: list) -> list[Triple]:
        """The triples of several documents, in one request (a page of a collection)."""
        return self.store.graphs(names)

    def enterprises(self) -> list[NamedNode]:
        return docs.list_enterprises(self.store)

    def listing(self, ns: docs.Namespace, kind: Kind) -> list[NamedNode]:
        return docs.list_documents(self.store, ns, kind)

    def catalog(self, ns: docs.Namespace, private: bool = False) -> list[Triple]:
        """The catalogue as one graph; `private` (its owner) shows who its customer categories hold."""
        return docs.catalog(self.store, ns, private)

    def settings(self, ns: docs.Namespace) -> list[Triple]:
        """A hub's settings as a document (defaults where none were written); 404 without the hub."""
        return _settings(self.store, ns)

    # --- writing ---------------------------------------------------------------------------

    def write(self, ns: docs.Namespace, kind: Kind, payload: list[Triple], target: str | None = None,
              if_match: str | None = None) -> tuple[NamedNode, list[Triple], bool]:
        """POST (target None) or PUT one resource document; (name, as written, created?)."""
        collection = ns.iri if kind == ENTERPRISE else ns.collection(kind)
        iri, triples = docs.single_document(payload, kind, NamedNode(target) if target else None,
                                            collection, self.base_url)
        replace = target is not None
        check_kind(triples, iri, kind)
        docs.check_owned(ns, triples)
        with self.store.transaction() as tx:
            name, current = docs.write_target(tx, iri, replace, if_match, self.base_url)
            triples = docs.rename(triples, {iri: name}) if name != iri else triples
            documents = carry_over({name: current} if current is not None else {}, {name: triples})
            tx.put(name, documents[name])
        return name, documents[name], current is None

    def import_catalog(self, documents: dict[NamedNode, list[Triple]]) -> dict[NamedNode, list[Triple]]:
        """Write a split catalogue, each item keeping its ledger; return the documents written."""
        with self.store.transaction() as tx:
            documents = carry_over({n: tx.graph(n) for n in documents}, documents)
            for name, triples in documents.items():
                tx.put(name, triples)
        return documents

    def delete(self, iri: str, if_match: str | None = None) -> None:
        """Delete a catalogue resource; 409 for an item that orders still count on."""
        with self.store.transaction() as tx:
            name, triples = _found(tx, iri, self.base_url)
            docs.check_if_match(if_match, triples)
            check_deletable(name, triples)
            tx.drop(name)

    def delete_enterprise(self, ns: docs.Namespace, iri: str, if_match: str | None = None) -> None:
        """Delete an enterprise document; 409 while it still has resources."""
        with self.store.transaction() as tx:
            name, triples = _found(tx, iri, self.base_url)
            docs.check_if_match(if_match, triples)
            if docs.has_documents(tx, ns):
                raise Conflict(f"enterprise {ns.eid} still has resources; delete them first")
            tx.drop(name)

    def write_settings(self, ns: docs.Namespace, triples: list[Triple], if_match: str | None = None) -> None:
        """Replace a hub's settings document."""
        with self.store.transaction() as tx:
            docs.check_if_match(if_match, _settings(tx, ns))
            tx.put(hub_settings.iri(ns), triples)


def _found(reader, iri: str, base_url: str) -> tuple[NamedNode, list[Triple]]:
    """The document at any spelling of `iri` (read by `reader`: the store or a transaction), or 404."""
    found = docs.find(reader, iri, base_url)
    if found is None:
        raise NotFound(f"no resource at {iri}")
    return found


def _settings(reader, ns: docs.Namespace) -> list[Triple]:
    if not reader.has_graph(NamedNode(ns.iri)):
        raise NotFound(f"no enterprise at {ns.iri}")
    return hub_settings.document(ns, hub_settings.read(reader, ns))
