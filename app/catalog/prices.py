"""The best price of an order line, planned: what a consumer may pay a supplier, and freezing it.

A line's catalogue price is the lowest the consumer can get for its item at one moment among
the supplier's offers of that item open to everybody (no customer category), its offers to
customer categories the consumer is a member of (`hub:member` on the supplier's category),
and the contracts between the two valid then (dates inclusive, a price per catalogue item).
Only the supplier's own offers, categories and contracts count: an IRI in its catalogue that
names someone else's document decides nothing. Prices in another currency than the line's
own offer's are not compared with it.

`quotes` reads (SELECTs through any reader: the store or a transaction); `freeze` and
`confirm` are pure edits of an order document. A frozen line keeps its price whatever the
catalogue does later, and a client's PUT of the order keeps it (`keep`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from pyoxigraph import BlankNode, NamedNode, Triple

from app import queries
from app.rdf import vocabulary
from app.domain import documents as docs
from app.domain import order_documents as orders
from app.catalog.links import offer_sources
from app.domain.sessions import instant
from app.errors import ShapeViolation, violation
from app.namespaces import RDF_TYPE, T, hub
from app.queries import as_term
from app.rdf.triples import Indexed, number, without

catalogPrice, priceSource, confirmedPrice, underContract = (
    hub(n) for n in ("catalogPrice", "priceSource", "confirmedPrice", "underContract"))
# Terms the server writes on a line that a client's PUT of the order keeps (hub:keptOnPut on a
# term whose domain is dfc-b:OrderLine in ontology/hub.ttl): the frozen and confirmed prices.
KEPT_ON_LINES = frozenset(t for t in vocabulary.OURS.kept_on_put()
                          if vocabulary.OURS.domain_of(t) == T.OrderLine.value)
# Where a price comes from, best first when two are equal: what was negotiated wins a tie.
CONTRACT, CATEGORY, PUBLIC = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class Quote:
    """The best price of a line: the amount per unit, its currency, the offer or contract it is from."""
    price: Decimal
    unit: NamedNode | None
    source: NamedNode


@dataclasses.dataclass(frozen=True)
class _Candidate:
    price: Decimal
    unit: NamedNode | None
    source: NamedNode
    rank: int

    def key(self):
        return self.price, self.rank, self.source.value


def quotes(reader, supplier: docs.Namespace, consumer: NamedNode, lines: list[orders.Line],
           now: dt.datetime) -> dict[NamedNode, Quote | None]:
    """The best price of each line for `consumer` buying from `supplier` at `now` (None: no price)."""
    return _quoted(reader, supplier, consumer, lines, now)[0]


def _quoted(reader, supplier: docs.Namespace, consumer: NamedNode, lines: list[orders.Line], now: dt.datetime):
    """`quotes`, with what it read of the offers (by offer) and the categories the consumer is in."""
    if not lines:
        return {}, {}, set()
    offers = list(dict.fromkeys(line.offer for line in lines if line.offer is not None))
    # A line reserved already names its item; only the others are resolved from their offer.
    unresolved = list(dict.fromkeys(line.offer for line in lines if line.offer is not None and not line.stock_item))
    found = offer_sources(reader, unresolved, supplier.base_url) if unresolved else {}
    items = {line.iri: line.stock_item or (found[line.offer].item if found.get(line.offer) else None)
             for line in lines}
    own_items = [i for i in dict.fromkeys(items.values()) if i is not None and supplier.owns(i.value)]
    by_offer = _offers(reader, supplier, own_items, offers)
    members = _memberships(reader, supplier, consumer, by_offer)
    contracts = _contracts(reader, supplier, consumer, own_items, now)
    selling = defaultdict(list)         # item → the offers selling it (each line looks up its own)
    for offer, about in by_offer.items():
        for sold in about["items"]:
            selling[sold].append(offer)
    out: dict[NamedNode, Quote | None] = {}
    for line in lines:
        item = items[line.iri]
        offers_here = dict.fromkeys([*(selling[item] if item is not None else []), line.offer])
        candidates = [*_open_offers(offers_here, by_offer, members), *(contracts.get(item, []) if item else [])]
        own = by_offer.get(line.offer)
        currency = own["currency"] if own else None
        candidates = [c for c in candidates if currency is None or c.unit is None or c.unit == currency]
        best = min(candidates, key=_Candidate.key, default=None)
        out[line.iri] = Quote(best.price, best.unit or currency, best.source) if best else None
    return out, by_offer, members


def refuse_closed(reader, supplier: docs.Namespace, buyer, lines: list[orders.Line], sources: dict,
                  had: list[orders.Line], now: dt.datetime) -> None:
    """422 for a line ordered through an offer open to customer categories the buyer is not in,
    when nothing else sells its item to the buyer: no other offer, no contract. A line the order
    had already is judged only where it grows: a buyer can still shrink or cancel it.

    `sources` are the lines' offers as the order book resolved them (links.Source): only those it
    found restricted are judged, with the items it found, so an order through open offers reads
    nothing more."""
    before = defaultdict(Decimal)
    for line in had:
        before[line.offer] += line.quantity
    asked = [dataclasses.replace(line, offer=sources[line.offer].offer, stock_item=sources[line.offer].item)
             for line in lines if sources[line.offer].restricted and line.quantity > before[line.offer]]
    if not asked:
        return
    quoted, by_offer, members = _quoted(reader, supplier, buyer, asked, now) if isinstance(buyer, NamedNode) \
        else ({}, {}, set())
    shut = [line for line in asked if quoted.get(line.iri) is None
            and not (by_offer.get(line.offer) or {}).get("categories", set()) & members]
    if shut:
        raise ShapeViolation(f"{len(shut)} order line(s) concern offers open to customer categories the buyer "
                             "is not a member of", violations=[violation(
                                 line.offer, T.concerns, line.offer, f"{line.offer.value} is open to the members "
                                 "of its customer categories only, and nothing else sells its item to the buyer")
                                 for line in shut])


def _open_offers(offers, by_offer: dict, members: set) -> list[_Candidate]:
    """The priced offers among `offers` open to the consumer: to everybody, or to a category it is in."""
    out = []
    for offer in offers:
        about = by_offer.get(offer)
        if about is None or about["price"] is None or about["price"] < 0:
            continue
        if about["categories"] and not about["categories"] & members:
            continue
        out.append(_Candidate(about["price"], about["currency"], offer, CATEGORY if about["categories"] else PUBLIC))
    return out


def _offers(reader, supplier: docs.Namespace, items: list, offers: list) -> dict[NamedNode, dict]:
    """The supplier's offers of the items, and the lines' own: price, currency, items sold, categories."""
    sold = reader.select(queries.load("item_offers"), {"items": items}) if items else []
    selling = defaultdict(set)
    for row in sold:
        selling[row["offer"]].add(row["item"])
    asked = [o for o in dict.fromkeys([*selling, *offers]) if supplier.owns(o.value)]
    rows = reader.select(queries.load("offer_prices"), {"offers": asked}) if asked else []
    out: dict[NamedNode, dict] = {}
    for row in rows:
        offer = row["offer"]
        about = out.setdefault(offer, {"price": None, "currency": None, "items": selling[offer], "categories": set()})
        price = number(row.get("price"))
        if price is not None and (about["price"] is None or price < about["price"]):
            about["price"], about["currency"] = price, row.get("currency")
        about["categories"].update(c for c in (row.get("category"), row.get("offeredTo")) if c is not None)
    return out


def _memberships(reader, supplier, consumer, by_offer) -> set:
    """The customer categories of the supplier's (its own documents only) the consumer is in."""
    categories = [c for c in dict.fromkeys(c for about in by_offer.values() for c in about["categories"])
                  if isinstance(c, NamedNode) and supplier.owns(c.value)]
    if not categories:
        return set()
    rows = reader.select(queries.load("category_members"), {"categories": categories, "consumer": consumer})
    return {r["category"] for r in rows}


