"""The official DFC connector (npm @datafoodconsortium/connector, what DFC platforms build on)
imports our answers: the objects it finds and the numbers its getters return.

Node and the connector are installed by `make test` (target `connector`, in
tests/support/dfc-connector); without them this test skips. The connector holds only the official
DFC context (the reference data, as DFC platforms preload it) and may fetch nothing: our context
is inline in every answer (API.md "Strict JSON-LD clients").
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import ADMIN, BASE, jsonld, make_app, token_for
from support.demo_server import demo_serving

HERE = Path(__file__).parent / "support" / "dfc-connector"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    not (NODE and (HERE / "node_modules" / "@datafoodconsortium" / "connector").is_dir()),
    reason="node and the DFC connector are not installed: `make connector` installs them (npm)")
JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
V = "https://github.com/datafoodconsortium/taxonomies/releases/latest/download/vocabulary.rdf#"


def dfc_context_only(shared) -> dict:
    """The only contexts the connector may load: the official DFC one, under the URLs it goes by."""
    ctx = str(shared / "dfc" / "context_1.16.0.json")
    return {"https://www.datafoodconsortium.org": ctx,
            "https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_1.16.0.jsonld": ctx}


def connector_reads(answer: bytes, shared) -> dict:
    run = subprocess.run([NODE, str(HERE / "read_answer.mjs"), json.dumps(dfc_context_only(shared))], input=answer,
                         capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    return {o["id"]: o for o in json.loads(run.stdout)}


def test_the_connector_imports_our_catalogue_with_exact_numbers(shared, tmp_path):
    client = make_app().test_client()
    offer = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Offer",
             "dfc-b:offers": f"{JEAN}/catalog_items/carrots",
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 18.85, "dfc-b:VATrate": 20,
                                "dfc-b:hasUnit": "dfc-m:Euro"}}
    assert client.put("/api/dfc/enterprises/jean-farm/offers/box", headers=token_for(client, JEAN),
                      **jsonld(offer)).status_code in (200, 201)
    read = connector_reads(client.get("/api/dfc/enterprises/jean-farm/catalog").get_data(), shared)
    assert read[f"{JEAN}/catalog_items/carrots"]["type"] == "dfc-b:CatalogItem"
    assert read[f"{JEAN}/catalog_items/carrots"]["stockLimitation"] == 10        # a JSON number
    assert read[f"{JEAN}/offers/box"]["price"] == {"value": 18.85, "vatRate": 20}   # "18.85" and 20
    assert read[f"{JEAN}/supplied_products/carrots"]["name"] == "Carrots, loose"


def test_the_connector_reads_our_orders(shared):
    client = make_app().test_client()
    hub_a = f"{BASE}/api/dfc/enterprises/hub-a"
    order = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Order", "dfc-b:orderedBy": hub_a,
             "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:hasPart": {
                 "@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{JEAN}/offers/carrots", "dfc-b:quantity": 1.5}}
    token = token_for(client, hub_a)
    made = client.post("/api/dfc/enterprises/jean-farm/orders", headers=token, **jsonld(order))
    assert made.status_code == 201, made.get_data(as_text=True)
    listing = client.get("/api/dfc/enterprises/jean-farm/orders", headers=token).get_data()
    read = connector_reads(listing, shared)
    assert read[made.headers["Location"]]["type"] == "dfc-b:Order"


def test_its_own_held_order_round_trips_through_a_live_server(shared):
    """The connector exports a Held order, POSTs it, reads it back, PUTs it Complete, reads it back:
    with only the DFC context and no fetch, against a server on 127.0.0.1."""
    with demo_serving() as base:
        ent = f"{base}/api/dfc/enterprises"
        token = requests.post(f"{base}/api/admin/tokens", json={"agent": f"{ent}/hub-a"},
                              headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30).json()["token"]
        args = {"base": base, "token": token, "orders": f"{ent}/jean-farm/orders", "buyer": f"{ent}/hub-a",
                "offer": f"{ent}/jean-farm/offers/carrots", "files": dfc_context_only(shared)}
        run = subprocess.run([NODE, str(HERE / "order_round_trip.mjs"), json.dumps(args)],
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert seen["post"]["status"] == 201, seen["post"]
    location = seen["post"]["location"]
    assert seen["read"] == {"id": location, "status": V + "Held",
                            "lines": [{"quantity": 2, "offer": args["offer"]}]}, seen["read"]
    assert seen["put"]["status"] == 200, seen["put"]
    assert seen["readAgain"] == {**seen["read"], "status": V + "Complete"}, seen["readAgain"]
