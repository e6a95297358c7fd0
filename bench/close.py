"""A sale session's close on the remote store: before (N+1 reads) vs after (a fixed number), same run.

    .venv/bin/python bench/close.py [--orders 1000] [--items 20]

A real `oxigraph serve` is started on a free port. Two sessions of one hub are built alike,
each with `--orders` Held wholesale orders of one line over `--items` catalogue items (with
their ledgers). The first is closed by the algorithm the server used before issue 15 (kept
below, as it was: read the session, list its orders, read each order and each item, write
the differences), the second by today's `OrderBook.close_session` (the orders and their items
read in one request each, every order placed in Python — lifecycle status, history, delivery,
frozen prices, events — and one update). On the remote store the write lock is shared by
every app process, so the time it is held is everyone's latency: printed are the requests made
while the lock was held, the time it was held, and the ratio. Both closes must leave the same
statuses and ledgers ("same result").
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app import queries  # noqa: E402
from app.domain import sessions, stock, order_documents as orders  # noqa: E402
from app.domain.clock import SystemClock  # noqa: E402
from app.orders.book import OrderBook  # noqa: E402
from app.namespaces import RDF_TYPE, TRUE, T  # noqa: E402
from app.rdf.normalise import datetime_literal, decimal_literal  # noqa: E402
from app.store import open_store  # noqa: E402
from support.oxigraph_server import running_oxigraph  # noqa: E402

BASE = "http://bench.example"
HUB = NamedNode(f"{BASE}/api/dfc/enterprises/hub")
PRODUCER = f"{BASE}/api/dfc/enterprises/farm"


def build(store, tag: str, n_orders: int, n_items: int) -> NamedNode:
    """A session of the hub with `n_orders` Held wholesale orders over `n_items` items."""
    session = NamedNode(f"{HUB.value}/sale_sessions/{tag}")
    items = [NamedNode(f"{PRODUCER}/catalog_items/{tag}-{i}") for i in range(n_items)]
    held = {item: Decimal(0) for item in items}
    documents = {session: [Triple(session, RDF_TYPE, T.SaleSession),
                           Triple(session, T.startDate, datetime_literal(dt.datetime(2026, 1, 1))),
                           Triple(session, T.endDate, datetime_literal(dt.datetime(2026, 1, 2)))]}
    for n in range(n_orders):
        order = NamedNode(f"{PRODUCER}/orders/{tag}-{n}")
        line, qv = NamedNode(f"{order.value}/order_lines/1"), BlankNode()
        item, quantity = items[n % n_items], Decimal(1 + n % 3)
        held[item] += quantity
        doc = [Triple(order, RDF_TYPE, T.Order), Triple(order, T.orderedBy, HUB),
               Triple(order, T.soldBy, NamedNode(PRODUCER)), Triple(order, T.belongsTo, session),
               Triple(order, T.consolidated, TRUE), Triple(order, T.hasPart, line),
               Triple(line, RDF_TYPE, T.OrderLine), Triple(line, T.stockItem, item),
               Triple(line, T.concerns, NamedNode(f"{PRODUCER}/offers/{n % n_items}")),
               Triple(line, T.quantity, decimal_literal(quantity)), Triple(line, T.hasQuantity, qv),
               Triple(qv, RDF_TYPE, T.QuantitativeValue), Triple(qv, T.value, decimal_literal(quantity))]
        documents[order] = orders.set_status(doc, order, T.Held)
    for item in items:
        doc = [Triple(item, RDF_TYPE, T.CatalogItem)]
        documents[item] = stock.write(doc, item, stock.Ledger(Decimal(1_000_000), held[item]))
    with store.transaction(bulk=True) as tx:
        for name, triples in documents.items():
            tx.create(name, triples)
    return session


def close_before(store, session: NamedNode, now: dt.datetime) -> list[NamedNode]:
    """The close as the server did it before issue 15 (reservations.py at 7929e18), with its ledgers."""
    with store.write_lock():
        doc = store.graph(session)
        if sessions.closed_at(doc, session) is not None:
            return []
        rows = store.select(queries.load("session_orders"), {"session": session, "hub": HUB})
        graphs, usage_delta, completed = {}, {}, []
        for row in rows:
            order = row["order"]
            before = store.graph(order)
            if orders.status(before, order) != T.Held:
                continue
            after = orders.set_status(before, order, T.Complete)
            usage_delta = orders.usage_plus(usage_delta, orders.usage_minus(orders.usage(after, order),
                                                                            orders.usage(before, order)))
            graphs[order] = after
            completed.append(order)
        seen = {session: doc}
        for item, (held, committed) in sorted(usage_delta.items(), key=lambda kv: kv[0].value):
            item_doc = store.graph(item)
            if Triple(item, RDF_TYPE, T.CatalogItem) not in item_doc:
                continue
            seen[item] = item_doc
            graphs[item] = stock.write(item_doc, item, stock.read(item_doc, item).moved(held, committed))
        instant = datetime_literal(now.astimezone(dt.timezone.utc).replace(microsecond=0))
        graphs[session] = [*doc, Triple(session, T.closedAt, instant)]
        store.replace_graphs(graphs, current=seen)
    return completed


class LockWatch:
    """Counts the store's requests, and those and the time while it holds any lock (named or commit)."""

    def __init__(self, store):
        self.store, self.requests, self.held_requests, self.held_seconds = store, 0, 0, 0.0
        self._since = None
        post, lock = store._post, store._store_lock
        acquire, release = lock.acquire, lock.release

        def counted(*args, **kwargs):
            self.requests += 1
            return post(*args, **kwargs)

        held = []          # the lock documents held now: the time counted is while any is

        def acquired(*graph):
            acquire(*graph)
            if not held:
                self._since = (time.perf_counter(), self.requests)
            held.append(graph)

        def released(*graph):
            held.remove(graph)
            if not held:
                start, count = self._since
                self.held_seconds += time.perf_counter() - start
                self.held_requests += self.requests - count
            release(*graph)

        store._post, lock.acquire, lock.release = counted, acquired, released

    @contextlib.contextmanager
    def measure(self):
        self.held_requests, self.held_seconds = 0, 0.0
        yield self


