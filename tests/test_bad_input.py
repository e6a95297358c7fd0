"""Bad input gets a clear 4xx problem+json and changes nothing (issue: linked-data core)."""
from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import xml.etree.ElementTree as ET

import pytest
from conftest import BASE, JSONLD, client_of, jsonld, make_app, token_for
from support.orders import MONDAY, sale_week

JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
ITEM = "/api/dfc/enterprises/jean-farm/catalog_items/carrots"


@pytest.fixture
def jean(request):
    return token_for(client_of(request), JEAN)


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
    (b'{"@context": "https://www.datafoodconsortium.org", "@graph": []}', JSONLD, 400, "its @graph is empty"),
    (b'{"@context": "https://www.datafoodconsortium.org", "stock": 3}', JSONLD, 400, "no node in it has a @type"),
    (b"<a> <b> .", "text/plain", 415, "send one of"),
    (b"@prefix x: <y> . this is not turtle", "text/turtle", 400, "not valid"),
])
def test_unreadable_bodies_are_refused_and_change_nothing(read_client, read_store, jean, body, content_type, status,
                                                          words):
    before = everything(read_store)
    r = read_client.put(ITEM, headers=jean, data=body, content_type=content_type)
    assert words in assert_problem(r, status)["detail"]
    assert everything(read_store) == before


QUOTED = (b"<%s/catalog_items/carrots> a <https://github.com/datafoodconsortium/ontology/releases/latest/download/"
          b"DFC_BusinessOntology.owl#CatalogItem> ; <urn:x:note> << <urn:x:s> <urn:x:p> <urn:x:o> >> ." % JEAN.encode())


@pytest.mark.parametrize("path, content_type", [(ITEM, "text/turtle"), ("/api/conformance/validate", "text/turtle")])
def test_a_quoted_triple_is_400_and_changes_nothing(read_client, read_store, jean, path, content_type):
    # RDF-star / RDF 1.2: the Turtle reader takes `<< s p o >>`; nothing the server writes can
    # carry one, so a stored one answered 500 on every read after.
    before = everything(read_store)
    call = read_client.put if path == ITEM else read_client.post
    r = call(path, headers=jean, data=QUOTED, content_type=content_type)
    assert "quoted triple" in assert_problem(r, 400)["detail"]
    assert everything(read_store) == before


PRODUCT = "/api/dfc/enterprises/jean-farm/supplied_products/carrots"


@pytest.mark.parametrize("description, content_type, words", [
    ({"@value": "v", "@language": "en--ltr"}, JSONLD, "not a language tag"),       # the reader dropped it: 201
    ({"@value": "v", "@language": "not a tag"}, JSONLD, "not a language tag"),
    ({"@value": "v", "@language": "ar", "@direction": "rtl"}, JSONLD, "base direction"),
    ('"v"@ar--rtl', "text/turtle", "base direction"),           # stored, then lost by every JSON-LD answer
])
def test_a_text_whose_language_would_be_lost_is_422(read_client, read_store, jean, description, content_type, words):
    before = everything(read_store)
    if content_type == JSONLD:
        body = json.dumps({"@context": "https://www.datafoodconsortium.org", "@id": JEAN + "/supplied_products/carrots",
                           "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Carrots",
                           "dfc-b:description": description}).encode()
    else:
        body = (f"<{JEAN}/supplied_products/carrots> a <https://github.com/datafoodconsortium/ontology/releases/"
                f"latest/download/DFC_BusinessOntology.owl#SuppliedProduct> ; <https://github.com/"
                f"datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#description> "
                f"{description} .").encode()
    r = read_client.put(PRODUCT, headers=jean, data=body, content_type=content_type)
    assert any(words in v["message"] for v in assert_problem(r, 422)["violations"]), r.get_data(as_text=True)
    assert everything(read_store) == before


@pytest.mark.parametrize("value", ["5.5", "5.5E0"])
def test_a_literal_typed_as_an_integer_must_be_one(read_client, read_store, jean, value):
    before = everything(read_store)
    body = assert_problem(read_client.put(ITEM, headers=jean, **jsonld(
        item({"@value": value, "@type": "http://www.w3.org/2001/XMLSchema#integer"}))), 422)
    assert any(v["path"].endswith("#stockLimitation") and v["value"] == value for v in body["violations"])
    assert everything(read_store) == before


def test_a_json_number_with_a_fraction_is_read_as_the_number_it_is(client, jean):
    # JSON-LD writes the number 2.5 under our decimal coercion as "2.5E0"^^xsd:decimal: read
    # generously, as every client sending JSON numbers relies on.
    r = client.put(ITEM, headers=jean, **jsonld(item(2.5)))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    assert client.get(ITEM, headers=jean).get_json()["dfc-b:stockLimitation"] == "2.5"


