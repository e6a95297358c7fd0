"""What freezing the best price adds to placing an order, from 10 to 2,000 lines.

    .venv/bin/python bench/prices.py [--sizes 10,100,1000,2000] [--repeat 5] [--items 200] [--cpu]

A farm with `--items` catalogue items, each offered to everybody at 3.00 and to a customer
category at 2.80, and a contract with the hub at 2.50 for every item; the hub is in the category.
For each size n, through Flask's test client on an in-memory store (the whole pipeline), the hub
POSTs a Held order of n lines (each line a different offer, round the items), then:

  - baseline: PUTs it back Held with every quantity changed (reserving by the difference, no price);
  - placing: PUTs it Complete, which commits the stock and freezes every line's best price
    (four queries whatever n, then one pass over the lines).

  - freezing alone: the pricing step of placing (`prices.frozen`: four queries whatever n, then
    one pass over the lines), run on the Held order inside a unit of work that writes nothing.

All are measured in the same run on the same order, the sizes taking turns run by run (the
median of `--repeat` runs is printed). It prints milliseconds for each, the ratio
placing / baseline (placing also commits stock, records the status change and its event, and
makes the complete delivery), and the share of the baseline that freezing alone costs; the goal
is ratios that stay flat as n grows (linear pricing). Exit status 1 if a line was not priced at
the contract's 2.50, the source the contract.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.api.factory import create_app  # noqa: E402
from app.catalog import prices  # noqa: E402
from app.runtime import collector  # noqa: E402
from app.domain.clock import ManualClock  # noqa: E402
from app.domain.documents import Namespace  # noqa: E402
from pyoxigraph import NamedNode  # noqa: E402

BASE = "http://bench.test"
API = BASE + "/api/dfc/enterprises"
ADMIN = "bench-admin"
CTX = ["https://www.datafoodconsortium.org", {"hub": "https://w3id.org/dfc-order-hub/ns#"}]
NOW = dt.datetime(2030, 1, 7, 12, tzinfo=dt.timezone.utc)
JSONLD = "application/ld+json"


def admin() -> dict:
    return {"Authorization": f"Bearer {ADMIN}", "Content-Type": JSONLD}


def send(client, method: str, path: str, doc: dict, expect=(200, 201)):
    r = client.open(path, method=method, headers=admin(), data=json.dumps(doc))
    assert r.status_code in expect, r.get_data(as_text=True)[:2000]
    return r


def set_up(items: int, max_lines: int):
    """The farm's catalogue (public and category offers), its category with the hub, the contract."""
    app = create_app({"store": "memory:", "admin_token": ADMIN, "public_base_url": BASE,
                      "max_order_lines": max_lines}, ManualClock(NOW))
    client = app.test_client()
    farm, hub = f"{API}/farm", f"{API}/hub"
    for eid in ("farm", "hub"):
        send(client, "PUT", f"/api/dfc/enterprises/{eid}", {"@context": CTX, "@type": "dfc-b:Enterprise"})
    category = f"{farm}/customer_categories/restaurants"
    graph = [{"@id": category, "@type": "dfc-b:CustomerCategory", "hub:member": {"@id": hub}}]
    for i in range(items):
        item = f"{farm}/catalog_items/p{i}"
        graph += [
            {"@id": item, "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10 ** 9},
            *({"@id": f"{farm}/offers/p{i}{suffix}", "@type": "dfc-b:Offer", "dfc-b:offeredItem": item,
               **({"dfc-b:offersTo": category} if suffix else {}),
               "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": value, "dfc-b:hasUnit": "dfc-m:Euro"}}
              for suffix, value in (("", "3.00"), ("-cat", "2.80")))]
    send(client, "POST", "/api/dfc/enterprises/farm/catalog", {"@context": CTX, "@graph": graph}, (200,))
    contract = {"@context": CTX, "@type": "hub:Contract", "hub:consumer": {"@id": hub},
                "dfc-b:startDate": "2030-01-01", "dfc-b:endDate": "2030-12-31",
                "hub:contractPrice": [{"hub:item": {"@id": f"{farm}/catalog_items/p{i}"}, "dfc-b:hasPrice": {
                    "@type": "dfc-b:Price", "dfc-b:value": "2.50", "dfc-b:hasUnit": {"@id": "dfc-m:Euro"}}}
                    for i in range(items)]}
    source = send(client, "POST", "/api/dfc/enterprises/farm/contracts", contract).headers["Location"]
    return client, source


