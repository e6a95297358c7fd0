"""Session summary and session close at 1k, 10k and 100k customer order lines, in one run.

    .venv/bin/python bench/consolidation.py [--sizes 1000,10000,100000] [--repeat N]

For each size, a sale session of one hub is built on an on-disk Oxigraph store: customer
orders of 10 lines each over 20 producers × 5 products (one in ten cancelled), each line
stamped as the server stamps it (app/orders/consolidation.py), and the hub's consolidated
wholesale order with each producer. Then, side by side in this run (machines here are noisy,
so only ratios between figures of the same run mean anything):
  - our summary (app/orders/summary.py: its two GROUP BY queries through the Store layer,
    merged, rendered as CSV) vs the same two GROUP BYs run directly on pyoxigraph;
  - the session close (app/orders/book.py: every wholesale order Complete, held
    moved to committed, one transaction) — timed once per size on a fresh copy.
Goal: summary within 2x of the direct queries; time growing no worse than linearly.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import NamedNode, Quad, Triple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import queries  # noqa: E402
from app.domain import stock, order_documents as orders  # noqa: E402
from app.orders import consolidation, summary
from app.catalog.links import Source  # noqa: E402
from app.domain.clock import SystemClock  # noqa: E402
from app.orders.book import OrderBook  # noqa: E402
from app.namespaces import RDF_TYPE, TRUE, T  # noqa: E402
from app.store import open_store  # noqa: E402

BASE = "http://bench.test"
API = BASE + "/api/dfc/enterprises"
HUB = NamedNode(f"{API}/hub")
SESSION = NamedNode(f"{API}/hub/sale_sessions/s1")
PRODUCERS, PRODUCTS, LINES_PER_ORDER = 20, 5, 10


def build(store, lines: int, seed: int = 7) -> None:
    """Write a session of `lines` customer lines, as the server would have, with bulk loading."""
    rnd = random.Random(seed)
    docs: dict[NamedNode, list[Triple]] = {
        SESSION: [Triple(SESSION, RDF_TYPE, T.SaleSession),
                  Triple(SESSION, T.startDate, ox.Literal("2026-11-23T08:00:00Z", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))),
                  Triple(SESSION, T.endDate, ox.Literal("2026-11-27T18:00:00Z", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")))]}
    targets = []
    for p in range(PRODUCERS):
        producer = NamedNode(f"{API}/farm{p}")
        for k in range(PRODUCTS):
            item, offer = NamedNode(f"{producer.value}/catalog_items/c{k}"), NamedNode(f"{producer.value}/offers/c{k}")
            product = NamedNode(f"{producer.value}/supplied_products/c{k}")
            docs[item] = stock.write([Triple(item, RDF_TYPE, T.CatalogItem), Triple(item, T.offeredThrough, offer)],
                                     item, stock.Ledger(Decimal(10 ** 7)))
            source = Source(offer, item, product, Decimal("1.5"))
            sold = Source(NamedNode(f"{API}/hub/offers/f{p}c{k}"), None, product, Decimal(2))
            targets.append(consolidation.Target(producer, source, product, unit_weight=Decimal("0.5"), sold=sold))
    wholesale: dict[NamedNode, NamedNode] = {}
    edits: dict[NamedNode, consolidation.OrderEdit] = {}
    totals: dict[NamedNode, dict] = {}
    for n in range(lines // LINES_PER_ORDER):
        order = NamedNode(f"{API}/hub/orders/o{n}")
        status = T.Cancelled if n % 10 == 9 else T.Held
        doc = [Triple(order, RDF_TYPE, T.Order), Triple(order, T.orderedBy, NamedNode(f"{API}/hub/persons/p{n}")),
               Triple(order, T.belongsTo, SESSION), Triple(order, T.soldBy, HUB), Triple(order, T.customerOrder, TRUE)]
        doc = orders.set_status(doc, order, status)
        for i in range(LINES_PER_ORDER):
            target = targets[rnd.randrange(len(targets))]
            line, quantity = NamedNode(f"{order.value}/order_lines/{i}"), Decimal(rnd.randint(1, 4))
            doc += [Triple(order, T.hasPart, line), Triple(line, RDF_TYPE, T.OrderLine),
                    Triple(line, T.concerns, target.sold.offer)]
            doc = orders.set_quantity(doc, line, quantity)
            wline = None
            if status == T.Held:
                w = wholesale.setdefault(target.producer, NamedNode(f"{target.producer.value}/orders/w"))
                if w not in edits:
                    edits[w] = consolidation.OrderEdit(w, consolidation.new_order(w, HUB, target.producer, SESSION, None))
                wline = edits[w].line_for(target)
                totals.setdefault(w, {})
                totals[w][wline] = totals[w].get(wline, 0) + quantity
            doc += consolidation.stamp(line, target, wline, quantity if wline else None, priced=False)
        docs[order] = doc
    for w, lines_total in totals.items():          # what each checkout's `add_all` would have summed
        docs[w] = consolidation.add_all(edits[w].doc, w, lines_total)
    # The ledgers the wholesale orders hold.
    for w, (held, _) in ((w, u) for order in wholesale.values() for w, u in orders.usage(docs[order], order).items()):
        docs[w] = stock.write(docs[w], w, stock.read(docs[w], w).moved(held=held))
    store.bulk_load(Quad(t.subject, t.predicate, t.object, g) for g, triples in docs.items() for t in triples)


def direct(raw: ox.Store) -> int:
    """The same two GROUP BYs, run on pyoxigraph with nothing of ours around them."""
    n = 0
    for name, bindings in (("summary_customers", {"session": SESSION}),
                           ("summary_wholesale", {"session": SESSION, "hub": HUB})):
        n += sum(1 for _ in raw.query(queries.bind(queries.load(name), bindings)))
    return n


def ours(store) -> int:
    table = summary.rows(store, SESSION, HUB)
    summary.to_csv(table)
    return len(table)


def medians(fns, repeat: int) -> list[float]:
    """Median time of each function, run in turns so that drift of the machine hits all alike."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'lines':>8} {'build':>8} {'direct GROUP BY':>16} {'our summary':>12} {'ratio':>6} {'close':>9} "
          f"{'held=committed':>15}")
    rows = []
    for lines in sizes:
        folder = Path(tempfile.mkdtemp(prefix="dfc-bench-"))
        try:
            store = open_store(f"oxigraph:{folder / 'store'}")
            t = time.perf_counter()
            build(store, lines)
            built = time.perf_counter() - t
            assert ours(store) == PRODUCERS * PRODUCTS, "the summary has one row per producer and product"
            d, o = medians([lambda: direct(store.raw), lambda: ours(store)], args.repeat)
            before = {r["item"]: r for r in _ledgers(store)}
            book = OrderBook(store, BASE, SystemClock())
            t = time.perf_counter()
            closed, completed = book.close_session(SESSION)
            c = time.perf_counter() - t
            after = {r["item"]: r for r in _ledgers(store)}
            moved = all(Decimal(after[i]["committed"].value) == Decimal(before[i]["held"].value)
                        and Decimal(after[i]["held"].value) == 0 for i in before)
            store.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        rows.append((lines, d, o, c))
        print(f"{lines:>8} {built:>7.2f}s {d * 1000:>13.1f} ms {o * 1000:>9.1f} ms {o / d:>5.2f}x {c * 1000:>6.1f} ms "
              f"{'yes' if moved and closed and len(completed) == PRODUCERS else 'NO':>15}")
    print()
    worst = max(o / d for _, d, o, _ in rows)
    print(f"summary / direct GROUP BY, worst size: {worst:.2f}x  (goal: within 2x) -> {'met' if worst <= 2 else 'NOT met'}")
    if len(rows) > 1:
        (l0, _, o0, c0), (l1, _, o1, c1) = rows[0], rows[-1]
        growth = l1 / l0
        print(f"growth {l0} -> {l1} lines ({growth:.0f}x): summary {o1 / o0:.1f}x, close {c1 / c0:.1f}x "
              f"(linear would be {growth:.0f}x) -> "
              f"{'no worse than linear' if o1 / o0 <= growth * 1.2 and c1 / c0 <= growth * 1.2 else 'WORSE than linear'}")


def _ledgers(store):
    return store.select("PREFIX hub: <https://w3id.org/dfc-order-hub/ns#> "
                        "SELECT ?item ?held ?committed WHERE { GRAPH ?item { ?item hub:held ?held ; hub:committed ?committed } }")


if __name__ == "__main__":
    main()
