"""Partner platforms of a hub: where a remote producer's catalogue and orders live, and its copy here.

A partner is a document of the hub (`{hub}/partners/{slug}`): the remote producer's IRI, its
catalogue and orders URLs; the catalogue is on the remote producer's origin. The credentials
for that platform (a bearer token, or what gets one at its identity provider:
app/partners/credentials.py) are kept apart, in a graph of their own outside the API's
namespace, so no GET of any resource and no analyst query (which only reads allow-listed
documents under the API, app/queries/analyst_graphs.rq) can show them. Beside them are the
origins they were given for (those of the catalogue and orders URLs then): the partner's token
is sent to no other, and a PUT that moves a URL to another origin must give the credentials
again. (A `token_url` is given only inside `auth`, with the credentials: moving it always does.)

What a sync keeps belongs to the partner configuration that synced it: each remote document is
copied into a graph of that partner's own (`copy_graph`, outside the API's namespace, marked
`hub:copyOf` the remote IRI, `hub:fetchedBy` the partner and `hub:fetchedAt`), so one hub's
sync never changes what another hub's partner fetched, and lookups name the partner whose
copies they read. Only IRIs on the remote producer's own origin are kept; the marks are ours
alone (a fetched catalogue's own `hub:fetchedBy` statements are dropped).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from urllib.parse import urlsplit

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.domain.agents import valid_iri
from app.domain.versions import Expected
from app.domain.kinds import Kind
from app.catalog.links import Source
from app.partners import credentials as creds
from app.errors import InvalidValue, NotFound
from app.namespaces import PARTNER_COPIES, RDF_TYPE, hub
from app.outbound import UnsafeURL
from app.rdf.terms import instant_literal
from app.rdf.triples import first, number
from app.store import Store

PARTNERS = "partners"
FIELDS = ("enterprise", "catalog", "orders", "token", "auth")
# The URLs the credentials are sent to: moving one to another origin needs them given again.
CREDENTIAL_URLS = ("catalog", "orders")
COPY_OF, FETCHED_BY, FETCHED_AT = hub("copyOf"), hub("fetchedBy"), hub("fetchedAt")
# What marks a partner's copy of a remote document (written by the server only, on the copy's graph).
MARKS = (COPY_OF, FETCHED_BY, FETCHED_AT)
TOKEN_ORIGIN = creds.TOKEN_ORIGIN


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


def origin(url: str) -> str:
    """A URL's scheme, host and port, spelt one way (the port written out); "" if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if not host or port is None:
        return ""
    return f"{parts.scheme.lower()}://{f'[{host}]' if ':' in host else host}:{port}"


def copy_graph(partner: NamedNode, name: NamedNode) -> NamedNode:
    """Where `partner` keeps its copy of the remote document `name`: a graph of that partner's alone."""
    return NamedNode(PARTNER_COPIES + _digest(partner.value) + ":" + _digest(name.value))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def from_json(body, ns: docs.Namespace, slug: str, guard,
              kept: creds.Credentials | None) -> tuple[list[Triple], creds.Credentials | None]:
    """The partner document and credentials a PUT's JSON body gives; 422 naming the field at fault.

    `kept`: the credentials the partner has now, which a body without `token` or `auth` keeps.
    """
    if not isinstance(body, dict):
        raise InvalidValue("send a JSON object with enterprise, catalog, orders and token (or auth)", pointer="/")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidValue(f"unknown member(s) {', '.join(unknown)}; a partner has {', '.join(FIELDS)}",
                           pointer=f"/{unknown[0]}")
    missing = [f for f in FIELDS[:4] if f not in body and not (f == "token" and (kept is not None or "auth" in body))]
    if missing:
        raise InvalidValue(f"missing member(s): {', '.join(m + (' (or auth)' if m == 'token' else '') for m in missing)}",
                           pointer=f"/{missing[0]}")
    for field in ("enterprise", "catalog", "orders"):
        guard(body[field], field=field)
        if field == "enterprise" and not valid_iri(body[field]):     # kept as an IRI: the store takes no other
            raise InvalidValue("enterprise must be an IRI (no spaces or bad escapes)", field=field)
        if docs.enterprise_of(body[field], ns.base_url) is not None:
            raise InvalidValue(f"{field} names this server: a partner is another platform; order from "
                               "this server's producers directly", field=field)
    given = creds.from_json(body, guard)
    if given is None:
        _check_kept(kept, body)
    else:
        given = dataclasses.replace(given, origins=frozenset(origin(body[field]) for field in CREDENTIAL_URLS))
    check_catalog(body["enterprise"], body["catalog"])
    node = iri(ns, slug)
    doc = [Triple(node, RDF_TYPE, hub("Partner")), Triple(node, hub("partnerOf"), NamedNode(ns.iri)),
           Triple(node, hub("remoteEnterprise"), NamedNode(body["enterprise"])),
           Triple(node, hub("catalogURL"), Literal(body["catalog"])),
           Triple(node, hub("ordersURL"), Literal(body["orders"]))]
    return doc, given