def outcome(store, session: NamedNode, tag: str) -> tuple:
    """What a close leaves: statuses of the session's orders and every item's ledger, by local name."""
    rows = store.select("SELECT ?o ?s ?f WHERE { GRAPH ?o { ?o ?belongs ?session ; ?status ?s ; ?ful ?f } }",
                        {"belongs": T.belongsTo, "session": session, "status": T.hasOrderStatus,
                         "ful": T.hasFulfilmentStatus})
    statuses = sorted((r["o"].value.rsplit("-", 1)[1], r["s"].value, r["f"].value) for r in rows)
    rows = store.select("SELECT ?i ?h ?c ?a WHERE { GRAPH ?i { ?i ?held ?h ; ?committed ?c ; ?limit ?a } "
                        "FILTER(STRSTARTS(STR(?i), ?prefix)) }",
                        {"held": T.held, "committed": T.committed, "limit": T.stockLimitation,
                         "prefix": Literal(f"{PRODUCER}/catalog_items/{tag}-")})
    ledgers = sorted((r["i"].value.rsplit("-", 1)[1], Decimal(r["h"].value), Decimal(r["c"].value),
                      Decimal(r["a"].value)) for r in rows)
    return statuses, ledgers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    now = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp, running_oxigraph(tmp) as url:
        store = open_store(f"sparql:{url}")
        watch = LockWatch(store)
        old_session = build(store, "before", args.orders, args.items)
        new_session = build(store, "after", args.orders, args.items)
        with watch.measure():
            done_before = close_before(store, old_session, now)
        before = (watch.held_requests, watch.held_seconds)
        with watch.measure():
            closed, done_after = OrderBook(store, BASE, SystemClock()).close_session(new_session, now)
        after = (watch.held_requests, watch.held_seconds)
        same = outcome(store, old_session, "before") == outcome(store, new_session, "after") \
            and len(done_before) == len(done_after) == args.orders and closed
        store.close()
    print(f"close of {args.orders} Held orders over {args.items} items, remote store (oxigraph serve)")
    print(f"{'':>8} {'requests under lock':>20} {'time under lock':>16}")
    print(f"{'before':>8} {before[0]:>20} {before[1] * 1000:>13.0f} ms")
    print(f"{'after':>8} {after[0]:>20} {after[1] * 1000:>13.0f} ms")
    print(f"ratio before/after: requests {before[0] / max(after[0], 1):.0f}x, time {before[1] / after[1]:.1f}x; "
          f"same result: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