def test_an_empty_node_nested_in_a_blank_node_is_stored_and_read_back(client, jean):
    # `{}` is a blank node that states nothing; its ETag once failed (a dictionary changed while
    # walked), after the write: 500, then every GET of the document 500.
    doc = {**item(5), "dfc-b:hasQuantity": {"dfc-b:hasUnit": {}}}
    r = client.put(ITEM, headers=jean, **jsonld(doc))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    read = client.get(ITEM, headers=jean)
    assert read.status_code == 200 and read.headers["ETag"] == r.headers["ETag"]


def test_wrong_types_are_422_with_violations(read_client, read_store, jean):
    before = everything(read_store)
    body = assert_problem(read_client.put(ITEM, headers=jean, **jsonld(item("lots"))), 422)
    assert any(v["path"].endswith("#stockLimitation") and v["value"] == "lots"
               and v["focusNode"] == JEAN + "/catalog_items/carrots" for v in body["violations"])
    assert everything(read_store) == before


def test_an_iri_outside_the_callers_enterprise_is_403(read_client, read_store, jean):
    before = everything(read_store)
    intruder = item(5)
    intruder["@id"] = f"{BASE}/api/dfc/enterprises/hub-a/catalog_items/jean-carrots"
    r = read_client.put("/api/dfc/enterprises/hub-a/catalog_items/jean-carrots", headers=jean, **jsonld(intruder))
    assert_problem(r, 403)
    catalog = {"@context": "https://www.datafoodconsortium.org", "@graph": [intruder]}
    r = read_client.post("/api/dfc/enterprises/jean-farm/catalog", headers=jean, **jsonld(catalog))
    assert "outside the namespace" in assert_problem(r, 403)["detail"]
    assert everything(read_store) == before


def test_stale_if_match_is_412_and_changes_nothing(read_client, read_store, jean):
    before = everything(read_store)
    r = read_client.put(ITEM, headers={**jean, "If-Match": '"0123"'}, **jsonld(item(3)))
    assert assert_problem(r, 412)["currentETag"] == read_client.get(ITEM).headers["ETag"]
    assert everything(read_store) == before


def test_a_body_over_the_limit_is_413():
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
def test_a_remote_context_is_never_fetched(read_client, read_store, jean, context_server, where):
    doc = item(3)
    if where == "top":
        doc["@context"] = context_server
    elif where == "list":
        doc["@context"] = ["https://www.datafoodconsortium.org", context_server]
    elif where == "nested":
        doc["dfc-b:references"] = {"@context": context_server, "@id": JEAN + "/supplied_products/carrots"}
    else:
        doc["@context"] = {"@import": context_server}
    before = everything(read_store)
    r = read_client.put(ITEM, headers=jean, **jsonld(doc))
    body = assert_problem(r, 400)
    assert body["context"] == context_server
    assert _CountingHandler.hits == 0
    assert everything(read_store) == before


def test_an_unknown_token_is_401_and_a_malformed_header_too(read_client):
    assert_problem(read_client.put(ITEM, headers={"Authorization": "Bearer nope"}, **jsonld(item(3))), 401)
    assert_problem(read_client.put(ITEM, headers={"Authorization": "Basic abc"}, **jsonld(item(3))), 401)


def test_a_payload_describing_another_resource_than_the_url_is_400(read_client, read_store, jean):
    before = everything(read_store)
    other = item(3)
    other["@id"] = JEAN + "/catalog_items/leeks"
    assert_problem(read_client.put(ITEM, headers=jean, **jsonld(other)), 400)
    assert everything(read_store) == before


# --- issue 9: an outside review's findings 3, 6, 10 and 14 ---------------------------------------

ORDERS = "/api/dfc/enterprises/jean-farm/orders"
TURTLE_PREFIX = ("@prefix dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/"
                 "DFC_BusinessOntology.owl#> .\n")


def held_order(quantity=1, **extra):
    return {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Order",
            "dfc-b:hasOrderStatus": "dfc-v:Held", **extra,
            "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": JEAN + "/offers/carrots",
                              "dfc-b:quantity": quantity}}


@pytest.fixture
def hub_b(request):
    return token_for(client_of(request), f"{BASE}/api/dfc/enterprises/hub-b")


@pytest.mark.parametrize("term, value", [
    ("dfc-b:description", {"@value": "x", "@type": "xsd:decimal"}),
    ("dfc-b:description", {"@value": "maybe", "@type": "xsd:boolean"}),
    ("dfc-b:description", {"@value": "tuesday", "@type": "xsd:dateTime"}),
    ("dfc-b:discount", {"@value": "2024-01-01T00:00:00Z", "@type": "xsd:dateTime"}),
    ("dfc-b:discount", {"@value": "true", "@type": "xsd:boolean"}),
    ("dfc-b:quantity", None),
], ids=["decimal x", "boolean maybe", "dateTime tuesday", "discount as a date", "discount as a boolean",
        "quantity double x"])