def check_catalog(enterprise: str, catalog: str) -> None:
    """A catalogue is on its producer's origin (422 else): a sync keeps only IRIs there, and a
    catalogue elsewhere could name them."""
    if origin(catalog) != origin(enterprise):
        raise InvalidValue(f"catalog must be on the origin of enterprise ({origin(enterprise)}): a partner's "
                           "catalogue is what the producer's own platform says; PUT the partner again", field="catalog")


def parse(triples: list[Triple], node: NamedNode) -> Partner:
    return Partner(node, first(triples, node, hub("partnerOf")), first(triples, node, hub("remoteEnterprise")),
                   first(triples, node, hub("catalogURL")).value, first(triples, node, hub("ordersURL")).value)


def load(store: Store, node: NamedNode) -> Partner:
    """The partner at `node`, or 404."""
    triples = store.graph(node)
    if Triple(node, RDF_TYPE, hub("Partner")) not in triples:
        raise NotFound(f"no partner at {node.value}")
    return parse(triples, node)


# --- credentials: kept apart, sent only to the origins they were given for ------------------------

def token_graph(partner: NamedNode) -> NamedNode:
    """Where a partner's token is kept: a graph no API route or analyst query reads."""
    return NamedNode("urn:x-dfc-hub:partner-token:" + _digest(partner.value))


def partner_keys(partner: NamedNode) -> list[NamedNode]:
    """What a unit of work that changes a partner's configuration, credentials or copies locks:
    its documents, not the store (a token request waits under these locks)."""
    return [partner, token_graph(partner)]


def credentials(store, partner: NamedNode) -> creds.Credentials | None:
    """The partner's credentials as kept (with the origins they were given for), or None."""
    return creds.read(store.graph(token_graph(partner)), partner)


def check_origin(kept: creds.Credentials, url: str) -> None:
    """The partner's token may go to `url` (its origin is one the credentials were given for); 422 else."""
    if origin(url) not in kept.origins:
        raise UnsafeURL(f"the partner's token was given for {', '.join(sorted(kept.origins)) or 'no origin we noted'}"
                        f", not {origin(url) or url}: it is not sent there; PUT the partner with its credentials "
                        "again", field="token", required=[_member(kept)])


def _member(kept: creds.Credentials) -> str:
    """The member that gives these credentials again: `token` for a bearer token, else `auth`."""
    return "token" if kept.kind == creds.BEARER else "auth"


def _check_kept(kept: creds.Credentials | None, body: dict) -> None:
    """A body that keeps the token may not move a URL it is sent to to another origin (422 naming it)."""
    if kept is None:
        return
    for field in CREDENTIAL_URLS:
        if origin(body[field]) not in kept.origins:
            raise InvalidValue(f"{field} moves to {origin(body[field])}, an origin the partner's credentials were "
                               f"not given for ({', '.join(sorted(kept.origins)) or 'none noted'}): give them again "
                               f"in this PUT ({_member(kept)})", field=field, required=[_member(kept)])


# --- the copy of a remote catalogue -----------------------------------------------------------

@dataclasses.dataclass
class SyncPlan:
    """What a sync writes, and what it reports."""
    documents: dict[NamedNode, list[Triple]]
    drops: list[NamedNode]
    report: dict


