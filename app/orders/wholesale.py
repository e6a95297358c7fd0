"""Planning a wholesale order's change: pure functions, the current documents in, the change out.

A wholesale order reserves from the items its own lines name (a customer order's change is
planned in app/orders/checkouts.py). The order book (app/orders/book.py) reads what
a plan needs inside its unit of work, calls the planner, then has the ledgers' moves planned
(`stock.plan_moves`) and writes the result.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from pyoxigraph import NamedNode, Triple

from app.domain import sessions, order_documents as orders
from app.errors import ShapeViolation, violation
from app.namespaces import RDF_TYPE, T
from app.rdf.triples import Indexed, number

ZERO = Decimal(0)


@dataclasses.dataclass
class Change:
    """What a planned order change writes, before the ledgers it moves are read."""
    documents: dict[NamedNode, list[Triple]]           # orders to write (items' ledgers come later)
    usage: orders.Usage                                 # what it moves in each item's ledger
    wanted: dict = dataclasses.field(default_factory=dict)     # item → [(offer, quantity)], for 409s
    created: set = dataclasses.field(default_factory=set)      # freshly minted documents


def plan(iri: NamedNode, current: list[Triple] | None, new: list[Triple] | None, sources: dict,
         session_doc: list[Triple], now: dt.datetime) -> Change:
    """A wholesale order's change: lines stamped with their items, discounts and session checked."""
    if new is not None:
        new = stamp_items(new, iri, current, sources)
        check_discounts(new, iri, sources)
    delta = orders.usage_minus(orders.usage(new, iri), orders.usage(current, iri))
    if new is not None:
        check_session(new, iri, delta, session_doc, now, changed=current is None or
                      orders.status(current, iri) != orders.status(new, iri))
    wanted = lines_by_item(new, iri) if new is not None else {}
    return Change({iri: new} if new is not None else {}, delta, wanted)


def check_session(new, iri, delta: orders.Usage, doc, now: dt.datetime, changed: bool) -> None:
    """A wholesale order reserves or commits only in a session that is open (409).

    Every status that counts in the ledger (Held, Complete) is checked, whenever what the
    order counts changes: a closed session takes nothing more, one not yet open nothing yet.
    A session this server does not hold (a buyer's own, elsewhere) is the buyer's business.
    """
    s = orders.session(new, iri)
    if orders.status(new, iri) not in orders.RESERVES or not isinstance(s, NamedNode):
        return
    if not changed and not any(h or c for h, c in delta.values()):
        return
    if Triple(s, RDF_TYPE, T.SaleSession) in doc:
        growing = changed or any(h > 0 or c > 0 for h, c in delta.values())
        sessions.check_reserving(doc, s, now, growing)


def stamp_items(new, iri, current, sources) -> list[Triple]:
    """Fix each line's stock item: kept from when it was first reserved, else resolved now."""
    before = {line.iri: line for line in orders.lines(current, iri)} if current else {}
    out = list(new)
    for line in orders.lines(new, iri):
        old = before.get(line.iri)
        # A line keeps the item it reserved from, unless it now concerns another offer.
        item = old.stock_item if old is not None and old.offer == line.offer and old.stock_item \
            else sources[line.offer].item
        if item is not None:
            out.append(Triple(line.iri, T.stockItem, item))
    return out


def check_discounts(doc, iri, sources) -> None:
    """A discount is a number ≥ 0 (the shapes check that) not above what it discounts."""
    problems, total, priced = [], ZERO, True
    index = Indexed(doc)
    for line in orders.lines(doc, iri):
        node = index.first(line.iri, T.hasPrice)
        price = number(index.first(node, T.value)) if node is not None else None
        source = sources.get(line.offer)
        if price is None and source is not None:
            price = source.price
        if price is None:
            priced = False
            continue
        value = price * line.quantity
        discount = number(index.first(line.iri, T.discount)) or ZERO
        if discount > value:
            problems.append(_discount(line.iri, discount, f"the line discount {discount} exceeds "
                                      f"the line's value {value} ({line.quantity} × {price})"))
        total += value - discount
    discount = number(index.first(iri, T.discount))
    if discount is not None and priced and discount > total:
        problems.append(_discount(iri, discount, f"the order discount {discount} exceeds the "
                                  f"order's value {total}"))
    if problems:
        raise ShapeViolation(f"{len(problems)} discount(s) exceed what they discount", violations=problems)


def lines_by_item(doc, iri) -> dict[NamedNode, list]:
    """Each stock item's (offer, quantity) lines: what a shortage reports."""
    out = defaultdict(list)
    for line in orders.lines(doc, iri):
        if line.stock_item is not None:
            out[line.stock_item].append((line.offer, line.quantity))
    return out


def _discount(node, value, message) -> dict:
    return violation(node, T.discount, str(value), message)
