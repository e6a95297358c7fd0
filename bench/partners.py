"""Checkouts with one line on a partner platform beside all-local checkouts, in one run.

    .venv/bin/python bench/partners.py [--checkouts N] [--rounds R]

Two servers of ours on 127.0.0.1, each with its own on-disk store: a hub platform (hub A and a
local farm selling leeks) and a producer platform (a farm selling carrots) that hub A has as a
partner. Each checkout is one customer order of one line, POSTed by one client: "local" buys
leeks (reserved here), "remote" buys carrots (recorded here, then sent to the partner: the first
checkout POSTs the hub's order there, every later one PUTs it whole). The two kinds take turns
in `--rounds` slices so a shared machine's drift hits both alike. Printed: checkouts/s of each,
the ratio, and where a remote checkout's time goes (the partner's PUT, timed around the send).
Exit status 1 if any checkout is not a 201, or the partner's ledger disagrees with what was sold.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app.domain.clock import ManualClock  # noqa: E402
from app.partners.client import PartnerClient  # noqa: E402
from conftest import ADMIN, make_app  # noqa: E402
from support.threaded_server import serving  # noqa: E402

CTX = "https://www.datafoodconsortium.org"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/ld+json"}


def put(http, iri, node):
    r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers=ADMIN_H)
    assert r.status_code in (200, 201), r.text


def farm(http, api, eid, product, stock):
    ent = f"{api}/{eid}"
    put(http, ent, {"@type": "dfc-b:Enterprise", "dfc-b:name": eid})
    put(http, f"{ent}/supplied_products/{product}", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": product})
    put(http, f"{ent}/catalog_items/{product}", {"@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": stock,
                                                 "dfc-b:references": f"{ent}/supplied_products/{product}"})
    put(http, f"{ent}/offers/{product}", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{ent}/catalog_items/{product}"})


def resell(http, api, name, product):
    put(http, f"{api}/hub-a/catalog_items/{name}", {"@type": "dfc-b:CatalogItem", "dfc-b:references": product})
    put(http, f"{api}/hub-a/offers/{name}", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{api}/hub-a/catalog_items/{name}"})


class Timed(PartnerClient):
    """The hub's partner client, timing each order call (the partner's round trip)."""
    spent = 0.0
    calls = 0

    def send(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return super().send(*args, **kwargs)
        finally:
            Timed.spent += time.perf_counter() - start
            Timed.calls += 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkouts", type=int, default=200, help="checkouts of each kind")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clock = ManualClock(dt.datetime(2026, 11, 23, 9, tzinfo=dt.timezone.utc))
    with tempfile.TemporaryDirectory() as tmp:
        def hub_app(base):
            app = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp}/hub", public_base_url=base,
                           webhook_allow_private=True)
            forwarder = app.extensions["dfc_hub"].orders.forwarder
            old = forwarder.client
            # Loopback partners: the app was made with webhook_allow_private.
            forwarder.client = forwarder.tokens.client = Timed(True, old.timeout, old.max_bytes)
            return app
        with serving(lambda base: make_app(demo=False, clock=clock, store=f"oxigraph:{tmp}/producer",
                                           public_base_url=base)) as producer, serving(hub_app) as hub:
            return run(args, hub, producer)


def run(args, hub, producer) -> int:
    http = requests.Session()
    api, papi = f"{hub}/api/dfc/enterprises", f"{producer}/api/dfc/enterprises"
    stock = args.checkouts * 10
    farm(http, papi, "far-farm", "carrots", stock)
    farm(http, api, "local-farm", "leeks", stock)
    put(http, f"{api}/hub-a", {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
    resell(http, api, "carrots", f"{papi}/far-farm/supplied_products/carrots")
    resell(http, api, "leeks", f"{api}/local-farm/supplied_products/leeks")
    put(http, f"{api}/hub-a/sale_sessions/s", {"@type": "dfc-b:SaleSession", "dfc-b:startDate": "2026-11-23T08:00:00Z",
                                               "dfc-b:endDate": "2026-11-27T18:00:00Z"})
    remote_token = http.post(f"{producer}/api/admin/tokens", headers=ADMIN_H,
                             json={"agent": f"{api}/hub-a", "scopes": []}).json()["token"]
    token = {"Authorization": "Bearer " + http.post(f"{hub}/api/admin/tokens", headers=ADMIN_H, json={
        "agent": f"{api}/hub-a", "scopes": []}).json()["token"], "Content-Type": "application/ld+json"}
    far = f"{papi}/far-farm"
    assert http.put(f"{api}/hub-a/partners/far", headers=token, json={
        "enterprise": far, "catalog": f"{far}/catalog", "orders": f"{far}/orders", "token": remote_token}).ok
    assert http.post(f"{api}/hub-a/partners/far/sync", headers=token).ok

    def checkout(offer):
        doc = {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{api}/hub-a/sale_sessions/s", "dfc-b:hasPart": [
                 {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": f"{api}/hub-a/offers/{offer}"}]},
            {"@id": "_:c", "@type": "dfc-b:Person"}]}
        return http.post(f"{api}/hub-a/orders", json=doc, headers=token).status_code

    for offer in ("leeks", "carrots"):      # warm up: the remote order is POSTed here
        assert checkout(offer) == 201
    Timed.spent, Timed.calls = 0.0, 0
    spent = {"leeks": 0.0, "carrots": 0.0}
    bad = 0
    per_round = max(1, args.checkouts // args.rounds)
    for _ in range(args.rounds):
        for offer in ("leeks", "carrots"):
            start = time.perf_counter()
            bad += sum(checkout(offer) != 201 for _ in range(per_round))
            spent[offer] += time.perf_counter() - start
    done = per_round * args.rounds
    held = http.get(f"{far}/catalog_items/carrots", headers={"Accept": "application/ld+json"}).json()["hub:held"]
    local, remote = done / spent["leeks"], done / spent["carrots"]
    partner_ms = 1000 * Timed.spent / max(Timed.calls, 1)
    remote_ms, local_ms = 1000 * spent["carrots"] / done, 1000 * spent["leeks"] / done
    print(f"{done} checkouts of each kind, one client, {args.rounds} rounds taking turns")
    print(f"all-local basket        : {local:7.1f} checkouts/s  ({local_ms:.1f} ms each)")
    print(f"one line on a partner   : {remote:7.1f} checkouts/s  ({remote_ms:.1f} ms each)")
    print(f"ratio remote/local      : {remote / local:.2f}")
    print(f"where a remote checkout's time goes: {partner_ms:.1f} ms the partner's PUT (its own unit of work, "
          f"{Timed.calls} calls), {remote_ms - partner_ms:.1f} ms here (the checkout, then noting the acknowledgement)")
    ok = bad == 0 and held == done + 1
    print(f"every checkout 201 and the partner holds what was sold: {'yes' if ok else 'NO'} (held {held})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