def test_an_ill_typed_literal_is_422_and_reserves_nothing(read_client, read_store, jean, hub_b, term, value):
    """Finding 3: the POST answered 500 *after* storing the order and reserving stock."""
    doc = held_order(**{term: value})
    if term == "dfc-b:quantity":
        doc["dfc-b:hasPart"]["dfc-b:quantity"] = {"@value": "x", "@type": "xsd:double"}
    before = everything(read_store)
    body = assert_problem(read_client.post(ORDERS, headers=hub_b, **jsonld(doc)), 422)
    assert body["violations"] and all(v["focusNode"] and v["message"] for v in body["violations"])
    assert everything(read_store) == before
    for accept in ("application/ld+json", "text/turtle"):
        assert read_client.get(ORDERS, headers={**jean, "Accept": accept}).status_code == 200


def _deep_turtle(depth: int) -> str:
    return (TURTLE_PREFIX + f"<{JEAN}/supplied_products/deep> a dfc-b:SuppliedProduct ; dfc-b:name \"deep\" ;"
            + " dfc-b:description" + " [ dfc-b:description" * depth + ' "x"' + " ]" * depth + " .\n")


def test_blank_nodes_nested_1500_deep_are_stored_and_rendered_everywhere(client, store, jean):
    """Finding 3: rendering recursed (RecursionError, a 500 after the write); nothing may recurse."""
    path = "/api/dfc/enterprises/jean-farm/supplied_products/deep"
    r = client.put(path, headers=jean, data=_deep_turtle(1500), content_type="text/turtle")
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    for where in (path, "/api/dfc/enterprises/jean-farm/catalog"):
        for accept in ("application/ld+json", "text/turtle", "application/n-triples"):
            got = client.get(where, headers={"Accept": accept})
            assert got.status_code == 200, (where, accept)
    # The JSON-LD we write reads back (no deeper than DFC_HUB_MAX_JSON_DEPTH) as the same graph.
    doc = client.get(path).get_data()
    assert client.put(path, headers=jean, data=doc, content_type=JSONLD).status_code == 200
    assert len(store.graph(store_name(path))) == 1500 * 1 + 3


def store_name(path):
    from pyoxigraph import NamedNode
    return NamedNode(BASE + path)


def test_a_stored_ill_typed_literal_still_renders(client, store, jean):
    """Finding 3: data already in a store (loaded, or from before the check) never breaks a reader."""
    from pyoxigraph import Literal, NamedNode, Triple
    name = NamedNode(JEAN + "/supplied_products/odd")
    xsd = "http://www.w3.org/2001/XMLSchema#"
    desc = NamedNode("https://github.com/datafoodconsortium/ontology/releases/latest/download/"
                     "DFC_BusinessOntology.owl#description")
    typed = Triple(name, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                   NamedNode(desc.value.replace("#description", "#SuppliedProduct")))
    store.replace_graphs({name: [typed] + [Triple(name, desc, Literal(v, datatype=NamedNode(xsd + t))) for v, t in
                                           (("x", "decimal"), ("1" * 5000, "integer"), ("INF", "double"),
                                            ("1", "boolean"), ("maybe", "boolean"), ("NaN", "float"))]})
    doc = client.get("/api/dfc/enterprises/jean-farm/supplied_products/odd").get_json()
    values = doc["dfc-b:description"]
    assert {"@value": "x", "@type": "xsd:decimal"} in values and True in values
    assert {"@value": "maybe", "@type": "xsd:boolean"} in values
    analyst = token_for(client, "https://analysts.example/ana", ["Analytics"])
    r = client.post("/sparql", headers={**analyst, "Accept": "application/ld+json"},
                    data={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name.value}> {{ ?s ?p ?o }} }}"})
    assert r.status_code == 200 and {"@value": "x", "@type": "xsd:decimal"} in r.get_json()["dfc-b:description"]


@pytest.mark.parametrize("predicate, value, words", [
    ("http://x.test/", "x", "the predicate <http://x.test/> does not end in an XML name"),
    ("http://x.test/p", "ring \x07 twice", "U+0007"),
])
def test_a_document_with_no_rdf_xml_form_is_406_and_every_rdf_xml_answer_parses(client, store, predicate, value,
                                                                                  words):
    """RDF/XML of such a document was no XML (pyoxigraph wrote an element `<oxprefix:>`, or the
    control character as it is): SPARQLWrapper's and rdflib's default format could not read it."""
    from pyoxigraph import Literal, NamedNode, Triple
    name = NamedNode(JEAN + "/supplied_products/odd")
    typed = Triple(name, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), NamedNode(
        "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#SuppliedProduct"))
    store.replace_graphs({name: [typed, Triple(name, NamedNode(predicate), Literal(value))]})
    path = "/api/dfc/enterprises/jean-farm/supplied_products/odd"
    body = assert_problem(client.get(path, headers={"Accept": "application/rdf+xml"}), 406)
    assert words in body["detail"] and body["available"] == ["text/turtle", "application/n-triples"]
    assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 200
    carrots = client.get("/api/dfc/enterprises/jean-farm/supplied_products/carrots",
                         headers={"Accept": "application/rdf+xml"})
    assert carrots.status_code == 200 and ET.fromstring(carrots.get_data()).tag.endswith("RDF")


