"""From a hub's customer lines to its wholesale lines with producers (API.md "Customer order").

A customer line concerns a hub offer (whose catalogue item references a producer's product) or
a producer's offer directly. Each becomes a contribution to one line of the hub's wholesale
order with that producer: one unit per unit, or, when the hub aggregates by weight, the weight
of what the customer buys added to the line of the bulk product it is made from.
"""
from __future__ import annotations

import dataclasses
import math
import secrets
from decimal import Decimal

from pyoxigraph import BlankNode, NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.domain import units, order_documents as orders
from app.partners import desk as partners
from app.partners import records as forwarded
from app.catalog.links import Source, product_sources, sizes
from app.catalog.hub_settings import HubSettings
from app.errors import ShapeViolation, violation
from app.namespaces import FALSE, PARTNER_COPIES, RDF_TYPE, TRUE, T
from app.queries import as_term
from app.rdf.terms import decimal_literal
from app.rdf.triples import Indexed, number, tidy
from app.store import Store

ONE = Decimal(1)


@dataclasses.dataclass(frozen=True)
class Target:
    """Where one customer line's units go upstream."""
    producer: NamedNode            # the producer enterprise
    source: Source                 # the producer's offer and catalogue item of the wholesale line
    product: NamedNode | None      # the producer's product the customer buys
    per_unit: Decimal = ONE        # what one customer unit adds to the wholesale line (its measure)
    pack: Decimal = ONE            # the wholesale line's measure per unit of the producer's offer
    whole_packs: bool = False      # the offer sells whole packs only: round up, record the surplus
    unit_weight: Decimal | None = None   # kilograms per customer unit, when known
    sold: Source | None = None     # the offer the customer buys (its price is the customer's)
    partner: NamedNode | None = None   # the partner platform the producer sells on (forwarded lines)


def targets(store: Store, ns: docs.Namespace, found: dict[NamedNode, Source], settings: HubSettings,
            base_url: str) -> dict[NamedNode, Target]:
    """The upstream target of each offer a hub's customer lines concern; 422 where there is none."""
    retail = {o: s.product for o, s in found.items()}
    hub = NamedNode(ns.iri)
    bulk = _bulk_products(store, hub, [p for p in retail.values() if p]) if settings.by_weight else {}
    wanted = list({bulk.get(p, p) for p in retail.values() if p})
    upstream = product_sources(store, wanted, base_url)
    remote = partners.remote_sources(store, hub, [p for p in wanted if p not in upstream])
    measured = sizes(store, hub, list({*retail.values(), *bulk.values()} - {None}))
    amounts = _amounts(measured)
    out = {}
    for offer, source in found.items():
        product = retail[offer]
        wholesale = bulk.get(product, product)
        target_source, producer, partner = _upstream(ns, offer, source, product, wholesale, upstream,
                                                     remote, base_url)
        weight = amounts.get(product)
        unit_weight = weight.value if weight is not None and weight.kind == units.MASS else None
        if not settings.by_weight:
            out[offer] = Target(producer, target_source, product, unit_weight=unit_weight, sold=source,
                                partner=partner)
            continue
        whole = amounts.get(wholesale)
        if weight is None or whole is None:
            missing = product if weight is None else wholesale
            raise ShapeViolation("cannot aggregate by weight without a mass or volume", violations=[_violation(
                offer, f"{missing.value if missing else offer.value} has no dfc-b:hasQuantity in a mass or "
                       "volume unit this server converts (ontology/units.ttl)")])
        units.ratio(weight, whole, offer.value)          # 422 when they do not convert
        out[offer] = Target(producer, target_source, product, weight.value, whole.value,
                            measured[wholesale][0] != ONE, unit_weight, source, partner)
    return out


