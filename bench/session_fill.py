"""A checkout in a sale session already holding 10,000 customer orders vs one in an empty session.

    .venv/bin/python bench/session_fill.py [--quick] [--fill 10000] [--checkouts 60] [--rounds 3]

One hub reselling a producer's 20 products (stock enough for everything) in two open sale
sessions, on an on-disk store, through Flask's test client (the whole pipeline: token, parse,
SHACL, planning, the atomic write, rendering; no sockets). The "full" session is first given
`--fill` customer checkouts of 2 lines each, the way customers make them; then the same
checkouts (2 lines, Held, a new person each) run in the full and in the empty session, the two
taking turns in `--rounds` slices so that drift in a shared machine's load hits both alike.
Issue 25: a checkout in the full session costs ≤ 1.2× one in the empty session (median time
per checkout; CPU per checkout printed beside it). Exit status 1 if any checkout was not 201.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.api.factory import create_app  # noqa: E402
from app.runtime.loading import load_files  # noqa: E402

BASE = "http://bench.test"
API = f"{BASE}/api/dfc/enterprises"
ADMIN = "bench-admin"
CTX = "https://www.datafoodconsortium.org"
PRODUCTS, GOAL = 20, 1.2


def scenario(now: dt.datetime) -> dict:
    """A farm, a hub reselling its products, and two open sale sessions of the hub."""
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    graph = [{"@id": "enterprises/farm", "@type": "dfc-b:Enterprise", "dfc-b:name": "Farm"},
             {"@id": "enterprises/hub", "@type": "dfc-b:Enterprise", "dfc-b:name": "Hub"}]
    for k in range(PRODUCTS):
        graph += [
            {"@id": f"enterprises/farm/supplied_products/p{k}", "@type": "dfc-b:SuppliedProduct",
             "dfc-b:name": f"Product {k}", "dfc-b:referencedBy": f"enterprises/farm/catalog_items/p{k}"},
            {"@id": f"enterprises/farm/catalog_items/p{k}", "@type": "dfc-b:CatalogItem",
             "dfc-b:references": f"enterprises/farm/supplied_products/p{k}", "dfc-b:stockLimitation": 10 ** 9,
             "dfc-b:offeredThrough": f"enterprises/farm/offers/p{k}"},
            {"@id": f"enterprises/farm/offers/p{k}", "@type": "dfc-b:Offer",
             "dfc-b:offeredItem": f"enterprises/farm/catalog_items/p{k}",
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 1.5, "dfc-b:hasUnit": "dfc-m:Euro"}},
            {"@id": f"enterprises/hub/catalog_items/p{k}", "@type": "dfc-b:CatalogItem",
             "dfc-b:references": f"enterprises/farm/supplied_products/p{k}",
             "dfc-b:offeredThrough": f"enterprises/hub/offers/p{k}"},
            {"@id": f"enterprises/hub/offers/p{k}", "@type": "dfc-b:Offer",
             "dfc-b:offeredItem": f"enterprises/hub/catalog_items/p{k}",
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2, "dfc-b:hasUnit": "dfc-m:Euro"}}]
    for name in ("full", "empty"):
        graph.append({"@id": f"enterprises/hub/sale_sessions/{name}", "@type": "dfc-b:SaleSession",
                      "dfc-b:startDate": iso(now - dt.timedelta(days=1)), "dfc-b:endDate": iso(now + dt.timedelta(days=7)),
                      "dfc-b:lists": [f"enterprises/hub/offers/p{k}" for k in range(PRODUCTS)]})
    return {"@context": CTX, "@graph": graph}


def checkout_body(session: str, n: int) -> bytes:
    lines = [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1 + (n + j) % 3,
              "dfc-b:concerns": f"{API}/hub/offers/p{(n * 7 + j * 3) % PRODUCTS}"} for j in range(2)]
    return json.dumps({"@context": CTX, "@graph": [
        {"@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{API}/hub/sale_sessions/{session}", "dfc-b:hasPart": lines},
        {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": f"Customer {n}"}]}).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fill 1,000, 30 checkouts each")
    parser.add_argument("--fill", type=int, default=10000, help="customer orders in the full session")
    parser.add_argument("--checkouts", type=int, default=60, help="measured checkouts per session")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.fill, args.checkouts = 1000, 30
    with tempfile.TemporaryDirectory(prefix="bench-fill-") as tmp:
        app = create_app({"public_base_url": BASE, "store": f"oxigraph:{tmp}/store", "admin_token": ADMIN,
                          "close_every_seconds": 0})
        hub = app.extensions["dfc_hub"]
        try:
            path = Path(tmp) / "scenario.json"
            path.write_text(json.dumps(scenario(dt.datetime.now(dt.timezone.utc))))
            load_files(hub.store, [path], f"{BASE}/api/dfc/")
            client = app.test_client()
            r = client.post("/api/admin/tokens", headers={"Authorization": f"Bearer {ADMIN}"},
                            json={"agent": f"{API}/hub", "scopes": []})
            assert r.status_code == 201, r.get_data(as_text=True)
            headers = {"Authorization": f"Bearer {r.get_json()['token']}", "Content-Type": "application/ld+json"}
            serial = iter(range(10 ** 9))

            def checkout(session: str) -> None:
                r = client.post("/api/dfc/enterprises/hub/orders", data=checkout_body(session, next(serial)),
                                headers=headers)
                if r.status_code != 201:
                    raise SystemExit(f"checkout answered {r.status_code}: {r.get_data(as_text=True)[:500]}")

            t0 = time.perf_counter()
            for n in range(args.fill):
                checkout("full")
                if n and n % 1000 == 0:
                    print(f"  filled {n} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
            print(f"the full session: {args.fill} customer checkouts in {time.perf_counter() - t0:.0f} s")
            for _ in range(3):          # warm-up of the empty session's first reads
                checkout("empty")
            times: dict[str, list[float]] = {"empty": [], "full": []}
            cpu = {"empty": 0.0, "full": 0.0}
            per_round = max(1, args.checkouts // args.rounds)
            for _ in range(args.rounds):
                for session in ("empty", "full"):
                    c0 = time.process_time()
                    for _ in range(per_round):
                        t = time.perf_counter()
                        checkout(session)
                        times[session].append(time.perf_counter() - t)
                    cpu[session] += time.process_time() - c0
        finally:
            hub.close()
    median = {k: statistics.median(v) * 1000 for k, v in times.items()}
    per_cpu = {k: cpu[k] / len(times[k]) * 1000 for k in cpu}
    for k in ("empty", "full"):
        print(f"  {k:5s} session: median {median[k]:7.2f} ms a checkout, CPU {per_cpu[k]:7.2f} ms  ({len(times[k])} checkouts)")
    ratio = median["full"] / median["empty"]
    print(f"  full / empty: {ratio:.2f}x (CPU {per_cpu['full'] / per_cpu['empty']:.2f}x)   goal ≤ {GOAL}x: "
          f"{'met' if ratio <= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
