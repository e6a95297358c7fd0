"""Resource documents: one named graph per resource, named by the resource's IRI.

Pure functions turn a payload's triples into documents (minting ids for placeholders,
splitting a catalogue per resource, checking that every subject lies in the writer's
namespace); the functions at the end read and write them through a Store passed in.
"""
from __future__ import annotations

import re
import secrets
from collections import defaultdict

from pyoxigraph import BlankNode, NamedNode, Triple

from app import queries
from app.domain.kinds import (CATALOG_TYPES, ENTERPRISE, KIND_OF_TYPE, KINDS, NOT_CATALOG, SERVER_SEGMENTS,
                              TO_CAMEL, TO_SNAKE, Kind)
from app.errors import BadRequest, Conflict, Forbidden, ShapeViolation, violation
from app.namespaces import DFC_B, HUB, RDF_TYPE
from app.domain.versions import Expected
from app.store import Store

# A resource id's path segment, as routes take it: letters, digits and . _ ~ -, not first a dot.
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")

class Namespace:
    """The IRIs of one enterprise under the server's base URL (snake_case and CamelCase)."""

    def __init__(self, base_url: str, eid: str):
        self.base_url, self.eid = base_url, eid
        self.iri = f"{base_url}/api/dfc/{ENTERPRISE.segment}/{eid}"
        self.iris = (self.iri, f"{base_url}/api/dfc/{ENTERPRISE.alias}/{eid}")   # both spellings
        self.prefixes = tuple(i + "/" for i in self.iris)

    def owns(self, iri: str) -> bool:
        """Tell whether an IRI lies in this enterprise's namespace."""
        return iri.startswith(self.prefixes) or iri in self.iris

    def collection(self, kind: Kind) -> str:
        return f"{self.iri}/{kind.segment}"

    def bindings(self) -> dict:
        return {"prefix": self.prefixes[0], "alias": self.prefixes[1]}


def node(iri: str) -> NamedNode:
    """The resource an IRI names, as the store's term (views pass IRIs as text)."""
    return NamedNode(iri)


def is_enterprise(iri: str, base_url: str) -> bool:
    """One of this server's enterprise IRIs (either spelling), nothing below it."""
    eid = enterprise_of(iri, base_url)
    return eid is not None and iri in Namespace(base_url, eid).iris


def enterprise_of(iri: str, base_url: str) -> str | None:
    """The id of the enterprise whose namespace holds `iri`, or None (not one of ours)."""
    api = base_url + "/api/dfc/"
    if not iri.startswith(api):
        return None
    parts = iri[len(api):].split("/")
    if len(parts) < 2 or parts[0] not in (ENTERPRISE.segment, ENTERPRISE.alias) or not parts[1]:
        return None
    return parts[1]


def owner_key(iri: str, base_url: str) -> str:
    """The write lock of what an enterprise of ours owns (its IRI, one spelling); `iri` itself
    where no enterprise of ours holds it (app/store/locks.py)."""
    eid = enterprise_of(iri, base_url)
    return Namespace(base_url, eid).iri if eid else iri


def variants(iri: str, base_url: str) -> list[str]:
    """The spellings of one resource IRI: as given, all snake_case, all CamelCase."""
    return list(dict.fromkeys([iri, *(_spelled(iri, base_url, table) for table in (TO_SNAKE, TO_CAMEL))]))


def snake_case(iri: str, base_url: str) -> str:
    """The all-snake_case spelling of a resource IRI (itself, for an IRI not under the API)."""
    return _spelled(iri, base_url, TO_SNAKE)


def _spelled(iri: str, base_url: str, table: dict) -> str:
    api = base_url + "/api/dfc/"
    if not iri.startswith(api):
        return iri
    # Collection segments stand at even positions: enterprises/{eid}/offers/{id}.
    parts = iri[len(api):].split("/")
    return api + "/".join(table.get(p, p) if i % 2 == 0 else p for i, p in enumerate(parts))