def plan_sync(partner: Partner, fetched: dict[NamedNode, list[Triple]], stored: dict[NamedNode, list[Triple]],
              base_url: str, now: dt.datetime) -> SyncPlan:
    """Compare a fetched catalogue with this partner's copies (pure): what to write, drop and report.

    `stored` maps each remote IRI this partner holds a copy of to that copy's graph, as read.
    Writes and drops name this partner's copy graphs only.
    """
    added, changed, unchanged, ignored, writes, kept = [], [], 0, [], {}, set()
    stamp = instant_literal(now)
    for name, triples in fetched.items():
        if not name.value.startswith(partner.origin) or docs.enterprise_of(name.value, base_url) is not None:
            ignored.append(name.value)      # not the partner's, or a document of ours
            continue
        graph, content, current = copy_graph(partner.iri, name), _content(triples), stored.get(name)
        kept.add(name)
        if current is not None and _shape(_content(current)) == _shape(content):
            unchanged += 1
            content = _content(current)     # as it was: only the time it was fetched changes
        else:
            (changed if current is not None else added).append(name.value)
        writes[graph] = [*content, Triple(graph, COPY_OF, name), Triple(graph, FETCHED_BY, partner.iri),
                         Triple(graph, FETCHED_AT, stamp)]
    removed = sorted(name.value for name in stored if name not in kept)
    drops = [copy_graph(partner.iri, name) for name in stored if name not in kept]
    report = {"partner": partner.iri.value, "catalog": partner.catalog, "fetchedAt": stamp.value,
              "added": sorted(added), "changed": sorted(changed), "removed": removed,
              "unchanged": unchanged, "ignored": sorted(ignored)}
    return SyncPlan(writes, drops, report)


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


def _content(triples) -> list[Triple]:
    """A copy without the marks: those are ours to write, never a fetched document's."""
    return [t for t in triples if t.predicate not in MARKS]


def copies_of(store: Store, partner: NamedNode) -> dict[NamedNode, NamedNode]:
    """The remote documents this partner's syncs keep a copy of: remote IRI → the copy's graph."""
    rows = store.select(queries.load("partner_copies"), {"partner": partner, "copies": PARTNER_COPIES})
    return {r["name"]: r["g"] for r in rows}


def legacy_copies(store: Store, partner: NamedNode) -> list[NamedNode]:
    """Copies an earlier version kept under the remote IRIs themselves, shared by every partner."""
    return [r["g"] for r in store.select(queries.load("partner_legacy_copies"), {"partner": partner})]


def forget_legacy(partner: NamedNode, legacy: dict[NamedNode, list[Triple]], base_url: str
                  ) -> tuple[dict[NamedNode, list[Triple]], list[NamedNode]]:
    """Take this partner's mark off each legacy copy (pure); a copy no partner marks any more goes."""
    writes, drops = {}, []
    for name, triples in legacy.items():
        if docs.enterprise_of(name.value, base_url) is not None:
            continue        # never a document of ours
        left = [t for t in triples if not (t.subject == name and t.predicate == FETCHED_BY and t.object == partner)]
        if any(t.subject == name and t.predicate == FETCHED_BY for t in left):
            writes[name] = left
        else:
            drops.append(name)
    return writes, drops


def keep_copies(tx, partner: Partner, fetched: dict[NamedNode, list[Triple]], base_url: str,
                now: dt.datetime) -> dict:
    """In a unit of work: make this partner's copies what was fetched (nothing: forget them all)."""
    held = copies_of(tx, partner.iri)
    found = tx.graphs(list(held.values()))
    plan = plan_sync(partner, fetched, {name: found[g] for name, g in held.items()}, base_url, now)
    legacy = legacy_copies(tx, partner.iri)
    writes, drops = forget_legacy(partner.iri, tx.graphs(legacy), base_url)
    for name, triples in {**plan.documents, **writes}.items():
        tx.put(name, triples)
    for name in [*plan.drops, *drops]:
        tx.drop(name)
    return plan.report


# --- remote products a hub sells -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Remote:
    """Where a remote product is bought: its copy's item and offer, the producer and the partner."""
    source: Source
    producer: NamedNode
    partner: NamedNode


