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
from app.domain import orders, units
from app.domain.catalog_links import Source, product_sources
from app.domain.hub_settings import HubSettings
from app.errors import ShapeViolation, violation
from app.namespaces import FALSE, RDF_TYPE, TRUE, T
from app.queries import as_term
from app.rdf.normalise import decimal_literal
from app.rdf.triples import first, number, tidy, without
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


def targets(store: Store, ns: docs.Namespace, found: dict[NamedNode, Source], settings: HubSettings,
            base_url: str) -> dict[NamedNode, Target]:
    """The upstream target of each offer a hub's customer lines concern; 422 where there is none."""
    retail = {o: s.product for o, s in found.items()}
    bulk = _bulk_products(store, [p for p in retail.values() if p]) if settings.by_weight else {}
    upstream = product_sources(store, list({bulk.get(p, p) for p in retail.values() if p}), base_url)
    amounts = _amounts(store, list({*retail.values(), *bulk.values()} - {None}))
    out = {}
    for offer, source in found.items():
        product = retail[offer]
        direct = not ns.owns(source.item.value) if source.item is not None else False
        wholesale = bulk.get(product, product)
        target_source = source if direct and wholesale == product else upstream.get(wholesale)
        if target_source is None or target_source.item is None or target_source.offer is None \
                or ns.owns(target_source.item.value):
            raise ShapeViolation("a customer line must lead to a producer's catalogue item and offer",
                                 violations=[_violation(offer, f"{offer.value} leads to no producer's catalogue "
                                                        "item with an offer (a CatalogItem referencing a "
                                                        "producer's SuppliedProduct)")])
        producer = NamedNode(docs.Namespace(base_url, docs.enterprise_of(target_source.item.value, base_url)).iri)
        weight = amounts.get(product)
        unit_weight = weight.value if weight is not None and weight.kind == units.MASS else None
        if not settings.by_weight:
            out[offer] = Target(producer, target_source, product, unit_weight=unit_weight, sold=source)
            continue
        whole = amounts.get(wholesale)
        if weight is None or whole is None:
            missing = product if weight is None else wholesale
            raise ShapeViolation("cannot aggregate by weight without a mass or volume", violations=[_violation(
                offer, f"{missing.value if missing else offer.value} has no dfc-b:hasQuantity in a mass or "
                       "volume unit this server converts (ontology/units.ttl)")])
        units.ratio(weight, whole, offer.value)          # 422 when they do not convert
        out[offer] = Target(producer, target_source, product, weight.value, whole.value,
                            _quantity_of(store, wholesale) != ONE, unit_weight, source)
    return out


def _bulk_products(store: Store, products: list[NamedNode]) -> dict[NamedNode, NamedNode]:
    rows = store.select(queries.load("bulk_products"), {"products": products}) if products else []
    out: dict[NamedNode, NamedNode] = {}
    for row in rows:
        out.setdefault(row["retail"], row["bulk"])
    return out


def _amounts(store: Store, products: list[NamedNode]) -> dict[NamedNode, units.Amount]:
    rows = store.select(queries.load("product_quantities"), {"products": products}) if products else []
    out = {}
    for row in rows:
        value = number(row["value"])
        found = units.amount(value, row["unit"]) if value is not None else None
        if found is not None:
            out.setdefault(row["product"], found)
    return out


def _quantity_of(store: Store, product: NamedNode) -> Decimal | None:
    rows = store.select(queries.load("product_quantities"), {"products": [product]})
    return number(rows[0]["value"]) if rows else None


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


def line_for(doc, order, target: Target) -> tuple[NamedNode, list[Triple]]:
    """The wholesale order's line for a target's offer, added empty if it has none yet."""
    for line in orders.lines(doc, order):
        if line.offer == target.source.offer:
            return line.iri, doc
    line = NamedNode(f"{order.value}/order_lines/{secrets.token_hex(4)}")
    source = target.source
    doc = [*doc, Triple(order, T.hasPart, line), Triple(line, RDF_TYPE, T.OrderLine),
           Triple(line, T.concerns, source.offer), Triple(line, T.stockItem, source.item),
           Triple(line, T.packSize, as_term(target.pack)),
           Triple(line, T.wholePacks, TRUE if target.whole_packs else FALSE)]
    if source.product is not None:
        doc.append(Triple(line, T.product, source.product))
    return line, orders.set_quantity(doc + _price(line, source), line, Decimal(0))


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


def add(doc, order, line, delta: Decimal) -> list[Triple]:
    """The wholesale order with `delta` added to a line's total; a line left at nothing goes."""
    found = next((x for x in orders.lines(doc, order) if x.iri == line), None)
    if found is None:
        return doc      # the hub removed that line from its wholesale order itself
    ordered = number(first(doc, line, T.ordered))
    ordered = (found.quantity if ordered is None else ordered) + delta
    if ordered <= 0:
        return orders.drop_line(doc, order, line)
    pack = number(first(doc, line, T.packSize)) or ONE
    quantity = ordered / pack
    if first(doc, line, T.wholePacks) == TRUE:
        quantity = Decimal(math.ceil(quantity))
    surplus = quantity * pack - ordered
    doc = without(doc, line, {T.ordered, T.surplus})
    doc += [Triple(line, T.ordered, decimal_literal(ordered))]
    if surplus > 0:
        doc.append(Triple(line, T.surplus, decimal_literal(surplus)))
    return orders.set_quantity(doc, line, tidy(quantity))


def stamp(doc, line: NamedNode, target: Target, wholesale_line: NamedNode | None,
          contribution: Decimal | None) -> list[Triple]:
    """What the server notes on a customer line: where it goes upstream, and how much it adds."""
    out = [Triple(line, T.supplier, target.producer)]
    if first(doc, line, T.hasPrice) is None:
        out += _price(line, target.sold)
    if target.product is not None:
        out.append(Triple(line, T.product, target.product))
    if target.unit_weight is not None:
        out.append(Triple(line, T.unitWeight, decimal_literal(target.unit_weight)))
    if wholesale_line is not None:
        out += [Triple(line, T.wholesaleLine, wholesale_line),
                Triple(line, T.contribution, decimal_literal(contribution))]
    return [*doc, *out]


def _violation(offer, message) -> dict:
    return violation(offer, T.concerns, offer, message)