def is_placeholder(node, collection: str) -> bool:
    """Tell whether a client left the id to the server: blank, the collection URL, or `…/#`."""
    if isinstance(node, BlankNode):
        return True
    value = node.value.removesuffix("#").rstrip("/")
    # Any spelling of the collection: OFN posts to `…/Enterprises/x/Orders` with that as @id.
    base_url = collection.split("/api/dfc/")[0]
    return node.value.endswith("/#") or value in variants(collection, base_url)


def in_collection(iri: str, collection: str, base_url: str, nested: bool = False) -> bool:
    """Whether `iri` names a member of `collection` (either spelling), `{collection}/{id}`, as a
    route can name it again: an id of SLUG segments, one unless `nested` (FDC's catalogue ids)."""
    for spelling in variants(iri, base_url):          # as sent, all snake_case, all CamelCase
        for home in variants(collection, base_url):
            member = spelling.removeprefix(home + "/")
            if member != spelling:
                segments = member.split("/")
                return (nested or len(segments) == 1) and all(SLUG.fullmatch(s) for s in segments)
    return False


def mint(collection: str) -> NamedNode:
    """Return a fresh IRI in a collection."""
    return NamedNode(f"{collection}/{secrets.token_hex(6)}")


def rename(triples: list[Triple], renames: dict) -> list[Triple]:
    """Replace terms (as subject or object) by others."""
    if not renames:
        return triples
    return [Triple(renames.get(t.subject, t.subject), t.predicate, renames.get(t.object, t.object))
            for t in triples]


def main_nodes(triples: list[Triple], type_: NamedNode) -> list:
    """The subjects typed `type_`, in first-seen order."""
    return list(dict.fromkeys(t.subject for t in triples if t.predicate == RDF_TYPE and t.object == type_))


def single_document(triples: list[Triple], kind: Kind, target: NamedNode | None,
                    collection: str, base_url: str) -> tuple[NamedNode, list[Triple]]:
    """Return (IRI, triples) of a payload describing one resource of `kind`.

    With `target` (PUT) the resource is the node with that IRI, or the one node of `kind`
    with a placeholder id; without (POST) the one node of `kind`, a placeholder getting a
    fresh IRI, a named one kept if it is a member of `collection` (400 otherwise). Its node is
    of no other kind of DFC's or ours (422): readers find documents by their types.
    """
    iri, triples = _single(triples, kind, target, collection, base_url)
    others = sorted(t.object.value for t in triples if t.subject == iri and t.predicate == RDF_TYPE
                    and t.object != kind.type and t.object.value.startswith((DFC_B, HUB)))
    if others:
        # An order also typed dfc-b:Offer priced the seller's carrots for every buyer; one typed
        # dfc-b:SaleSession was closed as one, its event sent to the seller's webhooks.
        raise ShapeViolation(f"a resource of {kind.segment} is a {_short(kind.type)} only", violations=[
            violation(iri, RDF_TYPE, NamedNode(t), f"{t} is another kind of document: give {iri.value} "
                      f"the @type {_short(kind.type)}, beside types of other vocabularies only") for t in others])
    return iri, triples


def _single(triples: list[Triple], kind: Kind, target: NamedNode | None,
            collection: str, base_url: str) -> tuple[NamedNode, list[Triple]]:
    if target is not None:
        spellings = set(variants(target.value, base_url))
        named = [s for s in dict.fromkeys(t.subject for t in triples)
                 if isinstance(s, NamedNode) and s.value in spellings]
        if named:
            return named[0], triples
    mains = main_nodes(triples, kind.type)
    if len(mains) != 1:
        raise BadRequest(f"the payload must describe exactly one {_short(kind.type)}, "
                         f"it describes {len(mains)}", expectedType=kind.type.value)
    node = mains[0]
    if not is_placeholder(node, collection) and (target is not None):
        raise BadRequest(f"the payload describes {node.value}, not {target.value}", pointer="/@id")
    if target is not None:
        iri = target
    elif is_placeholder(node, collection):
        iri = mint(collection)
    elif in_collection(node.value, collection, base_url, nested=kind.segment in KINDS):
        iri = node
    else:
        # Anywhere else in the namespace, it once made documents at a webhook's or a session's IRI,
        # or at ids no route could reach again (`…/orders/x#y`, `…/orders/.hidden`) holding stock.
        raise BadRequest(f"{node.value} is not a resource id of {collection}: POST with the collection "
                         "URL as @id, or none, or PUT to the resource's own URL (ids: letters, digits "
                         "and . _ ~ -, not starting with a dot)", pointer="/@id")
    return iri, rename(triples, {node: iri} if node != iri else {})