def _contracts(reader, supplier, consumer, items, now) -> dict[NamedNode, list[_Candidate]]:
    """Each item's prices under the contracts between the two that are valid at `now`."""
    if not items:
        return {}
    rows = reader.select(queries.load("contract_prices"), {"consumer": consumer, **supplier.bindings()})
    out = defaultdict(list)
    wanted = set(items)
    for row in rows:
        if row["item"] not in wanted:
            continue
        start, end = instant(row["start"]), instant(row["end"], end=True)
        price = number(row["price"])
        if start is None or end is None or price is None or price < 0 or not start <= now < end:
            continue
        out[row["item"]].append(_Candidate(price, row.get("currency"), row["contract"], CONTRACT))
    return out


# --- writing prices on an order document (pure) ---------------------------------------------

def freeze(doc: list[Triple], order: NamedNode, quotes: dict[NamedNode, Quote | None]) -> list[Triple]:
    """The order with each line's catalogue price and its source; a line priced already keeps its own."""
    index = Indexed(doc)
    out = list(doc)
    for line in orders.lines(doc, order):
        quote = quotes.get(line.iri)
        if quote is None or index.first(line.iri, catalogPrice) is not None:
            continue
        out += _price(line.iri, catalogPrice, quote.price, quote.unit)
        out.append(Triple(line.iri, priceSource, quote.source))
    return out


def confirm(doc: list[Triple], order: NamedNode, prices: dict[NamedNode, Decimal]) -> list[Triple]:
    """The order with the supplier's confirmed price on the lines named (422 for another line or a negative price)."""
    index = Indexed(doc)
    lines = {line.iri for line in orders.lines(doc, order)}
    problems = [violation(line, confirmedPrice, str(price), "a confirmed price is a number >= 0 "
                          "for a line of this order") for line, price in prices.items()
                if line not in lines or not isinstance(price, Decimal) or not price.is_finite() or price < 0]
    if problems:
        raise ShapeViolation(f"{len(problems)} confirmed price(s) refused", violations=problems)
    out = list(doc)
    for line, price in prices.items():
        out = _without(out, line, confirmedPrice)
        catalogue = index.first(line, catalogPrice)
        out += _price(line, confirmedPrice, price, index.first(catalogue, T.hasUnit) if catalogue else None)
    return out


