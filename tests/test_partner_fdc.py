"""Forwarding against a stand-in for the FDC Shopify app, built from OFN's recorded traffic.

The hub syncs the app's catalogue, sells two of its products, and forwards a checkout as OFN's
backorder code does: a Held order POSTed at the app's Orders collection, completed by a PUT at
the session's close. Our requests must match OFN's recorded requests in shape: the context,
the status, the lines and their quantities, the products their offers are for, the order's and
lines' ids the app gave.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import requests

from app.domain.clock import ManualClock
from conftest import ADMIN, make_app
from support.fdc_standin import ENTERPRISE, ORDER, FdcStandIn
from support.threaded_server import serving

pytestmark = pytest.mark.calendar

CTX = "https://www.datafoodconsortium.org"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/ld+json"}
BEANS, CHIA = "44519466500403", "44519468433715"


def _shape(doc: dict) -> dict:
    """What OFN's requests and ours must share: context, status, (quantity, product) per line."""
    graph = doc["@graph"]
    [order] = [n for n in graph if n["@type"] == "dfc-b:Order"]
    lines = {n["@id"]: n for n in graph if n["@type"] == "dfc-b:OrderLine"}
    parts = order.get("dfc-b:hasPart", [])
    return {"context": doc["@context"], "status": order["dfc-b:hasOrderStatus"],
            "buyer named": "dfc-b:orderedBy" in order or order["dfc-b:hasOrderStatus"] == "dfc-v:Complete",
            "lines": sorted((float(lines[p]["dfc-b:quantity"]),
                             re.search(r"/(\d+)(/Offer)?$", lines[p]["dfc-b:concerns"])[1]) for p in parts)}


def _put(http, iri, node):
    r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers=ADMIN_H)
    assert r.status_code in (200, 201), r.text


def test_forwarding_speaks_to_the_fdc_app_as_ofn_does(shared, tmp_path):
    recordings = shared / "conformance" / "real" / "ofn"
    app = FdcStandIn(recordings)
    clock = ManualClock(dt.datetime(2026, 11, 23, 9, tzinfo=dt.timezone.utc))
    with serving(lambda base: app) as fdc, serving(lambda base: make_app(
            demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'hub'}", public_base_url=base,
            webhook_allow_private=True)) as base:
        app.base = fdc
        http, api = requests.Session(), f"{base}/api/dfc/enterprises"
        hub = f"{api}/hub-a"
        _put(http, hub, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
        _put(http, f"{hub}/sale_sessions/week-48", {"@type": "dfc-b:SaleSession",
                                                    "dfc-b:startDate": "2026-11-23T08:00:00Z",
                                                    "dfc-b:endDate": "2026-11-27T18:00:00Z"})
        for product in (BEANS, CHIA):
            _put(http, f"{hub}/catalog_items/{product}", {
                "@type": "dfc-b:CatalogItem", "dfc-b:references": f"{fdc}{ENTERPRISE}/SuppliedProducts/{product}"})
            _put(http, f"{hub}/offers/{product}", {"@type": "dfc-b:Offer",
                                                   "dfc-b:offeredItem": f"{hub}/catalog_items/{product}"})
        token = {"Authorization": "Bearer " + http.post(f"{base}/api/admin/tokens", headers=ADMIN_H, json={
            "agent": hub, "scopes": []}).json()["token"]}
        r = http.put(f"{hub}/partners/hodmedod", headers=token, json={
            "enterprise": f"{fdc}{ENTERPRISE}", "catalog": f"{fdc}{ENTERPRISE}/SuppliedProducts",
            "orders": f"{fdc}{ENTERPRISE}/Orders", "token": "fdc-token"})
        assert r.status_code == 201, r.text
        assert "token" not in r.text and "fdc-token" not in http.get(f"{hub}/partners/hodmedod", headers=token).text
        r = http.post(f"{hub}/partners/hodmedod/sync", headers=token)
        assert r.status_code == 200, r.text
        assert f"{fdc}{ENTERPRISE}/SuppliedProducts/{BEANS}/Offer" in r.json()["added"]

        basket = {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{hub}/sale_sessions/week-48", "dfc-b:hasPart": [
                 {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": f"{hub}/offers/{BEANS}"},
                 {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 5, "dfc-b:concerns": f"{hub}/offers/{CHIA}"}]},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali", "dfc-b:email": "ali@example.org"}]}
        r = http.post(f"{hub}/orders", json=basket, headers={**token, "Content-Type": "application/ld+json"})
        assert r.status_code == 201, r.text
        clock.set(dt.datetime(2026, 11, 27, 18, 30, tzinfo=dt.timezone.utc))
        assert http.post(f"{hub}/sale_sessions/week-48/close", headers=token).status_code == 200
        summary = http.get(f"{hub}/sale_sessions/week-48/summary", headers=token).json()

    post, put = [r for r in app.requests if r["method"] in ("POST", "PUT")]
    ofn_post = app.recorded("vcr-backorderjob-02-post-new-order-request.json")
    ofn_put = app.recorded("vcr-backorderjob-04-put-complete-order-request.json")
    assert (post["path"], put["path"]) == (f"{ENTERPRISE}/Orders", ORDER)
    assert _shape(post["body"]) == _shape(ofn_post)
    assert _shape(put["body"]) == _shape(ofn_put)
    # The POST names the collection as its @id, as OFN does; the PUT the order and lines the app gave.
    ours_post = next(n for n in post["body"]["@graph"] if n["@type"] == "dfc-b:Order")
    assert ours_post["@id"] == f"{fdc}{ENTERPRISE}/Orders" and ours_post["dfc-b:orderedBy"] == hub
    ours_put, theirs_put = ({n["@id"] for n in doc["@graph"] if n["@type"] in ("dfc-b:Order", "dfc-b:OrderLine")}
                            for doc in (put["body"], ofn_put))
    assert ours_put == theirs_put
    assert post["headers"].get("Idempotency-Key") and put["headers"].get("Idempotency-Key")
    # Nothing personal left the hub, and the hub knows the app acknowledged the completion.
    assert "Ali" not in json.dumps([post["body"], put["body"]]) and "ali@" not in json.dumps(put["body"])
    [forwarded] = [n for n in summary["@graph"] if "hub:syncState" in n]
    assert forwarded["hub:syncState"] == "synced"
    assert forwarded["hub:remoteOrder"] == f"{fdc}{ORDER}"
