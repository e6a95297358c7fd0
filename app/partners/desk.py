"""Partner platforms of a hub: where a remote producer's catalogue and orders live, and its copy here.

A partner is a document of the hub (`{hub}/partners/{slug}`): the remote producer's IRI, its
catalogue and orders URLs. The credentials for that platform (a bearer token, or what gets one
at its identity provider: app/partners/credentials.py) are kept apart, in a graph of their own
outside the API's namespace, so no GET of any resource and no analyst query (which only reads
allow-listed documents under the API, app/queries/analyst_graphs.rq) can show them.

A sync keeps a copy of the remote catalogue under the remote IRIs, each copy marked with the
partners that fetched it (`hub:fetchedBy`) and when (`hub:fetchedAt`). Only IRIs on the remote
producer's own origin are kept, and a document of ours is never overwritten by a copy.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from urllib.parse import urlsplit

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.catalog.links import Source
from app.partners import credentials as creds
from app.errors import InvalidValue, NotFound
from app.namespaces import RDF_TYPE, hub
from app.outbound import check_url
from app.rdf.terms import datetime_literal
from app.rdf.triples import first, number
from app.store import Store

PARTNERS = "partners"
FIELDS = ("enterprise", "catalog", "orders", "token", "auth")
# What marks a copy of a remote document: who fetched it, and when (written by the server only).
MARKS = (hub("fetchedBy"), hub("fetchedAt"))


@dataclasses.dataclass(frozen=True)
class Partner:
    """One partner platform of a hub, as configured."""
    iri: NamedNode
    hub: NamedNode
    enterprise: NamedNode          # the remote producer
    catalog: str                   # its catalogue URL
    orders: str                    # its orders collection URL

    @property
    def origin(self) -> str:
        parts = urlsplit(self.enterprise.value)
        return f"{parts.scheme}://{parts.netloc}/"


def iri(ns: docs.Namespace, slug: str) -> NamedNode:
    return NamedNode(f"{ns.iri}/{PARTNERS}/{slug}")


def token_graph(partner: NamedNode) -> NamedNode:
    """Where a partner's token is kept: a graph no API route or analyst query reads."""
    return NamedNode("urn:x-dfc-hub:partner-token:" + hashlib.sha256(partner.value.encode()).hexdigest())


def from_json(body, ns: docs.Namespace, slug: str, allow_private: bool,
              has_token: bool) -> tuple[list[Triple], creds.Credentials | None]:
    """The partner document and credentials a PUT's JSON body gives; 422 naming the field at fault."""
    if not isinstance(body, dict):
        raise InvalidValue("send a JSON object with enterprise, catalog, orders and token (or auth)", pointer="/")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidValue(f"unknown member(s) {', '.join(unknown)}; a partner has {', '.join(FIELDS)}",
                           pointer=f"/{unknown[0]}")
    missing = [f for f in FIELDS[:4] if f not in body and not (f == "token" and (has_token or "auth" in body))]
    if missing:
        raise InvalidValue(f"missing member(s): {', '.join(m + (' (or auth)' if m == 'token' else '') for m in missing)}",
                           pointer=f"/{missing[0]}")
    for field in ("enterprise", "catalog", "orders"):
        check_url(body[field], allow_private, field=field)
        if docs.enterprise_of(body[field], ns.base_url) is not None:
            raise InvalidValue(f"{field} names this server: a partner is another platform; order from "
                               "this server's producers directly", field=field)
    given = creds.from_json(body, allow_private)
    node = iri(ns, slug)
    doc = [Triple(node, RDF_TYPE, hub("Partner")), Triple(node, hub("partnerOf"), NamedNode(ns.iri)),
           Triple(node, hub("remoteEnterprise"), NamedNode(body["enterprise"])),
           Triple(node, hub("catalogURL"), Literal(body["catalog"])),
           Triple(node, hub("ordersURL"), Literal(body["orders"]))]
    return doc, given


def parse(triples: list[Triple], node: NamedNode) -> Partner:
    return Partner(node, first(triples, node, hub("partnerOf")), first(triples, node, hub("remoteEnterprise")),
                   first(triples, node, hub("catalogURL")).value, first(triples, node, hub("ordersURL")).value)


def load(store: Store, node: NamedNode) -> Partner:
    """The partner at `node`, or 404."""
    triples = store.graph(node)
    if Triple(node, RDF_TYPE, hub("Partner")) not in triples:
        raise NotFound(f"no partner at {node.value}")
    return parse(triples, node)


# --- the copy of a remote catalogue -----------------------------------------------------------

@dataclasses.dataclass
class SyncPlan:
    """What a sync writes, and what it reports."""
    documents: dict[NamedNode, list[Triple]]
    drops: list[NamedNode]
    report: dict


