"""The catalogue service: enterprises, catalogue resources and a hub's settings, read and written.

Every write is one unit of work (`store.transaction()`): read what it replaces, check it
(the expected ETag a client sent, the kind, what the server keeps in it), write the result.
Every read shows documents of the public kinds only (app/domain/policy.py), whatever the path
names: the routes that read here need no token. Views parse and render; they reach the store
only through this service and the order book.
"""
from __future__ import annotations

from pyoxigraph import NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.domain.versions import Expected
from app.domain import policy
from app.catalog import hub_settings
from app.domain.kinds import ENTERPRISE, Kind
from app.domain.server_state import carry_over, check_deletable, check_kind
from app.errors import Conflict, NotFound
from app.namespaces import RDF_TYPE, T
from app.store import Store


class Catalog:
    """Catalogue, enterprise and settings documents of one store."""

    def __init__(self, store: Store, base_url: str):
        self.store, self.base_url = store, base_url

    # --- reading ---------------------------------------------------------------------------

    def load(self, iri: str, owner: bool = False) -> tuple[NamedNode, list[Triple]]:
        """The public document at any spelling of `iri`, as its `owner` or anyone else reads it; 404
        for none, and for a document of a kind that is not public."""
        name, triples = _found(self.store, iri, self.base_url)
        if not policy.is_public(policy.types_of(triples, name)):
            raise NotFound(f"no resource at {iri}")
        return name, policy.shown(triples, owner)

    def documents(self, names: list, owner: bool = False) -> list[Triple]:
        """The triples of several public documents, in one request (a page of a collection)."""
        return policy.shown(self.store.graphs(names), owner)

    def enterprises(self) -> list[NamedNode]:
        """Every enterprise's profile on this server (never a copy a partner's sync keeps)."""
        return _public(docs.documents_of_kinds(self.store, docs.enterprise_prefixes(self.base_url),
                                               [ENTERPRISE.type]))

    def listing(self, ns: docs.Namespace, kind: Kind) -> list[NamedNode]:
        """The enterprise's public documents of one kind, sorted."""
        return _public(docs.documents_of_kinds(self.store, ns.prefixes, [kind.type]))

    def catalog(self, ns: docs.Namespace, owner: bool = False) -> list[Triple]:
        """The catalogue as one graph: the enterprise's documents of the public catalogue kinds and
        the catalogue's own document; who its customer categories hold for its `owner` only."""
        names = _public(docs.documents_of_kinds(self.store, ns.prefixes, policy.IN_CATALOG))
        triples = self.store.graphs(names)
        own = NamedNode(f"{ns.iri}/{policy.CATALOG_DOCUMENT}")
        rest = self.store.graph(own)
        if policy.types_of(rest, own) <= policy.PUBLIC_TYPES:
            triples += rest
        return policy.shown(triples, owner)

    def settings(self, ns: docs.Namespace) -> list[Triple]:
        """A hub's settings as a document (defaults where none were written); 404 without the hub."""
        return _settings(self.store, ns)

    # --- writing ---------------------------------------------------------------------------

    def write(self, ns: docs.Namespace, kind: Kind, payload: list[Triple], target: str | None = None,
              expected: Expected = Expected()) -> tuple[NamedNode, list[Triple], bool]:
        """POST (target None) or PUT one resource document; (name, as written, created?)."""
        collection = ns.iri if kind == ENTERPRISE else ns.collection(kind)
        iri, triples = docs.single_document(payload, kind, NamedNode(target) if target else None,
                                            collection, self.base_url)
        replace = target is not None
        check_kind(triples, iri, kind)
        docs.check_owned(ns, triples)
        with self.store.transaction(keys=[ns.iri]) as tx:       # the enterprise's: its items hold stock
            name, current = docs.write_target(tx, iri, replace, expected, self.base_url)
            triples = docs.rename(triples, {iri: name}) if name != iri else triples
            documents = carry_over({name: current} if current is not None else {}, {name: triples})
            tx.put(name, documents[name])
        return name, documents[name], current is None

    def import_catalog(self, ns: docs.Namespace, documents: dict[NamedNode, list[Triple]]) -> dict[NamedNode, list[Triple]]:
        """Write a split catalogue, each item keeping its ledger; return the documents written."""
        keys = {docs.owner_key(n.value, self.base_url) for n in documents}
        with self.store.transaction(keys=keys) as tx:
            current = {n: tx.graph(n) for n in documents}
            for name, triples in current.items():
                docs.check_replaceable(ns, name, triples)
            documents = carry_over(current, documents)
            for name, triples in documents.items():
                tx.put(name, triples)
        return documents

    def delete(self, iri: str, expected: Expected = Expected()) -> None:
        """Delete a catalogue resource; 409 for an item or a sale session that orders still count on."""
        # The resource's own key too, in each spelling: an order written for a sale session holds
        # it (app/orders/lock_keys.py), so none lands between counting its orders and the drop.
        keys = [docs.owner_key(iri, self.base_url), *docs.variants(iri, self.base_url)]
        with self.store.transaction(keys=keys) as tx:
            name, triples = _found(tx, iri, self.base_url)
            expected.check(triples)
            check_deletable(name, triples, _orders_of(tx, name, triples, self.base_url))
            tx.drop(name)

    def delete_enterprise(self, ns: docs.Namespace, iri: str, expected: Expected = Expected()) -> None:
        """Delete an enterprise document; 409 while it still has resources."""
        with self.store.transaction(keys=[ns.iri]) as tx:
            name, triples = _found(tx, iri, self.base_url)
            expected.check(triples)
            if docs.has_documents(tx, ns):
                raise Conflict(f"enterprise {ns.eid} still has resources; delete them first")
            tx.drop(name)

    def write_settings(self, ns: docs.Namespace, triples: list[Triple], expected: Expected = Expected()) -> None:
        """Replace a hub's settings document."""
        with self.store.transaction(keys=[ns.iri]) as tx:
            expected.check(_settings(tx, ns))
            tx.put(hub_settings.iri(ns), triples)


def _orders_of(tx, name: NamedNode, triples: list[Triple], base_url: str) -> int:
    """How many orders Held or Complete belong to `name`, if it is a sale session (else 0)."""
    if Triple(name, RDF_TYPE, T.SaleSession) not in triples:
        return 0
    rows = tx.select(queries.load("session_live_orders"),
                     {"session": name, "hub": NamedNode(docs.owner_key(name.value, base_url))})
    return int(rows[0]["orders"].value) if rows else 0


def _public(found: dict[NamedNode, set]) -> list[NamedNode]:
    """The documents among `found` (name → its main node's types) that anyone may read."""
    return [name for name, types in found.items() if policy.is_public(types)]


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