def split_catalog(triples: list[Triple], ns: Namespace) -> dict[NamedNode, list[Triple]]:
    """Split a catalogue payload into one document per resource (blank nodes follow their user).

    Typed resources with placeholder ids get minted IRIs; every document must lie in the
    enterprise's namespace.
    """
    kinds = {}
    for t in triples:
        if t.predicate == RDF_TYPE and t.object in CATALOG_TYPES:
            kinds.setdefault(t.subject, KIND_OF_TYPE[t.object])
        elif t.predicate == RDF_TYPE and t.object in NOT_CATALOG:
            raise BadRequest(f"{_short(t.object)} is not a catalogue resource; a catalogue holds "
                             "products, catalogue items, offers and their flows", node=str(t.subject))
    triples = rename(triples, {s: mint(ns.collection(k)) for s, k in kinds.items()
                               if is_placeholder(s, ns.collection(k))})
    check_owned(ns, triples)
    # Nodes no resource refers to (FDC exports carry a few) are kept in the catalogue's own
    # document rather than lost.
    documents = split_documents(triples, orphans_to=NamedNode(ns.iri + "/catalog"))
    misplaced = [name for name, doc in documents.items() if not is_catalogue_document(ns, name, doc)]
    if misplaced:
        # An import replaces what it names: it once forged webhook subscriptions and deliveries,
        # and wrote over sale sessions, with a node at their IRIs, of one of our types or of none.
        raise ShapeViolation(f"{len(misplaced)} node(s) of the catalogue name documents it may not write: "
                             "none of the server's own kinds, no enterprise but this one, nothing under "
                             "its orders, sessions, contracts, webhooks, partners, persons, settings or events",
                             violations=[violation(name, RDF_TYPE, None, f"{name.value} ({_kinds(documents[name], name)}) "
                                                   "is no catalogue document: nest it in a resource, or write it "
                                                   "where its kind lives") for name in misplaced])
    return documents


def is_catalogue_document(ns: Namespace, name: NamedNode, triples: list[Triple]) -> bool:
    """Whether a catalogue import may write (or replace) this document: none of its node's types is
    ours, it is the enterprise itself or no other enterprise, and it lies in none of the server's
    collections (kinds.SERVER_SEGMENTS) but as the catalogue's own document (what no resource
    refers to). Anything else of the catalogue goes: DFC catalogues, addresses, social media."""
    types = {t.object for t in triples if t.subject == name and t.predicate == RDF_TYPE}
    if any(t.value.startswith(HUB) for t in types):
        return False
    if name.value in ns.iris or name.value == ns.iri + "/catalog":
        return True
    segment = next((name.value[len(p):] for p in ns.prefixes if name.value.startswith(p)), "").split("/")[0]
    return ENTERPRISE.type not in types and segment.split("#")[0] not in SERVER_SEGMENTS


def check_replaceable(ns: Namespace, name: NamedNode, current: list[Triple] | None) -> None:
    """Refuse (409) an import over a document it could not have written: a subscription, a
    partner, anything the server keeps there (the kinds sessions and orders are, carry_over says)."""
    if current and not is_catalogue_document(ns, name, current):
        raise Conflict(f"{name.value} is a {_kinds(current, name)}, which a catalogue import cannot replace",
                       iri=name.value)


def _kinds(triples: list[Triple], name: NamedNode) -> str:
    types = sorted(_short(t.object) for t in triples if t.subject == name and t.predicate == RDF_TYPE)
    return ", ".join(types) or "no type"


def check_owned(ns: Namespace, triples: list[Triple]) -> None:
    """Refuse (403) a payload stating anything about another enterprise's resources."""
    for subject in {t.subject.value for t in triples if isinstance(t.subject, NamedNode)}:
        if not ns.owns(subject):
            raise Forbidden(f"{subject} is outside the namespace of enterprise {ns.eid} "
                            f"({ns.prefixes[0]}…); write only your own resources", iri=subject)