def unpriced(doc: list[Triple], order: NamedNode) -> list[orders.Line]:
    """The lines of an order that have no catalogue price yet (freezing them needs a read)."""
    index = Indexed(doc)
    return [line for line in orders.lines(doc, order) if index.first(line.iri, catalogPrice) is None]


def frozen(reader, supplier: docs.Namespace, order: NamedNode, doc: list[Triple], now: dt.datetime) -> list[Triple]:
    """The order with its unpriced lines priced for its buyer at `now` (unchanged when all are priced)."""
    todo = unpriced(doc, order)
    consumer = orders.buyer(doc, order)
    if not todo or not isinstance(consumer, NamedNode):
        return doc
    return freeze(doc, order, quotes(reader, supplier, consumer, todo, now))


# The status at which a wholesale order's lines are priced for good: Complete until the supplier
# lifecycle's `placed` (issue 12) takes its place.
FREEZE_AT = T.Complete


def on_save(reader, supplier: docs.Namespace, order: NamedNode, current: list[Triple] | None,
            new: list[Triple], now: dt.datetime, confirmed: dict[NamedNode, Decimal] | None = None
            ) -> list[Triple]:
    """A wholesale order as written: line prices kept through a PUT, frozen when it is placed.

    Line prices in `new` are the client's and are dropped: the server's own come from `current`,
    or from `confirmed` (line → the supplier's confirmed price), applied after.
    """
    new = keep(current, new, order)
    if confirmed:
        new = confirm(new, order, confirmed)
    check_contract(reader, supplier, order, new, current)
    if orders.status(new, order) == FREEZE_AT:
        new = frozen(reader, supplier, order, new, now)
    return new


def check_contract(reader, supplier: docs.Namespace, order: NamedNode, doc: list[Triple],
                   current: list[Triple] | None = None) -> None:
    """Refuse (422) an order naming a contract (hub:underContract) that is not the seller's with its buyer.

    A contract the order named already is not judged again: the supplier may delete it since, and
    the order must still be placed, moved or cancelled by a PUT."""
    index = Indexed(doc)
    named, buyer = index.objects(order, underContract), index.first(order, T.orderedBy)
    before = set(Indexed(current).objects(order, underContract)) if current else set()
    problems = []
    for contract in (c for c in named if c not in before):
        held = reader.graph(contract) if isinstance(contract, NamedNode) and supplier.owns(contract.value) else []
        ours = Triple(contract, RDF_TYPE, hub("Contract")) in held and Triple(contract, hub("consumer"), buyer) in held
        if not ours:
            problems.append(violation(order, underContract, contract, f"{contract.value} is not a contract of "
                                      f"{supplier.eid}'s with this order's buyer"))
    if len(named) > 1:
        problems.append(violation(order, underContract, None, "an order is placed under one contract at most"))
    if problems:
        raise ShapeViolation(f"{len(problems)} problem(s) with the contract the order names", violations=problems)


def keep(current: list[Triple] | None, new: list[Triple], order: NamedNode) -> list[Triple]:
    """The new document with the prices the server wrote on lines kept from the current one.

    A line keeps them while it concerns the same offer; what a client sent of them is dropped
    (and the price nodes it described with them).
    """
    ours = KEPT_ON_LINES
    # What a client sent of them (from_payload drops the terms themselves) leaves its price
    # nodes pointed at by nothing: they go too.
    new = _reachable([t for t in new if t.predicate not in ours], order)
    if not current:
        return new
    before = {line.iri: line for line in orders.lines(current, order)}
    held = Indexed(current)
    kept = []
    for line in orders.lines(new, order):
        old = before.get(line.iri)
        if old is None or old.offer != line.offer:
            continue
        for t in held.about(line.iri):
            if t.predicate in ours:
                kept += [t, *(held.subtree(t.object) if isinstance(t.object, BlankNode) else [])]
    return [*new, *kept]


def _price(line: NamedNode, term: NamedNode, value: Decimal, unit: NamedNode | None) -> list[Triple]:
    node = BlankNode()
    out = [Triple(line, term, node), Triple(node, RDF_TYPE, T.Price), Triple(node, T.value, as_term(value))]
    if unit is not None:
        out.append(Triple(node, T.hasUnit, unit))
    return out


def _without(doc: list[Triple], line: NamedNode, term: NamedNode) -> list[Triple]:
    """`doc` minus a line's `term` and the price node it pointed at."""
    return without(doc, line, {term})


def _reachable(doc: list[Triple], order: NamedNode) -> list[Triple]:
    """The triples of `doc` about the order, its named nodes, and blank nodes something still points at."""
    index = Indexed(doc)
    named = [s for s in dict.fromkeys(t.subject for t in doc) if not isinstance(s, BlankNode)]
    return index.subtree(order, *[s for s in named if s != order])