@pytest.mark.parametrize("scopes", [["ReadProducts"], ["Analytics"], ["ReadEnterprise", "WriteProducts"]])
def test_order_listings_need_an_order_scope_as_a_single_order_does(client, hub_b, scopes):
    """Finding 6: a ReadProducts-only token listed every order of its enterprise in full."""
    placed = client.post(ORDERS, headers=hub_b, **jsonld(held_order()))
    assert placed.status_code == 201
    for who in (JEAN, f"{BASE}/api/dfc/enterprises/hub-b"):
        token = token_for(client, who, scopes)
        assert_problem(client.get(placed.headers["Location"][len(BASE):], headers=token), 403)
        assert_problem(client.get(ORDERS, headers=token), 403)
        assert_problem(client.get("/api/dfc/enterprises/jean-farm/Orders", headers=token), 403)
    hub_a = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a", scopes)
    assert_problem(client.get("/api/dfc/enterprises/hub-a/sale_sessions/week-48/wholesale_orders",
                              headers=hub_a), 403)
    reader = token_for(client, JEAN, ["ReadOrders"])
    listed = client.get(ORDERS, headers=reader).get_json()
    assert placed.headers["Location"] in [n["@id"] for n in listed.get("@graph", [listed])]


BAD_IN_IRIS = ["%20", "%7C", "%3E", "%3C", "%22", "%00", "%5C", "%7B", "%7D", "%5E", "%60", "%FF", "%0A"]
ROUTES = [("GET", "/api/dfc/enterprises/jean-farm/offers/a{c}b"),
          ("PUT", "/api/dfc/enterprises/jean-farm/offers/a{c}b"),
          ("DELETE", "/api/dfc/enterprises/jean-farm/offers/a{c}b"),
          ("GET", "/api/dfc/enterprises/jean-farm/orders/a{c}b"),
          ("PUT", "/api/dfc/enterprises/jean-farm/orders/a{c}b"),
          ("DELETE", "/api/dfc/enterprises/jean-farm/orders/a{c}b"),
          ("GET", "/api/dfc/enterprises/jean-farm/orders/a{c}b/order_lines"),
          ("GET", "/api/dfc/enterprises/jean-farm/orders/x/order_lines/a{c}b"),
          ("GET", "/api/dfc/enterprises/jean-farm/orders/x/deliveries/a{c}b"),
          ("PUT", "/api/dfc/enterprises/jean-farm/orders/x/deliveries/a{c}b"),
          ("DELETE", "/api/dfc/enterprises/jean-farm/orders/x/deliveries/a{c}b"),
          ("POST", "/api/dfc/enterprises/jean-farm/orders/x/deliveries/a{c}b/ship"),
          ("POST", "/api/dfc/enterprises/hub-a/sale_sessions/a{c}b/close"),
          ("GET", "/api/dfc/enterprises/hub-a/sale_sessions/a{c}b/summary"),
          ("GET", "/api/dfc/enterprises/hub-a/sale_sessions/a{c}b/wholesale_orders"),
          ("GET", "/api/dfc/enterprises/a{c}b"), ("GET", "/api/dfc/enterprises/a{c}b/settings"),
          ("POST", "/api/dfc/enterprises/a{c}b/orders"), ("GET", "/api/dfc/enterprises/a{c}b/catalog")]


@pytest.mark.parametrize("char", BAD_IN_IRIS)
def test_a_path_with_characters_no_iri_holds_is_400_or_404_without_a_token(read_client, read_store, jean, char):
    """Finding 10: every route answered 500 for these, before any authentication."""
    before = everything(read_store)
    for method, route in ROUTES:
        for headers in ({}, jean):
            r = read_client.open(route.format(c=char), method=method, headers=headers, **jsonld(item(3)))
            assert r.status_code in (400, 404), (method, route, char, r.status_code)
            assert r.mimetype == "application/problem+json"
    assert everything(read_store) == before


@pytest.mark.parametrize("rid", ["..%2F..%2F..%2Fhub-a%2Foffers%2Fjean-carrots", "..", ".", "..%2F", "a%2F..%2Fb",
                                 "%2E%2E", "x%2F.%2Fy", ".hidden"])