def _upstream(ns, offer, source, product, wholesale, upstream, remote, base_url):
    """Where a customer line's units go: (the producer's source, the producer, its partner or None).

    A product a partner platform sells goes to that partner's producer, its line naming no
    stock item here (the partner keeps the ledger: app/partners/forwarder.py).
    """
    far = remote.get(wholesale)
    if far is not None and far.source.offer is not None:
        return dataclasses.replace(far.source, item=None), far.producer, far.partner
    # API.md: a line concerns a producer's offer directly, or a hub offer whose item references a
    # producer's product. Another hub's offer is a hub offer too: its line goes to the product's
    # producer, whose stock it reserves (taken as the other hub's own, it sold that hub's
    # unlimited listing: 500 kg of a producer's 10).
    direct = source.item is not None and not ns.owns(source.item.value) and product is not None \
        and docs.enterprise_of(source.item.value, base_url) == docs.enterprise_of(product.value, base_url)
    target_source = source if direct and wholesale == product else upstream.get(wholesale)
    if target_source is None or target_source.item is None or target_source.offer is None \
            or ns.owns(target_source.item.value) or docs.enterprise_of(target_source.item.value, base_url) is None:
        raise ShapeViolation("a customer line must lead to a producer's catalogue item and offer",
                             violations=[_violation(offer, f"{offer.value} leads to no producer's catalogue "
                                                    "item with an offer (a CatalogItem referencing a "
                                                    "producer's SuppliedProduct)")])
    producer = NamedNode(docs.Namespace(base_url, docs.enterprise_of(target_source.item.value, base_url)).iri)
    return target_source, producer, None


# Remote products are read from the copies the hub's own partners keep, and no one else's.
def _bulk_products(store: Store, hub: NamedNode, products: list[NamedNode]) -> dict[NamedNode, NamedNode]:
    rows = store.select(queries.load("bulk_products"), {"products": products, "hub": hub,
                                                        "copies": PARTNER_COPIES}) if products else []
    out: dict[NamedNode, NamedNode] = {}
    for row in rows:
        out.setdefault(row["retail"], row["bulk"])
    return out


def _amounts(measured: dict[NamedNode, tuple[Decimal, NamedNode]]) -> dict[NamedNode, units.Amount]:
    """Each product's size in its kind's SI unit, where its unit converts (ontology/units.ttl)."""
    found = {p: units.amount(value, unit) for p, (value, unit) in measured.items()}
    return {p: a for p, a in found.items() if a is not None}


# --- wholesale documents ------------------------------------------------------------------------

def new_order(order: NamedNode, hub: NamedNode, producer: NamedNode, session: NamedNode,
              customer_order: NamedNode | None) -> list[Triple]:
    """A new consolidated wholesale order, Held, with no lines yet."""
    doc = [Triple(order, RDF_TYPE, T.Order), Triple(order, T.orderedBy, hub),
           Triple(order, T.soldBy, producer), Triple(order, T.belongsTo, session),
           Triple(order, T.consolidated, TRUE)]
    if customer_order is not None:
        doc.append(Triple(order, T.forCustomerOrder, customer_order))
    return orders.set_status(doc, order, T.Held)


class OrderEdit:
    """A wholesale order being changed by one checkout: its lines found by offer, new ones appended.

    One checkout may bring thousands of lines; finding each line by a scan of the order made
    that quadratic (issue 9), so the lines are indexed once.
    """

    def __init__(self, order: NamedNode, doc: list[Triple]):
        self.order, self.doc = order, list(doc)
        self.partner = forwarded.partner_of(doc, order)     # where the order is forwarded; None: placed here
        self._by_offer: dict = {}
        for line in orders.lines(doc, order):
            self._by_offer.setdefault(line.offer, line.iri)

    def line_for(self, target: Target) -> NamedNode:
        """The order's line for a target's offer, added empty if it has none yet."""
        source = target.source
        found = self._by_offer.get(source.offer)
        if found is not None:
            return found
        line = NamedNode(f"{self.order.value}/order_lines/{secrets.token_hex(4)}")
        qv = BlankNode()
        self.doc += [Triple(self.order, T.hasPart, line), Triple(line, RDF_TYPE, T.OrderLine),
                     Triple(line, T.concerns, source.offer),
                     Triple(line, T.packSize, as_term(target.pack)),
                     Triple(line, T.wholePacks, TRUE if target.whole_packs else FALSE),
                     Triple(line, T.quantity, as_term(Decimal(0))), Triple(line, T.hasQuantity, qv),
                     Triple(qv, RDF_TYPE, T.QuantitativeValue), Triple(qv, T.value, as_term(Decimal(0))),
                     *_price(line, source)]
        if source.item is not None:     # none for a partner's product: the partner keeps its ledger
            self.doc.append(Triple(line, T.stockItem, source.item))
        if source.product is not None:
            self.doc.append(Triple(line, T.product, source.product))
        self._by_offer[source.offer] = line
        return line