def split_documents(triples: list[Triple], orphans_to: NamedNode | None = None
                    ) -> dict[NamedNode, list[Triple]]:
    """One document per IRI subject; blank nodes go with the document that refers to them.

    Blank nodes nothing refers to go to `orphans_to`, or are refused without it.
    """
    by_subject = defaultdict(list)
    for t in triples:
        by_subject[t.subject].append(t)
    docs: dict[NamedNode, list[Triple]] = {}
    claimed: set = set()
    for subject in [s for s in by_subject if isinstance(s, NamedNode)]:
        doc, stack = [], [subject]
        while stack:
            node = stack.pop()
            for t in by_subject.get(node, ()):
                doc.append(t)
                if isinstance(t.object, BlankNode) and t.object not in claimed:
                    claimed.add(t.object)
                    stack.append(t.object)
        docs[subject] = doc
    orphans = [s for s in by_subject if isinstance(s, BlankNode) and s not in claimed]
    if orphans and orphans_to is not None:
        docs.setdefault(orphans_to, []).extend(t for s in orphans for t in by_subject[s])
    elif orphans:
        types = {_short(t.object) for s in orphans for t in by_subject[s] if t.predicate == RDF_TYPE}
        raise BadRequest("the payload has nodes without an id that no resource refers to "
                         f"({', '.join(sorted(types)) or 'untyped'}); give them an @id or nest them",
                         count=len(orphans))
    if not docs:
        raise BadRequest("the payload describes no resource")
    return docs


def write_target(reader, iri: NamedNode, replace: bool, expected: Expected, base_url: str
                 ) -> tuple[NamedNode, list[Triple] | None]:
    """Where a POST (replace False) or PUT of `iri` writes: (the name as stored, its triples or None).

    A PUT must meet its preconditions (412); a POST of an IRI that exists is 409.
    """
    found = find(reader, iri.value, base_url)
    if replace:
        expected.check(found[1] if found else None)
    elif found:
        raise Conflict(f"{iri.value} exists already; PUT it to replace it", iri=iri.value)
    return (found[0], found[1]) if found else (iri, None)


def _short(node: NamedNode) -> str:
    return "dfc-b:" + node.value.split("#")[-1]


# --- reading and writing through the store ---------------------------------------------

def find(store: Store, iri: str, base_url: str) -> tuple[NamedNode, list[Triple]] | None:
    """Return (graph name, triples) of the document at any spelling of `iri`, or None."""
    for candidate in variants(iri, base_url):
        name = NamedNode(candidate)
        triples = store.graph(name)
        if triples:
            return name, triples
    return None


def list_documents(store: Store, ns: Namespace, kind: Kind) -> list[NamedNode]:
    """IRIs of an enterprise's documents of one kind, sorted."""
    rows = store.select(queries.load("list_documents"), {**ns.bindings(), "type": kind.type})
    return [r["g"] for r in rows]


def documents_of_kinds(store: Store, prefixes: tuple[str, str], kinds) -> dict[NamedNode, set[NamedNode]]:
    """The documents under either prefix whose main node has one of `kinds`, sorted → all its types."""
    rows = store.select(queries.load("documents_of_kinds"),
                        {"prefix": prefixes[0], "alias": prefixes[1], "kinds": list(kinds)})
    out: dict[NamedNode, set[NamedNode]] = {}
    for row in rows:
        out.setdefault(row["g"], set()).add(row["type"])
    return out


def enterprise_prefixes(base_url: str) -> tuple[str, str]:
    """Where every enterprise's documents lie on this server, in both spellings."""
    return tuple(f"{base_url}/api/dfc/{segment}/" for segment in (ENTERPRISE.segment, ENTERPRISE.alias))


def has_documents(store: Store, ns: Namespace) -> bool:
    """Tell whether an enterprise has any document besides its own."""
    return store.ask(queries.load("documents_under"), ns.bindings())