def test_ids_with_dot_segments_are_refused(read_client, read_store, jean, rid):
    """Finding 14: `offers/..%2F..%2F..%2Fhub-a%2Foffers%2Fjean-carrots` was stored (201)."""
    before = everything(read_store)
    doc = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Offer"}
    for method in ("PUT", "GET", "DELETE"):
        r = read_client.open(f"/api/dfc/enterprises/jean-farm/offers/{rid}", method=method, headers=jean, **jsonld(doc))
        assert r.status_code in (400, 404, 405, 422), (method, r.status_code)
        assert r.status_code not in (200, 201, 204)
    r = read_client.put(f"/api/dfc/enterprises/jean-farm/orders/{rid}", headers=jean, **jsonld(held_order()))
    assert r.status_code in (400, 404, 405)
    assert everything(read_store) == before


@pytest.mark.parametrize("iri, words", [
    (JEAN + "/catalog_items/../../hub-a/catalog_items/jean-carrots", "dot segment"),
    (JEAN + "/catalog_items/./carrots", "dot segment"),
    (JEAN + "/catalog_items/..%2F..%2Fhub-a%2Fcatalog_items%2Fjean-carrots", "encoded slash"),
    (JEAN + "/catalog_items/x%5c..%5cy", "encoded slash"),
])
def test_payload_iris_with_dot_segments_or_encoded_slashes_are_422(read_client, read_store, jean, iri, words):
    """Finding 14 in a body: a catalogue import naming `jean-farm/../hub-a/…` would write hub-a's IRI."""
    before = everything(read_store)
    catalog = {"@context": "https://www.datafoodconsortium.org", "@graph": [item(3) | {"@id": iri}]}
    r = read_client.post("/api/dfc/enterprises/jean-farm/catalog", headers=jean, **jsonld(catalog))
    body = assert_problem(r, 422)
    assert words in body["violations"][0]["message"]
    assert everything(read_store) == before


@pytest.mark.parametrize("value", ["http://x.test/a b", {"@id": "http://x.test/a|b"}, {"@id": "a b"},
                                   "dfc-v:Held now", {"@id": "http://[oops"}])
def test_an_invalid_iri_in_a_payload_is_422_saying_which(read_client, read_store, hub_b, value):
    """Finding 16: JSON-LD readers drop invalid IRIs silently; the sender must hear of it."""
    before = everything(read_store)
    r = read_client.post(ORDERS, headers=hub_b, **jsonld(held_order(**{"dfc-b:orderedBy": value})))
    body = assert_problem(r, 422)
    text = value if isinstance(value, str) else value["@id"]
    assert any(v["value"] == text and v["pointer"].endswith("orderedBy" if isinstance(value, str) else "@id")
               for v in body["violations"])
    assert everything(read_store) == before


@pytest.mark.parametrize("method, path, who", [
    ("POST", ORDERS, "hub-b"), ("PUT", ITEM, "jean-farm"), ("POST", "/api/dfc/enterprises/jean-farm/catalog", "jean-farm"),
    ("POST", "/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", "hub-a"),
])
def test_an_answer_nobody_accepts_is_406_before_anything_is_written(read_client, read_store, method, path, who):
    """Finding 3's last rule: a request that fails (here 406, after the write on main) leaves no write."""
    token = token_for(read_client, f"{BASE}/api/dfc/enterprises/{who}")
    doc = held_order() if path == ORDERS else item(7)
    if path.endswith("/catalog"):
        doc = {"@context": doc.pop("@context"), "@graph": [doc]}
    before = everything(read_store)
    r = read_client.open(path, method=method, headers={**token, "Accept": "text/html"}, **jsonld(doc))
    assert_problem(r, 406)
    assert everything(read_store) == before



def test_a_write_whose_document_has_no_rdf_xml_form_answers_in_json_ld_not_406(client):
    """Whether a graph has an RDF/XML form is known only once it is written: the answer was a 406
    after the write, reporting a change as failed. The write now answers in the default type, as
    RFC 9110 lets a server disregard Accept; a read still says 406, with the types that carry it."""
    token = token_for(client, JEAN)
    doc = {**item(7), "urn:x:1": "a term RDF/XML cannot write as an element"}
    r = client.put(ITEM, headers={**token, "Accept": "application/rdf+xml"}, **jsonld(doc))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    assert r.mimetype == "application/ld+json" and "urn:x:1" in r.get_data(as_text=True)
    got = client.get(ITEM, headers={"Accept": "application/ld+json"})
    assert got.headers["ETag"] == r.headers["ETag"]         # the tag of the representation it sent
    assert_problem(client.get(ITEM, headers={"Accept": "application/rdf+xml"}), 406)