def order(n: int, items: int, status: str, quantity: int, iri: str | None = None) -> dict:
    lines = [{"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{API}/farm/offers/p{i % items}", "dfc-b:quantity": quantity}
             for i in range(n)]
    if iri:     # the lines as the server named them, so that a PUT changes them rather than replacing them
        lines = [{**line, "@id": f"{iri}/order_lines/l{i}"} for i, line in enumerate(lines)]
    return {"@context": CTX, "@id": iri or "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": f"{API}/hub",
            "dfc-b:hasOrderStatus": status, "dfc-b:hasPart": lines}


CLOCK = [time.perf_counter]      # --cpu: time.process_time
GOAL_DOUBLE = 2.2


def one(client, source: str, n: int, items: int) -> tuple[float, float, float, bool]:
    """(baseline, placing, freezing alone, in ms; every line priced at the contract?) for n lines."""
    iri = f"{API}/farm/orders/bench-{n}-{time.monotonic_ns()}"
    path = iri[len(BASE):]
    send(client, "PUT", path, order(n, items, "dfc-v:Held", 1, iri))
    t0 = CLOCK[0]()
    send(client, "PUT", path, order(n, items, "dfc-v:Held", 2, iri))
    baseline = CLOCK[0]() - t0
    store = client.application.extensions["dfc_hub"].store
    with store.transaction() as tx:         # writes nothing: the order is only priced in memory
        name = NamedNode(iri)
        held = tx.graph(name)
        t0 = CLOCK[0]()
        prices.frozen(tx, Namespace(BASE, "farm"), name, held, NOW)
        freezing = CLOCK[0]() - t0
    t0 = CLOCK[0]()
    placed = send(client, "PUT", path, order(n, items, "dfc-v:Complete", 2, iri))
    placing = CLOCK[0]() - t0
    body = json.loads(placed.get_data(as_text=True))
    lines = [node for node in body.get("@graph", [body]) if node.get("@type") == "dfc-b:OrderLine"]
    ok = len(lines) == n and all(line.get("hub:priceSource") == source and
                                 line.get("hub:catalogPrice", {}).get("dfc-b:value") == "2.5" for line in lines)
    return baseline * 1000, placing * 1000, freezing * 1000, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,2000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--cpu", action="store_true", help="time this process's CPU rather than the wall "
                        "clock: on a loaded machine the wall clock mostly measures the neighbours")
    args = parser.parse_args()
    if args.cpu:
        CLOCK[0] = time.process_time
    sizes = [int(s) for s in args.sizes.split(",")]
    client, source = set_up(args.items, max(sizes))
    collector.settle()      # the collector as `dfc-hub serve` runs it
    print(f"{'lines':>6} {'held PUT ms':>12} {'placing ms':>11} {'ratio':>6} {'freezing ms':>12} {'share':>6} {'priced':>7}")
    failed, placed = False, {}
    # The sizes take turns, run by run, so that drift in a shared machine's load hits them alike.
    runs_of: dict[int, list] = {n: [] for n in sizes}
    for _ in range(args.repeat):
        for n in sizes:
            runs_of[n].append(one(client, source, n, args.items))
    for n in sizes:
        runs = runs_of[n]
        base, placing, freezing = (statistics.median(r[k] for r in runs) for k in range(3))
        ok = all(r[3] for r in runs)
        failed |= not ok
        placed[n] = placing
        print(f"{n:>6} {base:>12.1f} {placing:>11.1f} {placing / base:>6.2f} {freezing:>12.1f} "
              f"{freezing / base:>6.2f} {'yes' if ok else 'NO':>7}")
    for n in sizes:         # issue 25: placing twice the lines costs at most 2.2 times as much
        if 2 * n in placed:
            growth = placed[2 * n] / placed[n]
            print(f"placing {2 * n} / {n} lines: {growth:.2f}x   goal ≤ {GOAL_DOUBLE}x: {'met' if growth <= GOAL_DOUBLE else 'NOT met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
