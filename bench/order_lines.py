"""Time per order line, from 10 to 5,000 lines: order handling must stay linear (issue 9).

    .venv/bin/python bench/order_lines.py [--sizes 10,100,1000,5000] [--repeat 3]

One producer with 50 catalogue items (stock enough for everything) and a hub reselling them in an
open sale session. For each size n, through Flask's test client on an in-memory store (the whole
pipeline: parse, SHACL, planning, the atomic write, rendering the answer), in-process so that
sockets do not blur the figure:

  - wholesale: the hub POSTs a Held order of n lines to the producer (each line reserves), PUTs it
    back with every quantity changed, then DELETEs it;
  - customer: the hub POSTs a Held customer checkout of n lines (consolidated into its wholesale
    order with the producer), then DELETEs it.

The baseline, measured in the same run on the same bodies, is what is linear by construction:
parsing the body to triples (pyoxigraph's JSON-LD parser, then our normalisation). For each size
it prints milliseconds per line and the ratio of each step to that baseline; linear handling keeps
the ratio flat from the smallest size to the largest (quadratic handling multiplies it by the
size). The last column, the per-line time at n over the per-line time at the smallest n, says the
same without a baseline. Exit status 1 if any answer was not the expected one, or if the ledger
did not come back to where it started.
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
from app.domain.clock import ManualClock  # noqa: E402
from app.rdf import read_payload  # noqa: E402

BASE = "http://bench.test"
API = BASE + "/api/dfc/enterprises"
ADMIN = "bench-admin"
CTX = "https://www.datafoodconsortium.org"
ITEMS = 50
NOW = dt.datetime(2030, 1, 7, 12, tzinfo=dt.timezone.utc)
JSONLD = "application/ld+json"


def admin() -> dict:
    return {"Authorization": f"Bearer {ADMIN}", "Content-Type": JSONLD}


def put(client, path: str, doc: dict) -> None:
    r = client.put(path, headers=admin(), data=json.dumps(doc))
    assert r.status_code in (200, 201), r.get_data(as_text=True)


def set_up(max_lines: int):
    """An app with a farm (ITEMS products, unlimited-enough stock), a hub reselling them, a session."""
    app = create_app({"store": "memory:", "admin_token": ADMIN, "public_base_url": BASE,
                      "max_order_lines": max_lines}, ManualClock(NOW))
    client = app.test_client()
    for eid in ("farm", "hub"):
        put(client, f"/api/dfc/enterprises/{eid}", {"@context": CTX, "@type": "dfc-b:Enterprise", "dfc-b:name": eid})
    farm, hub = f"{API}/farm", f"{API}/hub"
    graph = []
    for i in range(ITEMS):
        graph += [
            {"@id": f"{farm}/supplied_products/p{i}", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": f"p{i}"},
            {"@id": f"{farm}/catalog_items/p{i}", "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10 ** 9,
             "dfc-b:references": f"{farm}/supplied_products/p{i}", "dfc-b:offeredThrough": f"{farm}/offers/p{i}"},
            {"@id": f"{farm}/offers/p{i}", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{farm}/catalog_items/p{i}",
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2, "dfc-b:hasUnit": "dfc-m:Euro"}}]
    r = client.post("/api/dfc/enterprises/farm/catalog", headers=admin(), data=json.dumps({"@context": CTX, "@graph": graph}))
    assert r.status_code == 200, r.get_data(as_text=True)
    resold = []
    for i in range(ITEMS):
        resold += [
            {"@id": f"{hub}/catalog_items/p{i}", "@type": "dfc-b:CatalogItem",
             "dfc-b:references": f"{farm}/supplied_products/p{i}", "dfc-b:offeredThrough": f"{hub}/offers/p{i}"},
            {"@id": f"{hub}/offers/p{i}", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{hub}/catalog_items/p{i}",
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 3, "dfc-b:hasUnit": "dfc-m:Euro"}}]
    r = client.post("/api/dfc/enterprises/hub/catalog", headers=admin(), data=json.dumps({"@context": CTX, "@graph": resold}))
    assert r.status_code == 200, r.get_data(as_text=True)
    put(client, "/api/dfc/enterprises/hub/sale_sessions/week", {
        "@context": CTX, "@type": "dfc-b:SaleSession", "dfc-b:startDate": "2030-01-07T08:00:00Z",
        "dfc-b:endDate": "2030-01-11T18:00:00Z"})
    r = client.post("/api/admin/tokens", headers=admin(), data=json.dumps({"agent": hub, "scopes": []}))
    token = {"Authorization": "Bearer " + r.get_json()["token"], "Content-Type": JSONLD}
    return client, token


def wholesale_body(n: int, quantity: int, order_id: str = "#", line_ids=None) -> bytes:
    lines = [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity + i % 3,
              "dfc-b:concerns": f"{API}/farm/offers/p{i % ITEMS}"} for i in range(n)]
    for line, lid in zip(lines, line_ids or []):
        line["@id"] = lid
    return json.dumps({"@context": CTX, "@id": order_id, "@type": "dfc-b:Order",
                       "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:hasPart": lines}).encode()


def customer_body(n: int) -> bytes:
    return json.dumps({"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{API}/hub/sale_sessions/week",
         "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1 + i % 3,
                            "dfc-b:concerns": f"{API}/hub/offers/p{i % ITEMS}"} for i in range(n)]},
        {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}).encode()


def held(client) -> int:
    total = 0
    for i in range(ITEMS):
        total += client.get(f"/api/dfc/enterprises/farm/catalog_items/p{i}").get_json()["hub:held"]
    return total


def timed(call):
    start = time.perf_counter()
    r = call()
    return time.perf_counter() - start, r


def expect(r, status: int, what: str) -> None:
    if r.status_code != status:
        raise SystemExit(f"{what}: expected {status}, got {r.status_code}: {r.get_data(as_text=True)[:300]}")


def measure(client, token, n: int) -> dict[str, float]:
    """Seconds for each step at n lines (one run)."""
    out = {}
    body = wholesale_body(n, 1)
    out["parse"] = timed(lambda: read_payload(body, JSONLD, f"{API}/farm/orders"))[0]
    out["wholesale POST"], r = timed(lambda: client.post("/api/dfc/enterprises/farm/orders", headers=token, data=body))
    expect(r, 201, f"wholesale POST of {n} lines")
    location = r.headers["Location"]
    lines = [node["@id"] for node in r.get_json()["@graph"] if node.get("@type") == "dfc-b:OrderLine"]
    again = wholesale_body(n, 2, location, lines)
    path = location[len(BASE):]
    out["wholesale PUT"], r = timed(lambda: client.put(path, headers=token, data=again))
    expect(r, 200, f"wholesale PUT of {n} lines")
    out["wholesale DELETE"], r = timed(lambda: client.delete(path, headers=token))
    expect(r, 204, f"wholesale DELETE of {n} lines")
    checkout = customer_body(n)
    out["customer POST"], r = timed(lambda: client.post("/api/dfc/enterprises/hub/orders", headers=token, data=checkout))
    expect(r, 201, f"customer POST of {n} lines")
    path = r.headers["Location"][len(BASE):]
    out["customer DELETE"], r = timed(lambda: client.delete(path, headers=token))
    expect(r, 204, f"customer DELETE of {n} lines")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is shown")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    client, token = set_up(max(sizes))
    measure(client, token, 10)                                   # warm-up: caches, first requests
    results = {}
    for n in sizes:
        runs = [measure(client, token, n) for _ in range(args.repeat)]
        results[n] = {step: statistics.median(r[step] for r in runs) for step in runs[0]}
    if held(client) != 0:
        print("FAIL: the ledger did not come back to 0 held")
        sys.exit(1)
    steps = [s for s in results[sizes[0]] if s != "parse"]
    print(f"order lines: ms per line (median of {args.repeat}), ×baseline = over parsing the same body, "
          f"×{sizes[0]} = over the per-line time at {sizes[0]} lines; flat columns mean linear")
    print(f"{'lines':>6} {'parse (baseline)':>17}  " + "  ".join(f"{s:>30}" for s in steps))
    for n in sizes:
        r = results[n]
        cells = []
        for s in steps:
            per_line = r[s] / n * 1000
            cells.append(f"{per_line:8.3f} ms {r[s] / r['parse']:6.1f}×base "
                         f"{(r[s] / n) / (results[sizes[0]][s] / sizes[0]):5.2f}×")
        print(f"{n:>6} {r['parse'] / n * 1000:13.4f} ms  " + "  ".join(f"{c:>30}" for c in cells))
    first, last = sizes[0], sizes[-1]
    worst = max((results[last][s] / last) / (results[first][s] / first) for s in steps)
    print(f"worst growth of the per-line time from {first} to {last} lines: {worst:.2f}× "
          f"(quadratic handling would be about {last / first:.0f}×)")


if __name__ == "__main__":
    main()
