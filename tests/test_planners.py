"""The order planners are pure: documents in, the change out (no store anywhere in these tests)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyoxigraph import NamedNode, Triple

from app.domain import stock, order_documents as orders
from app.orders import wholesale
from app.catalog.links import Source
from app.errors import SessionNotOpen, Shortage
from app.namespaces import RDF_TYPE, T
from app.rdf.terms import datetime_literal, decimal_literal

EX = "http://plan.example/api/dfc/enterprises/farm"
ORDER, LINE = NamedNode(f"{EX}/orders/1"), NamedNode(f"{EX}/orders/1/order_lines/1")
OFFER, ITEM = NamedNode(f"{EX}/offers/1"), NamedNode(f"{EX}/catalog_items/1")
SESSION = NamedNode("http://plan.example/api/dfc/enterprises/hub/sale_sessions/1")
NOW = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)


def _order(quantity: int) -> list[Triple]:
    doc = [Triple(ORDER, RDF_TYPE, T.Order), Triple(ORDER, T.belongsTo, SESSION), Triple(ORDER, T.hasPart, LINE),
           Triple(LINE, RDF_TYPE, T.OrderLine), Triple(LINE, T.concerns, OFFER),
           Triple(LINE, T.quantity, decimal_literal(quantity))]
    return orders.set_status(doc, ORDER, T.Held)


def _item(on_hand: int, held: int = 0) -> list[Triple]:
    return stock.write([Triple(ITEM, RDF_TYPE, T.CatalogItem)], ITEM, stock.Ledger(Decimal(on_hand), Decimal(held)))


SESSION_DOC = [Triple(SESSION, RDF_TYPE, T.SaleSession), Triple(SESSION, T.startDate, datetime_literal(NOW - dt.timedelta(days=1)))]


def test_a_wholesale_plan_stamps_the_item_and_says_what_it_holds():
    change = wholesale.plan(ORDER, None, _order(3), {OFFER: Source(OFFER, ITEM)}, SESSION_DOC, NOW)
    assert Triple(LINE, T.stockItem, ITEM) in change.documents[ORDER]
    assert change.usage == {ITEM: (Decimal(3), Decimal(0))}
    assert change.wanted == {ITEM: [(OFFER, Decimal(3))]}


def test_a_wholesale_plan_refuses_a_session_not_open_yet():
    later = [Triple(SESSION, RDF_TYPE, T.SaleSession), Triple(SESSION, T.startDate, datetime_literal(NOW + dt.timedelta(days=1)))]
    with pytest.raises(SessionNotOpen):
        wholesale.plan(ORDER, None, _order(3), {OFFER: Source(OFFER, ITEM)}, later, NOW)


def test_ledger_moves_are_planned_from_the_items_documents():
    moved = stock.plan_moves({ITEM: _item(10, held=4)}, {ITEM: (Decimal(3), Decimal(0))}, {})
    ledger = stock.read(moved[ITEM], ITEM)
    assert (ledger.on_hand, ledger.held, ledger.available) == (10, 7, 3)
    with pytest.raises(Shortage) as refused:
        stock.plan_moves({ITEM: _item(10, held=8)}, {ITEM: (Decimal(3), Decimal(0))}, {ITEM: [(OFFER, Decimal(3))]})
    assert refused.value.extra["shortages"] == [{"offer": OFFER.value, "stockItem": ITEM.value,
                                                 "requested": "3", "available": "2"}]
