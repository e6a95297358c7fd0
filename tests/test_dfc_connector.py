"""The official DFC connector (npm @datafoodconsortium/connector, what DFC platforms build on)
imports our answers: the objects it finds and the numbers its getters return.

Node and the connector are installed by `make test` (target `connector`, in
tests/support/dfc-connector); without them this test skips. The connector is given the
contexts our answer names from local files (the official DFC 1.16 context, ours as the server
serves it) and may fetch nothing else.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BASE, jsonld, make_app, token_for

HERE = Path(__file__).parent / "support" / "dfc-connector"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    not (NODE and (HERE / "node_modules" / "@datafoodconsortium" / "connector").is_dir()),
    reason="node and the DFC connector are not installed: `make connector` installs them (npm)")
JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"


def connector_reads(client, answer: bytes, shared, tmp_path) -> dict:
    ours = tmp_path / "hub.jsonld"
    ours.write_bytes(client.get("/api/contexts/hub.jsonld").get_data())
    files = {"https://www.datafoodconsortium.org": str(shared / "dfc" / "context_1.16.0.json"),
             f"{BASE}/api/contexts/hub.jsonld": str(ours)}
    run = subprocess.run([NODE, str(HERE / "read_answer.mjs"), json.dumps(files)], input=answer,
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
    read = connector_reads(client, client.get("/api/dfc/enterprises/jean-farm/catalog").get_data(),
                           shared, tmp_path)
    assert read[f"{JEAN}/catalog_items/carrots"]["type"] == "dfc-b:CatalogItem"
    assert read[f"{JEAN}/catalog_items/carrots"]["stockLimitation"] == 10        # a JSON number
    assert read[f"{JEAN}/offers/box"]["price"] == {"value": 18.85, "vatRate": 20}   # "18.85" and 20
    assert read[f"{JEAN}/supplied_products/carrots"]["name"] == "Carrots, loose"