@pytest.mark.parametrize("stock, words", [("1e21", "beyond the numbers"), ("-1000000000000001", "beyond the numbers"),
                                          ("1000000000000000", None)])
def test_a_number_beyond_what_the_store_computes_with_is_refused_saying_where(client, stock, words):
    """Oxigraph's decimals stop near 1.7e20: a stock or a price of 1e21 was stored, and a sum over
    it failed into 0 without a word. A number the server computes with is at most 10^15 either way."""
    token = token_for(client, JEAN)
    doc = {**item(7), "dfc-b:stockLimitation": {"@value": stock, "@type": "xsd:decimal"}}
    r = client.put(ITEM, headers=token, **jsonld(doc))
    if words is None:
        assert r.status_code == 200, r.get_data(as_text=True)
        return
    body = assert_problem(r, 422)
    assert words in body["violations"][0]["message"] and body["violations"][0]["path"].endswith("stockLimitation")

@pytest.mark.parametrize("extra, code", [
    ({"dfc-b:description": {"@value": "x", "@type": "xsd:decimal"}}, "ill-typed"),
    ({"dfc-b:orderedBy": "http://x.test/a b"}, "invalid-iri"),
    ({"dfc-b:description": {"@value": "x", "@language": "en--ltr"}}, "invalid-language"),
    ({"dfc-b:description": {"@value": "x", "@language": "ar", "@direction": "rtl"}}, "ill-typed"),
])
def test_the_validator_reports_what_the_server_would_refuse(read_client, extra, code):
    """An integrator's check never calls conforming a payload the server answers 422."""
    r = read_client.post("/api/conformance/validate", **jsonld(held_order(**extra)))
    assert r.status_code == 200 and r.get_json()["conforms"] is False
    assert code in {x["hintCode"] for x in r.get_json()["results"] if x["severity"] == "Violation"}


# --- issue 20, findings 3 and 7: dates the server computes with, literals of a bounded length --

WEEK_49 = "/api/dfc/enterprises/hub-a/sale_sessions/week-49"


def _session(end=None) -> dict:
    week = sale_week(MONDAY + dt.timedelta(days=7))
    return {"@context": "https://www.datafoodconsortium.org", "@id": BASE + WEEK_49, **week,
            **({"dfc-b:endDate": end} if end is not None else {})}


@pytest.mark.parametrize("end", ["9999-12-31", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "0999-12-31",
                                 "9000-01-01", {"@value": "10000-01-01T00:00:00Z", "@type": "xsd:dateTime"},
                                 {"@value": "2026-13-01", "@type": "xsd:date"}, "10000-01-01"])
def test_a_date_the_server_cannot_compute_with_is_422_in_any_document(client, store, hub_b, end):
    """Issue 20, finding 3: a date the server adds to (a day, an offset, a grace period) past Python's
    last one raised OverflowError in every reader; such a date is refused on the way in, under any term."""
    hub_a = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    before = everything(store)
    body = assert_problem(client.put(WEEK_49, headers=hub_a, **jsonld(_session(end))), 422)
    assert [v["path"].rsplit("#", 1)[-1] for v in body["violations"]] == ["endDate"], body
    assert "1000-01-01" in body["violations"][0]["message"] or "not a valid" in body["violations"][0]["message"]
    typed = {"@value": "9999-12-31T00:00:00Z", "@type": "xsd:dateTime"}
    assert_problem(client.post(ORDERS, headers=hub_b, **jsonld(held_order(**{"dfc-b:description": typed}))), 422)
    assert everything(store) == before


@pytest.mark.parametrize("end", ["8999-12-31T23:59:59Z", "1000-01-01", "1000-01-01T00:00:00+14:00"])
def test_dates_inside_the_range_are_kept(client, end):
    hub_a = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    r = client.put(WEEK_49, headers=hub_a, **jsonld(_session(end)))
    assert r.status_code == 201, r.get_data(as_text=True)


@pytest.mark.parametrize("text", ["soon", "date", "12/31/9999"])
def test_a_placeholder_that_is_no_date_stays_as_real_payloads_send_it(client, jean, text):
    """Real payloads carry placeholders where a date goes; no reader computes with them."""
    r = client.put(ITEM, headers=jean, **jsonld(item(3) | {"dfc-b:expiryDate": text}))
    assert r.status_code == 200, r.get_data(as_text=True)


LONGEST = 10_000     # characters in one literal (API.md: 422 beyond)