def plan_sync(partner: Partner, fetched: dict[NamedNode, list[Triple]], stored: dict[NamedNode, list[Triple]],
              previous: list[NamedNode], base_url: str, now: dt.datetime) -> SyncPlan:
    """Compare a fetched catalogue with the copies held (pure): what to write, drop and report.

    `stored` holds the current document of every fetched name and of every `previous` copy
    this partner fetched before.
    """
    added, changed, unchanged, ignored, writes, drops, removed = [], [], 0, [], {}, [], []
    stamp = datetime_literal(now.astimezone(dt.timezone.utc).replace(microsecond=0))
    for name, triples in fetched.items():
        current = stored.get(name, [])
        if not name.value.startswith(partner.origin) or docs.enterprise_of(name.value, base_url) is not None \
                or (current and not _is_copy(current, name)):
            ignored.append(name.value)      # not the partner's, or a document of ours
            continue
        if current and _shape(_content(current, name)) == _shape(triples):
            unchanged += 1
        else:
            (changed if current else added).append(name.value)
        others = [t for t in current if t.subject == name and t.predicate == hub("fetchedBy") and t.object != partner.iri]
        writes[name] = [*triples, *others, Triple(name, hub("fetchedBy"), partner.iri),
                        Triple(name, hub("fetchedAt"), stamp)]
    for name in previous:
        if name in fetched:
            continue
        current = stored.get(name, [])
        removed.append(name.value)
        others = [t for t in current if t.subject == name and t.predicate == hub("fetchedBy") and t.object != partner.iri]
        if others:      # another partner of ours still has it
            writes[name] = [t for t in current if not (t.subject == name and t.predicate == hub("fetchedBy")
                                                       and t.object == partner.iri)]
        else:
            drops.append(name)
    report = {"partner": partner.iri.value, "catalog": partner.catalog, "fetchedAt": stamp.value,
              "added": sorted(added), "changed": sorted(changed), "removed": sorted(removed),
              "unchanged": unchanged, "ignored": sorted(ignored)}
    return SyncPlan(writes, drops, report)


def _is_copy(triples, name) -> bool:
    return first(triples, name, hub("fetchedBy")) is not None


def _shape(triples) -> list:
    """The statements with each blank node named by what it states (a price, a quantity): two
    parses of one document compare equal though their blank node ids differ."""
    about: dict = {}
    for t in triples:
        if isinstance(t.subject, BlankNode):
            about.setdefault(t.subject, []).append((t.predicate.value, str(t.object)))

    def label(term):
        return repr(sorted(about.get(term, []))) if isinstance(term, BlankNode) else str(term)
    return sorted((label(t.subject), t.predicate.value, label(t.object)) for t in triples)


def _content(triples, name) -> list[Triple]:
    return [t for t in triples if not (t.subject == name and t.predicate in MARKS)]


def copies_of(store: Store, partner: NamedNode) -> list[NamedNode]:
    """The remote documents this partner's syncs keep a copy of."""
    return [r["g"] for r in store.select(queries.load("partner_copies"), {"partner": partner})]


# --- remote products a hub sells -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Remote:
    """Where a remote product is bought: its copy's item and offer, the producer and the partner."""
    source: Source
    producer: NamedNode
    partner: NamedNode


def remote_sources(store: Store, hub_iri: NamedNode, products: list[NamedNode]) -> dict[NamedNode, Remote]:
    """For each product a partner of this hub sells, its remote item, offer and producer."""
    if not products:
        return {}
    rows = store.select(queries.load("remote_product_items"), {"products": products, "hub": hub_iri})
    out: dict[NamedNode, Remote] = {}
    for row in rows:
        product = row["product"]
        best = out.get(product)
        if best is not None and (best.source.offer is not None or row.get("offer") is None):
            continue
        source = Source(row.get("offer"), row["item"], product, number(row.get("price")), row.get("currency"))
        out[product] = Remote(source, row["producer"], row["partner"])
    return out


# --- the service the partner routes call ----------------------------------------------------------

class PartnerDesk:
    """A hub's partners: configured, read, removed and synced, each write in one unit of work."""

    def __init__(self, store: Store, forwarder, validator, allow_private: bool):
        self.store, self.forwarder, self.validator, self.allow_private = store, forwarder, validator, allow_private

    def read(self, ns: docs.Namespace, slug: str) -> list[Triple]:
        """The partner's document (never its credentials), or 404."""
        node = iri(ns, slug)
        load(self.store, node)
        return self.store.graph(node)

    def write(self, ns: docs.Namespace, slug: str, body) -> tuple[bool, list[Triple]]:
        """Create or replace a partner from its JSON; (created?, its document)."""
        node = iri(ns, slug)
        with self.store.transaction() as tx:
            current = tx.graph(node)
            if current and Triple(node, RDF_TYPE, hub("Partner")) not in current:
                raise InvalidValue(f"{node.value} is not a partner's document")
            doc, given = from_json(body, ns, slug, self.allow_private, has_token=bool(current))
            if given is not None:
                tx.put(token_graph(node), creds.document(node, given))
            else:       # the credentials kept: so is the identity provider's refusal of them, if any
                doc = creds.with_refusal(doc, node, creds.refused(current, node))
            tx.put(node, doc)
        return not current, doc

    def delete(self, ns: docs.Namespace, slug: str) -> None:
        """Remove a partner, its token, and the copies of its catalogue no other partner holds."""
        node = iri(ns, slug)
        with self.store.transaction() as tx:
            current = tx.graph(node)
            if Triple(node, RDF_TYPE, hub("Partner")) not in current:
                raise NotFound(f"no partner at {node.value}")
            previous = copies_of(tx, node)
            plan = plan_sync(parse(current, node), {}, {n: tx.graph(n) for n in previous}, previous,
                             ns.base_url, dt.datetime.now(dt.timezone.utc))
            for name, triples in plan.documents.items():
                tx.put(name, triples)
            for name in [*plan.drops, node, token_graph(node)]:
                tx.drop(name)

    def sync(self, ns: docs.Namespace, slug: str) -> dict:
        """Fetch the partner's catalogue and keep a copy; what changed."""
        return self.forwarder.sync(iri(ns, slug), self.validator)
