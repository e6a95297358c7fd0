"""The real `dfc-hub` command: serve over HTTP (embedded and remote store), load, validate."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import ADMIN, CONFORMANCE
from support.oxigraph_server import running_oxigraph

pytestmark = pytest.mark.calendar     # reads the clock or builds dates: also run with the calendar moved

DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))
AUTH = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/ld+json"}


def item(base, stock):
    return json.dumps({"@context": "https://www.datafoodconsortium.org",
                       "@id": f"{base}/api/dfc/enterprises/jean-farm/catalog_items/carrots",
                       "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": stock})


def test_serve_with_demo_data_answers_dfc_jsonld_over_http(live_server):
    base = live_server()
    r = requests.get(f"{base}/api/dfc/enterprises", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    names = {n["dfc-b:name"] for n in r.json()["@graph"]}
    assert names == {"Jean's Farm", "Hub A", "Hub B"}
    url = f"{base}/api/dfc/enterprises/jean-farm/catalog_items/carrots"
    assert requests.put(url, data=item(base, 7), headers=AUTH, timeout=10).status_code == 200
    assert requests.get(url, timeout=10).json()["dfc-b:stockLimitation"] == 7


def test_serve_on_a_remote_oxigraph_store(live_server, tmp_path):
    with running_oxigraph(tmp_path) as sparql:
        base = live_server(DFC_HUB_STORE=f"sparql:{sparql}")
        url = f"{base}/api/dfc/enterprises/jean-farm/catalog_items/carrots"
        assert requests.put(url, data=item(base, 4), headers=AUTH, timeout=10).status_code == 200
        # What the hub wrote is in the SPARQL server, in the resource's own named graph.
        ask = requests.post(f"{sparql}/query", data=f"ASK {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
                            headers={"Content-Type": "application/sparql-query",
                                     "Accept": "application/sparql-results+json"}, timeout=10)
        assert ask.json()["boolean"] is True
        assert requests.get(url, timeout=10).json()["dfc-b:stockLimitation"] == 4


def run(*args, env=None):
    return subprocess.run([DFC_HUB, *args], capture_output=True, text=True, env=env, timeout=120)


def test_validate_exit_codes(shared, tmp_path):
    good = CONFORMANCE / "ofn/shopify-app-order-held-response.json"     # conforms (test_conformance_corpus)
    bad = CONFORMANCE / "dfc/connector-ts_SaleSession.json"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert run("validate", str(good)).returncode == 0
    result = run("validate", str(good), str(bad))
    assert result.returncode == 1 and "does not conform" in result.stdout
    assert run("validate", str(bad), str(broken)).returncode == 2


def test_load_writes_one_document_per_resource(shared, tmp_path):
    import os
    env = {**os.environ, "DFC_HUB_STORE": f"oxigraph:{tmp_path / 'store'}",
           "PUBLIC_BASE_URL": "https://env-0105831.jcloud-ver-jpe.ik-server.com"}
    result = run("load", str(CONFORMANCE / "ofn/fdc-shopify-catalog-hodmedod.json"), env=env)
    assert result.returncode == 0, result.stderr
    assert "loaded 34 resources" in result.stdout   # 33 with an IRI + the unreferenced nodes
    again = run("load", str(CONFORMANCE / "ofn/fdc-shopify-catalog-hodmedod.json"), env=env)
    assert again.returncode == 0
    from app.store.dataset import open_dataset
    ds = open_dataset(f"oxigraph:{tmp_path / 'store'}")     # what a notebook would hold
    try:
        # Loading again keeps each item's stock ledger (hub: terms), so count the rest.
        [(count,)] = ds.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                              "FILTER(!STRSTARTS(STR(?p), 'https://w3id.org/dfc-order-hub/ns#')) }")
        [(graphs,)] = ds.query("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                               "FILTER(?g != <urn:x-dfc-hub:pseudonym-key>) }")   # every store has one
    finally:
        ds.close()
    assert int(graphs) == 34          # loading twice replaced, it did not duplicate
    assert int(count) == 203


def test_the_readme_checkout_works_on_the_demo_whatever_the_date(live_server):
    """`make run`'s demo moves its sessions to now, so the README's checkout is accepted today."""
    base = live_server()
    admin = {"Authorization": f"Bearer {ADMIN}"}
    hub_a = f"{base}/api/dfc/enterprises/hub-a"
    token = requests.post(f"{base}/api/admin/tokens", json={"agent": hub_a, "scopes": []}, headers=admin,
                          timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"@context": "https://www.datafoodconsortium.org", "@graph": [
        {"@type": "dfc-b:Order", "dfc-b:orderedBy": "_:ali", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{hub_a}/sale_sessions/week-48",
         "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 2,
                           "dfc-b:concerns": f"{hub_a}/offers/jean-carrots"}},
        {"@id": "_:ali", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
    r = requests.post(f"{hub_a}/orders", data=json.dumps(body), timeout=10,
                      headers={**auth, "Content-Type": "application/ld+json", "Idempotency-Key": "checkout-1"})
    assert r.status_code == 201, r.text
    assert requests.get(f"{hub_a}/sale_sessions/week-48/wholesale_orders", headers=auth, timeout=10).status_code == 200
    carrots = requests.get(f"{base}/api/dfc/enterprises/jean-farm/catalog_items/carrots", timeout=10).json()
    assert (carrots["dfc-b:stockLimitation"], carrots["hub:held"]) == (8, 2)
    assert requests.post(f"{hub_a}/sale_sessions/week-48/close", headers=auth, timeout=10).status_code == 200


def test_serve_demo_on_a_used_store_says_so_and_reset_starts_over(live_server, tmp_path):
    # One PUBLIC_BASE_URL for the three servers (on three ports), so the IRIs stay the same.
    store = {"DFC_HUB_STORE": f"oxigraph:{tmp_path / 'kept'}", "PUBLIC_BASE_URL": "http://hub.test"}
    first = live_server(**store)
    assert "Loaded the demo data" in live_server.output(first)
    farm = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Enterprise", "dfc-b:name": "My farm"}
    assert requests.put(f"{first}/api/dfc/enterprises/my-farm", data=json.dumps(farm), headers=AUTH,
                        timeout=10).status_code == 201
    live_server.stop(first)

    again = live_server(**store)
    said = live_server.output(again)
    assert "Loaded the demo data" not in said
    assert "already holds data" in said and "make reset" in said and "--reset" in said
    assert requests.get(f"{again}/api/dfc/enterprises/my-farm", timeout=10).status_code == 200
    live_server.stop(again)

    fresh = live_server("--reset", **store)
    assert "Loaded the demo data" in live_server.output(fresh)
    assert requests.get(f"{fresh}/api/dfc/enterprises/my-farm", timeout=10).status_code == 404
    assert requests.get(f"{fresh}/api/dfc/enterprises/jean-farm", timeout=10).status_code == 200


def test_a_second_server_on_the_same_store_says_why_it_cannot_start(live_server, tmp_path):
    import os
    store = f"oxigraph:{tmp_path / 'busy'}"
    live_server(DFC_HUB_STORE=store)
    second = run("serve", "--port", "1", env={**os.environ, "DFC_HUB_STORE": store, "DFC_HUB_ADMIN_TOKEN": ADMIN})
    assert second.returncode == 2
    assert "another `dfc-hub serve`" in second.stderr and "Traceback" not in second.stderr


def test_serve_on_port_0_takes_a_free_port_and_says_which(tmp_path):
    import os
    import re
    import time
    env = {**os.environ, "DFC_HUB_STORE": f"oxigraph:{tmp_path / 'store'}", "DFC_HUB_ADMIN_TOKEN": ADMIN,
           "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([DFC_HUB, "serve", "--port", "0"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        found = None
        for _ in range(300):            # the banner comes once the port is bound
            found = re.search(r"serving \S+ on http://127\.0\.0\.1:(\d+) ", log.read_text(errors="replace"))
            if found or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert found, log.read_text(errors="replace")
        port = int(found.group(1))
        assert port != 0
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_refuses_a_number_of_threads_it_cannot_run_with():
    result = run("serve", "--threads", "0")
    assert result.returncode == 2 and "--threads" in result.stderr