@pytest.mark.parametrize("where", ["order", "line", "person", "catalogue", "session"])
def test_a_literal_longer_than_the_limit_is_422_naming_its_term_in_every_document(client, store, jean, hub_b, where):
    """Issue 20, finding 7: documents that accumulate (orders, lines, persons, …) took literals of any length."""
    hub_a = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")

    def send(size):
        text = "é" * size                       # characters, not bytes
        if where == "order":
            return client.post(ORDERS, headers=hub_b, **jsonld(held_order(**{"dfc-b:description": text})))
        if where == "line":
            doc = held_order()
            doc["dfc-b:hasPart"]["dfc-b:description"] = text
            return client.post(ORDERS, headers=hub_b, **jsonld(doc))
        if where == "person":
            from support.orders import checkout
            return checkout(client, hub_a, "hub-a", name=text)
        if where == "catalogue":
            return client.put(ITEM, headers=jean, **jsonld(item(3) | {"dfc-b:description": text}))
        return client.put(WEEK_49, headers=hub_a, **jsonld(_session() | {"dfc-b:description": text}))

    before = everything(store)
    body = assert_problem(send(LONGEST + 1), 422)
    [said] = body["violations"]
    assert said["path"].endswith("#firstName" if where == "person" else "#description"), said
    assert str(LONGEST) in said["message"] and len(said["value"] or "") < 200, said
    assert everything(store) == before
    assert send(LONGEST).status_code in (200, 201)


def test_an_iri_longer_than_the_limit_is_422(client, store, hub_b):
    before = everything(store)
    body = assert_problem(client.post(ORDERS, headers=hub_b, **jsonld(held_order(
        **{"dfc-b:description": {"@id": "http://notes.example/" + "x" * 5000}}))), 422)
    assert any(v["path"].endswith("#description") and "4096" in v["message"] for v in body["violations"]), body
    assert everything(store) == before


HUB_NS = "https://w3id.org/dfc-order-hub/ns#"


@pytest.mark.parametrize("where, types, status", [
    ("/webhooks/forged", ["dfc-b:Order"], 400),          # anywhere in the seller's namespace, once
    ("/sale_sessions/week-49", ["dfc-b:Order"], 400),
    ("/anything", ["dfc-b:Order"], 400),
    ("/orders/o-9/order_lines/1", ["dfc-b:Order"], 400),
    ("/orders/o-9", ["dfc-b:Order", HUB_NS + "WebhookSubscription"], 422),   # one of our kinds beside
    ("/orders/o-9", ["dfc-b:Order", "dfc-b:SaleSession"], 422),      # closed as a session, its event sent
    ("/orders/o-9", ["dfc-b:Order", "dfc-b:Enterprise"], 422),
    # ids no route takes: the order held stock nobody could reach again
    *((f"/orders/{oid}", ["dfc-b:Order"], 400) for oid in ("x1#frag", ".hidden", "%C3%9Cn%C3%AF", "x%23z", "x;p", "-x~")),
])
def test_an_order_is_made_in_the_orders_collection_as_an_order_only(client, store, where, types, status):
    """A buyer's POST once made its order wherever its @id said in the seller's namespace, with
    whatever types: a document at a webhook's IRI, typed and written as a subscription."""
    from support.orders import CARROTS, HUB_A, order
    hub = token_for(client, HUB_A)
    before = everything(store)
    body = order((CARROTS, 1), id_=JEAN + where)
    body |= {"@type": types, HUB_NS + "subscriber": {"@id": HUB_A}, HUB_NS + "endpoint": "https://evil.example/"}
    r = client.post("/api/dfc/enterprises/jean-farm/orders", headers={**hub, "Content-Type": JSONLD},
                    data=json.dumps(body))
    problem = assert_problem(r, status)
    assert JEAN + where in json.dumps(problem)
    assert everything(store) == before


def test_an_order_may_still_name_itself_in_the_orders_collection_in_either_spelling(client):
    from support.orders import CARROTS, HUB_A, order
    hub = token_for(client, HUB_A)
    for iri in (JEAN + "/orders/mine-1", f"{BASE}/api/dfc/Enterprises/jean-farm/Orders/mine-2"):
        r = client.post("/api/dfc/enterprises/jean-farm/orders", headers={**hub, "Content-Type": JSONLD},
                        data=json.dumps(order((CARROTS, 1), id_=iri)))
        assert r.status_code == 201, r.get_data(as_text=True)
        assert r.headers["Location"].endswith(iri.rsplit("/", 1)[-1])


