"""Orders written before the supplier lifecycle: `serve` gives them the status they stand for."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyoxigraph import NamedNode, Triple

from app.domain import lifecycle, stock, order_documents as orders
from app.domain.agents import Agent
from app.domain.clock import ManualClock
from app.domain.documents import Namespace
from app.orders.book import OrderBook
from app.namespaces import DFC_V, RDF_TYPE, TRUE, T, hub
from app.rdf.terms import decimal_literal
from app.rdf.triples import first
from app.store import open_store

BASE = "http://old.example"
HUB = NamedNode(f"{BASE}/api/dfc/enterprises/hub")
FARM = Namespace(BASE, "farm")
ITEM = NamedNode(f"{FARM.iri}/catalog_items/1")


def _order(name, status, customer=False, fulfilment=None):
    order = NamedNode(f"{FARM.iri}/orders/{name}")
    line = NamedNode(f"{order.value}/order_lines/1")
    doc = [Triple(order, RDF_TYPE, T.Order), Triple(order, T.orderedBy, HUB), Triple(order, T.hasOrderStatus, status),
           Triple(order, T.hasPart, line), Triple(line, RDF_TYPE, T.OrderLine), Triple(line, T.stockItem, ITEM),
           Triple(line, T.concerns, NamedNode(f"{FARM.iri}/offers/1")), Triple(line, T.quantity, decimal_literal(Decimal(2)))]
    if customer:
        doc.append(Triple(order, T.customerOrder, TRUE))
    if fulfilment:
        doc.append(Triple(order, T.hasFulfilmentStatus, fulfilment))
    return order, doc


@pytest.fixture
def book():
    store = open_store("memory:")
    made = dict([_order("held", T.Held), _order("complete", T.Complete),
                 _order("fulfilled", T.Complete, fulfilment=NamedNode(DFC_V + "Fulfilled")),
                 _order("cancelled", T.Cancelled), _order("customer", T.Held, customer=True)])
    with store.transaction() as tx:
        tx.create(ITEM, stock.write([Triple(ITEM, RDF_TYPE, T.CatalogItem)], ITEM,
                                    stock.Ledger(Decimal(20), Decimal(2), Decimal(4))))
        for name, doc in made.items():
            tx.create(name, doc)
    yield OrderBook(store, BASE, ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
    store.close()


def test_old_orders_get_the_status_their_dfc_status_stands_for_once(book):
    book.give_statuses()
    book.give_statuses()        # a no-op the second time: one status each
    got = {}
    for name in ("held", "complete", "fulfilled", "cancelled", "customer"):
        order = NamedNode(f"{FARM.iri}/orders/{name}")
        doc = book.store.graph(order)
        statuses = [t.object for t in doc if t.predicate == T.status]
        got[name] = statuses[0].value.rsplit("#", 1)[1] if statuses else None
        if statuses:
            assert lifecycle.status_of(doc, order) == statuses[0] and len(statuses) == 1
    assert got == {"held": "draft", "complete": "placed", "fulfilled": "placed", "cancelled": "canceled_by_consumer",
                   "customer": None}


def test_an_old_complete_order_goes_on_through_the_lifecycle_with_its_stock(book):
    book.give_statuses()
    order = NamedNode(f"{FARM.iri}/orders/fulfilled")
    jean = Agent(FARM.iri)
    book.transition(FARM, order, jean, hub("canceled_by_supplier"), "an old order")
    ledger = stock.read(book.store.graph(ITEM), ITEM)
    assert (ledger.on_hand, ledger.held, ledger.committed) == (20, 2, 2)     # its 2 released
    assert first(book.store.graph(order), order, T.hasOrderStatus) == T.Cancelled
    assert orders.usage(book.store.graph(order), order) == {}