def _price(line, source: Source | None) -> list[Triple]:
    """A line's price node, copied from the offer it concerns (none if the offer has no price)."""
    if source is None or source.price is None:
        return []
    price = BlankNode()
    out = [Triple(line, T.hasPrice, price), Triple(price, RDF_TYPE, T.Price),
           Triple(price, T.value, as_term(source.price))]
    if source.currency is not None:
        out.append(Triple(price, T.hasUnit, source.currency))
    return out


def add_all(doc, order, deltas: dict[NamedNode, Decimal]) -> list[Triple]:
    """The wholesale order with each line's total moved by its delta; a line left at nothing goes.

    One pass over the order whatever the number of lines changed.
    """
    index = Indexed(doc)
    present = {line.iri: line for line in orders.lines(doc, order)}
    dropped, strip, added = set(), set(), []
    for line, delta in deltas.items():
        found = present.get(line)
        if found is None:
            continue        # the hub removed that line from its wholesale order itself
        ordered = number(index.first(line, T.ordered))
        ordered = (found.quantity if ordered is None else ordered) + delta
        if ordered <= 0:
            dropped.add(line)
            continue
        pack = number(index.first(line, T.packSize)) or ONE
        quantity = ordered / pack
        if index.first(line, T.wholePacks) == TRUE:
            quantity = Decimal(math.ceil(quantity))
        surplus = quantity * pack - ordered
        quantity = tidy(quantity)
        # hasQuantity is what every reader here reads; the literal beside it is for the DFC
        # connector (order_documents.quantities_as_values).
        strip |= {(line, T.ordered), (line, T.surplus), (line, T.quantity)}
        added += [Triple(line, T.ordered, decimal_literal(ordered)), Triple(line, T.quantity, as_term(quantity))]
        if surplus > 0:
            added.append(Triple(line, T.surplus, decimal_literal(surplus)))
        qv = index.first(line, T.hasQuantity)
        if qv is None:
            qv = BlankNode()
            added += [Triple(line, T.hasQuantity, qv), Triple(qv, RDF_TYPE, T.QuantitativeValue)]
        strip.add((qv, T.value))
        added.append(Triple(qv, T.value, as_term(quantity)))
    gone = {t.subject for t in index.subtree(*dropped)}
    kept = [t for t in doc if t.subject not in gone and (t.subject, t.predicate) not in strip
            and not (t.subject == order and t.object in dropped)]
    return kept + added


def stamp(line: NamedNode, target: Target, wholesale_line: NamedNode | None,
          contribution: Decimal | None, priced: bool) -> list[Triple]:
    """What the server notes on a customer line: where it goes upstream, and how much it adds.

    A line the customer sent without a price (`priced` False) gets the price of the offer sold.
    """
    out = [Triple(line, T.supplier, target.producer)]
    if not priced:
        out += _price(line, target.sold)
    if target.product is not None:
        out.append(Triple(line, T.product, target.product))
    if target.unit_weight is not None:
        out.append(Triple(line, T.unitWeight, decimal_literal(target.unit_weight)))
    if wholesale_line is not None:
        out += [Triple(line, T.wholesaleLine, wholesale_line),
                Triple(line, T.contribution, decimal_literal(contribution))]
    return out


def _violation(offer, message) -> dict:
    return violation(offer, T.concerns, offer, message)