def test_an_order_also_typed_as_an_offer_prices_nothing_for_anyone(client, store):
    """A buyer's order typed dfc-b:Offer, `offers` the seller's carrots at 0.01, was read by pricing
    as the seller's own offer: every buyer's line was frozen at 0.01. Now it is a 422."""
    from support.orders import HUB_B
    hub_b = token_for(client, HUB_B)
    before = everything(store)
    body = {"@context": "https://www.datafoodconsortium.org", "@id": JEAN + "/orders/cheap",
            "@type": ["dfc-b:Order", "dfc-b:Offer"], "dfc-b:orderedBy": HUB_B, "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:offers": JEAN + "/catalog_items/carrots",
            "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 0.01, "dfc-b:hasUnit": "dfc-m:Euro"}}
    r = client.post("/api/dfc/enterprises/jean-farm/orders", headers={**hub_b, "Content-Type": JSONLD},
                    data=json.dumps(body))
    problem = assert_problem(r, 422)
    assert [v["value"] for v in problem["violations"]] == [
        "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#Offer"]
    assert everything(store) == before


@pytest.mark.parametrize("path, doc, status", [
    # a contract POSTed at a webhook's IRI, worded as a subscription: listed as the farm's webhook
    ("contracts", {"@id": JEAN + "/webhooks/forged"}, 400),
    ("contracts", {"@type": ["hub:Contract", "hub:WebhookSubscription"]}, 422),
    # a product POSTed with an id anywhere in its namespace: a document no route could delete
    *(("supplied_products", {"@id": JEAN + where, "@type": "dfc-b:SuppliedProduct"}, 400)
      for where in ("/webhooks/w1", "/orders/o1", "/settings", "/catalog", "/supplied_products/x#y", "/supplied_products/.x")),
])
def test_a_resource_is_posted_in_its_collection_as_its_kind_only(client, store, jean, path, doc, status):
    base = {"contracts": {"@context": ["https://www.datafoodconsortium.org", {"hub": HUB_NS}], "@type": "hub:Contract",
                          "hub:consumer": {"@id": f"{BASE}/api/dfc/enterprises/hub-a"},
                          "dfc-b:startDate": MONDAY.date().isoformat(),
                          "dfc-b:endDate": (MONDAY + dt.timedelta(days=60)).date().isoformat(),
                          "hub:contractPrice": [{"hub:item": {"@id": JEAN + "/catalog_items/carrots"},
                                                 "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": "2.50",
                                                                    "dfc-b:hasUnit": {"@id": "dfc-m:Euro"}}}]},
            "supplied_products": {"@context": "https://www.datafoodconsortium.org", "dfc-b:name": "Leeks"}}[path]
    before = everything(store)
    r = client.post(f"/api/dfc/enterprises/jean-farm/{path}", headers={**jean, "Content-Type": JSONLD},
                    data=json.dumps({**base, **doc}))
    assert_problem(r, status)
    assert everything(store) == before


def test_a_product_may_still_be_posted_with_an_id_of_its_collection_however_deep(client, jean):
    r = client.post("/api/dfc/enterprises/jean-farm/SuppliedProducts", headers={**jean, "Content-Type": JSONLD},
                    data=json.dumps({"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:SuppliedProduct",
                                     "@id": f"{BASE}/api/dfc/enterprises/jean-farm/SuppliedProducts/1/variant-2",
                                     "dfc-b:name": "Leeks"}))
    assert r.status_code == 201, r.get_data(as_text=True)


def test_an_order_line_named_as_a_history_step_is_renamed_and_forges_no_history(client):
    """A line's id had only to lie under its order: named `{order}/status_changes/1`, with
    hub:changedBy, hub:toStatus and hub:reason, it was the node the server then wrote the first
    step of the supplier's history on: the history showed a confirmation by the producer that
    never happened. A line keeps its id only as a member of the order's `order_lines`."""
    from support.orders import CARROTS, HUB_A, order
    hub = token_for(client, HUB_A)
    iri = JEAN + "/orders/forged-history"
    forged = {"@id": f"{iri}/status_changes/1", HUB_NS + "changedBy": {"@id": JEAN},
              HUB_NS + "reason": "approved by Jean", HUB_NS + "toStatus": {"@id": HUB_NS + "confirmed"}}
    r = client.post("/api/dfc/enterprises/jean-farm/orders", headers={**hub, "Content-Type": JSONLD},
                    data=json.dumps(order((CARROTS, 1, forged), id_=iri)))
    assert r.status_code == 201, r.get_data(as_text=True)
    path = iri.removeprefix(BASE)
    assert client.post(path + "/status", headers=hub, json={"status": "placed"}).status_code == 200
    from pyoxigraph import NamedNode
    doc = client.application.extensions["dfc_hub"].store.graph(NamedNode(iri))
    steps = {t.object for t in doc if t.subject.value == iri and t.predicate.value == HUB_NS + "statusChange"}
    lines = {t.object for t in doc if t.subject.value == iri and t.predicate.value.endswith("#hasPart")}
    assert steps and not steps & lines and all("/order_lines/" in line.value for line in lines)
    assert not [t for t in doc if t.subject in steps and t.object.value == "approved by Jean"]
    assert {t.object.value for t in doc if t.subject in steps and t.predicate.value == HUB_NS + "changedBy"} == {HUB_A}
