"""The session close: which orders it places, the DFC statuses and ledgers it leaves, on both stores."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyoxigraph import BlankNode, NamedNode, Triple

from app.domain import stock, order_documents as orders
from app.domain.clock import ManualClock
from app.orders.book import OrderBook
from app.namespaces import DFC_V, RDF_TYPE, TRUE, T, hub
from app.rdf.terms import decimal_literal
from app.rdf.triples import first, number
from app.store import open_store
from support.oxigraph_server import running_oxigraph
from support.stores import selects_asked

BASE = "http://close.example"
HUB = NamedNode(f"{BASE}/api/dfc/enterprises/hub")
OTHER = NamedNode(f"{BASE}/api/dfc/enterprises/other")
FARM = f"{BASE}/api/dfc/enterprises/farm"
SESSION = NamedNode(f"{HUB.value}/sale_sessions/s1")
ITEM, UNLIMITED = NamedNode(f"{FARM}/catalog_items/1"), NamedNode(f"{FARM}/catalog_items/2")
NOW = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)
FULFILLED = NamedNode(DFC_V + "Fulfilled")


def _order(name: str, buyer, status, quantity, *, item=ITEM, given=True, fulfilment=None, customer=False):
    order = NamedNode(f"{FARM}/orders/{name}")
    line = NamedNode(f"{order.value}/order_lines/1")
    doc = [Triple(order, RDF_TYPE, T.Order), Triple(order, T.orderedBy, buyer),
           Triple(order, T.belongsTo, SESSION), Triple(order, T.hasPart, line),
           Triple(line, RDF_TYPE, T.OrderLine), Triple(line, T.stockItem, item)]
    if given:       # the quantity as a QuantitativeValue (what the rules read first)
        qv = BlankNode()
        doc += [Triple(line, T.hasQuantity, qv), Triple(qv, T.value, decimal_literal(quantity)),
                Triple(line, T.quantity, decimal_literal(quantity + 100))]
    else:
        doc.append(Triple(line, T.quantity, decimal_literal(quantity)))
    if customer:
        doc.append(Triple(order, T.customerOrder, TRUE))
    doc = orders.set_status(doc, order, status)
    if fulfilment is not None:
        doc = [t for t in doc if t.predicate != T.hasFulfilmentStatus] + [Triple(order, T.hasFulfilmentStatus, fulfilment)]
    return order, doc


@pytest.fixture(params=["memory", "sparql"])
def store(request, tmp_path):
    if request.param == "memory":
        s = open_store("memory:")
        yield s
    else:
        with running_oxigraph(tmp_path) as url:
            s = open_store(f"sparql:{url}")
            yield s
    s.close()


def _sample(store) -> dict:
    made = dict([
        _order("qv", HUB, T.Held, Decimal(2)),
        _order("plain", HUB, T.Held, Decimal("1.5"), given=False),
        _order("fulfilled", HUB, T.Held, Decimal(1), fulfilment=FULFILLED),
        _order("unlimited", HUB, T.Held, Decimal(4), item=UNLIMITED),
        _order("draft", HUB, T.Draft, Decimal(7)),
        _order("customer", HUB, T.Held, Decimal(9), customer=True),
        _order("elsewhere", OTHER, T.Held, Decimal(11)),
    ])
    with store.transaction() as tx:
        tx.create(SESSION, [Triple(SESSION, RDF_TYPE, T.SaleSession)])
        tx.create(ITEM, stock.write([Triple(ITEM, RDF_TYPE, T.CatalogItem)], ITEM,
                                    stock.Ledger(Decimal(100), Decimal("4.5") + 11)))
        tx.create(UNLIMITED, stock.write([Triple(UNLIMITED, RDF_TYPE, T.CatalogItem)], UNLIMITED,
                                         stock.Ledger(None, Decimal(4))))
        for name, doc in made.items():
            tx.create(name, doc)
    return made


@pytest.mark.parametrize("part", [100, 1], ids=["one update", "an update per order"])
def test_the_close_completes_the_hubs_held_orders_and_moves_their_stock_to_committed(store, part):
    made = _sample(store)
    book = OrderBook(store, BASE, ManualClock(NOW))
    book.close_part = part
    closed, completed = book.close_session(SESSION)
    assert closed and {o.value.rsplit("/", 1)[1] for o in completed} == {"qv", "plain", "fulfilled", "unlimited"}
    status = {o.value.rsplit("/", 1)[1]: (orders.status(store.graph(o), o), first(store.graph(o), o, T.hasFulfilmentStatus))
              for o in made}
    assert status == {"qv": (T.Complete, T.Unfulfilled), "plain": (T.Complete, T.Unfulfilled),
                      # The DFC statuses follow the lifecycle: placed is Complete/Unfulfilled, whatever
                      # fulfilment a client had put on the draft.
                      "fulfilled": (T.Complete, T.Unfulfilled), "unlimited": (T.Complete, T.Unfulfilled),
                      "draft": (T.Draft, None),
                      "customer": (T.Held, T.Held), "elsewhere": (T.Held, T.Held)}
    assert {first(store.graph(o), o, T.status) for o in completed} == {hub("placed")}
    ledger = stock.read(store.graph(ITEM), ITEM)
    assert (ledger.on_hand, ledger.held, ledger.committed) == (100, 11, Decimal("4.5"))
    assert number(first(store.graph(ITEM), ITEM, T.stockLimitation)) == Decimal("84.5")
    unlimited = stock.read(store.graph(UNLIMITED), UNLIMITED)
    assert (unlimited.on_hand, unlimited.held, unlimited.committed) == (None, 0, 4)
    assert first(store.graph(SESSION), SESSION, T.closedAt) is not None
    assert OrderBook(store, BASE, ManualClock(NOW)).close_session(SESSION) == (False, [])


def test_a_close_cut_short_between_its_parts_leaves_whole_orders_and_ledgers_and_its_next_run_ends_it(store):
    """A close writes its orders in parts; one that dies after the first leaves that part's
    orders placed, with the ledgers and events that go with them, and the session open: the
    next close places the rest and closes it."""
    from app.events import outbox as events

    _sample(store)
    book = OrderBook(store, BASE, ManualClock(NOW))
    book.close_part = 1
    written = store.commit_part

    def dies_after_the_first(tx):
        if dies_after_the_first.done:
            raise RuntimeError("the process died")
        written(tx)
        dies_after_the_first.done = True
    dies_after_the_first.done = False
    store.commit_part = dies_after_the_first
    with pytest.raises(RuntimeError):
        book.close_session(SESSION)
    store.commit_part = written

    placed = [o for o in store.select("SELECT DISTINCT ?o WHERE { GRAPH ?o { ?o <%s> <%s> } }" % (T.status.value, hub("placed").value))]
    assert len(placed) == 1                                  # one part written, whole
    assert first(store.graph(SESSION), SESSION, T.closedAt) is None
    ledger = stock.read(store.graph(ITEM), ITEM)
    # What the part placed moved from held to committed, and nothing else (an order of the
    # unlimited item moves that item's ledger instead).
    assert ledger.held + ledger.committed == Decimal("4.5") + 11 and ledger.on_hand == 100
    logged = events.log(store, [FARM], 0, events.TYPES, 100)
    assert [e.type for e in logged] == [events.ORDER_RECEIVED, events.ORDER_STATUS_CHANGED]
    assert logged[0].data["order"] == placed[0]["o"].value

    closed, completed = OrderBook(store, BASE, ManualClock(NOW)).close_session(SESSION)
    assert closed and len(completed) == 3
    ledger = stock.read(store.graph(ITEM), ITEM)
    assert (ledger.on_hand, ledger.held, ledger.committed) == (100, 11, Decimal("4.5"))
    unlimited = stock.read(store.graph(UNLIMITED), UNLIMITED)
    assert (unlimited.on_hand, unlimited.held, unlimited.committed) == (None, 0, 4)
    assert first(store.graph(SESSION), SESSION, T.closedAt) is not None
    types = [e.type for e in events.log(store, [FARM], 0, events.TYPES, 100)]
    assert types.count(events.ORDER_RECEIVED) == 4 and types.count(events.SESSION_CLOSED) == 1


def test_a_close_in_parts_keeps_the_order_books_memory_of_offers(tmp_path):
    """A close changes no offer, and each part it writes says so (`leaves_catalogue`, kept across
    `commit_part`), so the checkouts after a large close do not look the offers up again."""
    store = open_store(f"oxigraph:{tmp_path}/store")        # a store whose writes the memory follows
    try:
        _sample(store)
        offer = NamedNode(f"{FARM}/offers/1")
        with store.transaction() as tx:
            tx.create(offer, [Triple(offer, RDF_TYPE, T.Offer)])
        book = OrderBook(store, BASE, ManualClock(NOW))
        book.close_part = 1
        book.links.sources([offer])
        closed, completed = book.close_session(SESSION)
        assert closed and len(completed) == 4                 # four parts
        assert selects_asked(store)(lambda: book.links.sources([offer])) == 0
    finally:
        store.close()