def remote_sources(store: Store, hub_iri: NamedNode, products: list[NamedNode]) -> dict[NamedNode, Remote]:
    """For each product a partner of this hub sells, its remote item, offer and producer, read
    from that partner's copies only."""
    if not products:
        return {}
    rows = store.select(queries.load("remote_product_items"), {"products": products, "hub": hub_iri,
                                                               "copies": PARTNER_COPIES})
    # Each (partner, item, offer) the copies state, in a fixed order: the first with an offer wins.
    candidates = []
    for row in rows:
        for offer in ({row.get("through"), row.get("pointing"), row.get("pointing2")} - {None}) or {None}:
            candidates.append(((row["partner"].value, row["item"].value, offer.value if offer else ""), row, offer))
    chosen: dict[NamedNode, tuple] = {}
    for _, row, offer in sorted(candidates, key=lambda c: c[0]):
        best = chosen.get(row["product"])
        if best is None or (best[1] is None and offer is not None):
            chosen[row["product"]] = (row["item"], offer, row["producer"], row["partner"])
    prices = _offer_prices(store, [copy_graph(partner, offer) for item, offer, producer, partner in chosen.values()
                                   if offer is not None])
    out: dict[NamedNode, Remote] = {}
    for product, (item, offer, producer, partner) in chosen.items():
        price, currency = prices.get(copy_graph(partner, offer), (None, None)) if offer is not None else (None, None)
        out[product] = Remote(Source(offer, item, product, price, currency), producer, partner)
    return out


def _offer_prices(store: Store, copies: list[NamedNode]) -> dict[NamedNode, tuple]:
    """Each offer copy's price and currency (the lowest, when a copy states several)."""
    out: dict[NamedNode, tuple] = {}
    for row in store.select(queries.load("remote_offer_prices"), {"copies": copies}) if copies else []:
        out.setdefault(row["g"], (number(row.get("price")), row.get("currency")))
    return out


# --- the service the partner routes call ----------------------------------------------------------

class PartnerDesk:
    """A hub's partners: configured, read, removed and synced, each write in one unit of work."""

    def __init__(self, store: Store, forwarder, validator, guard):
        # `guard(url, field)` refuses a URL the server may not call (app/outbound Guard).
        self.store, self.forwarder, self.validator, self.guard = store, forwarder, validator, guard

    def read(self, ns: docs.Namespace, slug: str) -> list[Triple]:
        """The partner's document (never its credentials), or 404."""
        node = iri(ns, slug)
        load(self.store, node)
        return self.store.graph(node)

    def write(self, ns: docs.Namespace, slug: str, body, expected: Expected = Expected()
              ) -> tuple[bool, list[Triple]]:
        """Create or replace a partner from its JSON; (created?, its document)."""
        node = iri(ns, slug)
        with self.store.transaction(keys=partner_keys(node)) as tx:
            current = tx.graph(node)
            if current and Triple(node, RDF_TYPE, hub("Partner")) not in current:
                raise InvalidValue(f"{node.value} is not a partner's document")
            expected.check(current or None)
            kept = credentials(tx, node) if current else None
            doc, given = from_json(body, ns, slug, self.guard, kept)
            if given is not None:
                tx.put(token_graph(node), creds.document(node, given))
            else:       # the credentials kept: so is the identity provider's refusal of them, if any
                doc = creds.with_refusal(doc, node, creds.refused(current, node))
            tx.put(node, doc)
        return not current, doc

    def delete(self, ns: docs.Namespace, slug: str, expected: Expected = Expected()) -> None:
        """Remove a partner, its token, and the copies its syncs kept."""
        node = iri(ns, slug)
        with self.store.transaction(keys=partner_keys(node)) as tx:
            current = tx.graph(node)
            if Triple(node, RDF_TYPE, hub("Partner")) not in current:
                raise NotFound(f"no partner at {node.value}")
            expected.check(current)
            keep_copies(tx, parse(current, node), {}, ns.base_url, dt.datetime.now(dt.timezone.utc))
            for name in (node, token_graph(node)):
                tx.drop(name)

    def states(self, ns: docs.Namespace) -> list[dict]:
        """The hub's partners as its board shows them: the remote producer, how many documents its
        syncs keep and when it last fetched (never its token)."""
        out = []
        for node in docs.list_documents(self.store, ns, Kind(PARTNERS, "Partners", hub("Partner"))):
            partner = parse(self.store.graph(node), node)
            copies = list(copies_of(self.store, node).values())
            stamps = [t.object.value for t in self.store.graphs(copies) if t.predicate == FETCHED_AT] if copies else []
            out.append({"slug": node.value.rsplit("/", 1)[-1], "enterprise": partner.enterprise.value,
                        "copies": len(copies), "fetched": max(stamps, default=None)})
        return out

    def sync(self, ns: docs.Namespace, slug: str) -> dict:
        """Fetch the partner's catalogue and keep a copy; what changed."""
        return self.forwarder.sync(iri(ns, slug), self.validator)
