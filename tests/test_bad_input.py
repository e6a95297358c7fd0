"""Bad input gets a clear 4xx problem+json and changes nothing (issue: linked-data core)."""
from __future__ import annotations

import http.server
import json
import threading

import pytest
from conftest import BASE, JSONLD, jsonld, make_app, token_for

JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
ITEM = "/api/dfc/enterprises/jean-farm/catalog_items/carrots"


@pytest.fixture
def jean(client):
    return token_for(client, JEAN)


def _nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def everything(store):
    return sorted(str(r) for r in store.select("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"))


def assert_problem(r, status):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def item(stock):
    return {"@context": "https://www.datafoodconsortium.org", "@id": JEAN + "/catalog_items/carrots",
            "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": stock,
            "dfc-b:references": JEAN + "/supplied_products/carrots"}


@pytest.mark.parametrize("body, content_type, status, words", [
    (b"{not json", JSONLD, 400, "not JSON"),
    (b'{"name": "carrots", "stock": 3}', JSONLD, 400, "not JSON-LD"),
    (b'"just a string"', JSONLD, 400, "not JSON-LD"),
    (b"[" * 5000 + b"]" * 5000, JSONLD, 400, "deeper"),
    (json.dumps({"@context": "https://www.datafoodconsortium.org", "a": _nested(100)}).encode(),
     JSONLD, 400, "deeper"),
    (b"<a> <b> .", "text/plain", 415, "send one of"),
    (b"@prefix x: <y> . this is not turtle", "text/turtle", 400, "not valid"),
])
def test_unreadable_bodies_are_refused_and_change_nothing(client, store, jean, body, content_type, status, words):
    before = everything(store)
    r = client.put(ITEM, headers=jean, data=body, content_type=content_type)
    assert words in assert_problem(r, status)["detail"]
    assert everything(store) == before


def test_wrong_types_are_422_with_violations(client, store, jean):
    before = everything(store)
    body = assert_problem(client.put(ITEM, headers=jean, **jsonld(item("lots"))), 422)
    assert any(v["path"].endswith("#stockLimitation") and v["value"] == "lots"
               and v["focusNode"] == JEAN + "/catalog_items/carrots" for v in body["violations"])
    assert everything(store) == before


def test_an_iri_outside_the_callers_enterprise_is_403(client, store, jean):
    before = everything(store)
    intruder = item(5)
    intruder["@id"] = f"{BASE}/api/dfc/enterprises/hub-a/catalog_items/jean-carrots"
    r = client.put("/api/dfc/enterprises/hub-a/catalog_items/jean-carrots", headers=jean, **jsonld(intruder))
    assert_problem(r, 403)
    catalog = {"@context": "https://www.datafoodconsortium.org", "@graph": [intruder]}
    r = client.post("/api/dfc/enterprises/jean-farm/catalog", headers=jean, **jsonld(catalog))
    assert "outside the namespace" in assert_problem(r, 403)["detail"]
    assert everything(store) == before


def test_stale_if_match_is_412_and_changes_nothing(client, store, jean):
    before = everything(store)
    r = client.put(ITEM, headers={**jean, "If-Match": '"0123"'}, **jsonld(item(3)))
    assert assert_problem(r, 412)["currentETag"] == client.get(ITEM).headers["ETag"]
    assert everything(store) == before


def test_a_body_over_the_limit_is_413(store, jean):
    app = make_app(max_body_bytes=1024 * 1024)
    client = app.test_client()
    token = token_for(client, JEAN)
    before = everything(app.extensions["dfc_hub"].store)
    big = json.dumps(item(3) | {"dfc-b:description": "x" * (10 * 1024 * 1024)}).encode()
    r = client.put(ITEM, headers=token, data=big, content_type=JSONLD)
    assert_problem(r, 413)
    assert everything(app.extensions["dfc_hub"].store) == before


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802 - the http.server API
        type(self).hits += 1
        body = json.dumps({"@context": {"dfc-b": "http://evil.example/#"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def context_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _CountingHandler.hits = 0
    yield f"http://127.0.0.1:{server.server_address[1]}/context.jsonld"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("where", ["top", "list", "nested", "import"])
def test_a_remote_context_is_never_fetched(client, store, jean, context_server, where):
    doc = item(3)
    if where == "top":
        doc["@context"] = context_server
    elif where == "list":
        doc["@context"] = ["https://www.datafoodconsortium.org", context_server]
    elif where == "nested":
        doc["dfc-b:references"] = {"@context": context_server, "@id": JEAN + "/supplied_products/carrots"}
    else:
        doc["@context"] = {"@import": context_server}
    before = everything(store)
    r = client.put(ITEM, headers=jean, **jsonld(doc))
    body = assert_problem(r, 400)
    assert body["context"] == context_server
    assert _CountingHandler.hits == 0
    assert everything(store) == before


def test_an_unknown_token_is_401_and_a_malformed_header_too(client):
    assert_problem(client.put(ITEM, headers={"Authorization": "Bearer nope"}, **jsonld(item(3))), 401)
    assert_problem(client.put(ITEM, headers={"Authorization": "Basic abc"}, **jsonld(item(3))), 401)


def test_a_payload_describing_another_resource_than_the_url_is_400(client, store, jean):
    before = everything(store)
    other = item(3)
    other["@id"] = JEAN + "/catalog_items/leeks"
    assert_problem(client.put(ITEM, headers=jean, **jsonld(other)), 400)
    assert everything(store) == before
