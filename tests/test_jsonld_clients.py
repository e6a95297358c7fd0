"""JSON-LD answers read by a processor we did not write (PyLD) mean what our Turtle says.

PyLD is given only the official DFC contexts (from the reference data), as the DFC connectors and
Open Food Network preload them; any other fetch fails the test. Our context is inline in every
answer (API.md "Strict JSON-LD clients"). tests/test_strict_clients.py does the same over every
GET route, with jsonld.js too.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic, graph_diff

from app.domain.clock import ManualClock
from conftest import BASE, JSONLD, admin, jsonld as jsonld_body, make_app, token_for

JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
HUB_A = f"{BASE}/api/dfc/enterprises/hub-a"
V2 = 'application/ld+json; profile="https://www.datafoodconsortium.org/dfc-v2"'
DFC_1 = ("https://www.datafoodconsortium.org",)
DFC_2 = ("https://w3id.org/dfc/ontology/context/context_2.0.0.json",
         "https://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.json")


def loader_for(client, shared):
    """A PyLD document loader holding only the DFC contexts (the reference data); no fetch."""
    fetched = []

    def load(url, options=None):
        fetched.append(url)
        if url in DFC_1:
            doc = json.loads((shared / "dfc" / "context_1.16.0.json").read_text())
        elif url in DFC_2:
            doc = json.loads((shared / "dfc" / "context_2.0.0.jsonld").read_text())
        else:
            raise AssertionError(f"the answer sent PyLD to fetch {url}")
        return {"contextUrl": None, "documentUrl": url, "document": doc}
    load.fetched = fetched
    return load


def pyld_graph(doc, loader) -> rdflib.Graph:
    """The graph a JSON-LD 1.1 processor reads from a document."""
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
    return rdflib.Graph().parse(data=nquads, format="nt")


def turtle_graph(client, path, accept="text/turtle", headers=None) -> rdflib.Graph:
    r = client.get(path, headers={"Accept": accept, **(headers or {})})
    assert r.status_code == 200, r.get_data(as_text=True)
    return rdflib.Graph().parse(data=r.get_data(as_text=True), format="turtle")


def assert_same(a: rdflib.Graph, b: rdflib.Graph):
    if not isomorphic(a, b):
        _, only_a, only_b = graph_diff(a, b)
        raise AssertionError("JSON-LD only:\n" + only_a.serialize(format="nt")
                             + "\nTurtle only:\n" + only_b.serialize(format="nt"))


@pytest.fixture
def client():
    return make_app(clock=ManualClock(dt.datetime(2026, 11, 23, 9))).test_client()


@pytest.fixture
def orders(client):
    """A customer order at hub A (which makes a wholesale order at Jean's), on the session's Monday."""
    token = token_for(client, HUB_A)
    order = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Order",
             "dfc-b:orderedBy": {"@id": f"{HUB_A}/persons/ali", "@type": "dfc-b:Person",
                                 "dfc-b:firstName": "Ali"},
             "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
             "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{HUB_A}/offers/jean-carrots",
                               "dfc-b:quantity": 1.5}}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=token, **jsonld_body(order))
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"customer": r.headers["Location"][len(BASE):]}


PATHS = [
    "/api/dfc/enterprises",
    "/api/dfc/enterprises/jean-farm",
    "/api/dfc/enterprises/jean-farm/catalog",
    "/api/dfc/enterprises/jean-farm/supplied_products",
    "/api/dfc/enterprises/jean-farm/supplied_products/carrots",
    "/api/dfc/enterprises/jean-farm/catalog_items/carrots",
    "/api/dfc/enterprises/jean-farm/offers/carrots",
    "/api/dfc/enterprises/hub-a/offers/jean-carrots",
    "/api/dfc/enterprises/hub-a/sale_sessions/week-48",
    "/api/dfc/enterprises/hub-a/sale_sessions",
]
ORDER_PATHS = [
    "{customer}",
    "{customer}/order_lines",
    "/api/dfc/enterprises/jean-farm/orders",
    "/api/dfc/enterprises/hub-a/sale_sessions/week-48/wholesale_orders",
    "/api/dfc/enterprises/hub-a/sale_sessions/week-48/summary",
    "/api/dfc/enterprises/hub-a/settings",
]


@pytest.mark.parametrize("accept", [JSONLD, V2])
@pytest.mark.parametrize("path", PATHS)
def test_every_public_answer_expands_to_its_turtle(client, shared, path, accept):
    loader = loader_for(client, shared)
    doc = client.get(path, headers={"Accept": accept}).get_json()
    turtle = "text/turtle" + ('; profile="dfc-v2"' if accept == V2 else "")
    assert_same(pyld_graph(doc, loader), turtle_graph(client, path, turtle))
    # The DFC context comes first, so DFC clients read what they know before our additions, inline.
    assert doc["@context"][0] in (DFC_1 + DFC_2) and loader.fetched == [doc["@context"][0]]
    assert isinstance(doc["@context"][1], dict)


@pytest.mark.parametrize("path", ORDER_PATHS)
def test_orders_and_their_parts_expand_to_their_turtle(client, shared, orders, path):
    path = path.format(**orders)
    loader = loader_for(client, shared)
    r = client.get(path, headers={"Accept": JSONLD, **admin()})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert_same(pyld_graph(r.get_json(), loader), turtle_graph(client, path, headers=admin()))


def test_the_catalogue_keeps_numbers_exact_references_as_iris_and_our_terms(client, shared):
    """The three ways the DFC context alone misreads us (issue 10), each read right now."""
    offer = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Offer",
             "dfc-b:offeredItem": f"{JEAN}/supplied_products/carrots",          # as the FDC app links it
             "dfc-b:offers": f"{JEAN}/catalog_items/carrots",
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": "18.85", "dfc-b:hasUnit": "dfc-m:Euro"}}
    r = client.put("/api/dfc/enterprises/jean-farm/offers/fdc", headers=token_for(client, JEAN),
                   **jsonld_body(offer))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    path = "/api/dfc/enterprises/jean-farm/catalog"
    g = pyld_graph(client.get(path).get_json(), loader_for(client, shared))
    assert_same(g, turtle_graph(client, path))
    HUB = rdflib.Namespace("https://w3id.org/dfc-order-hub/ns#")
    B = rdflib.Namespace("https://github.com/datafoodconsortium/ontology/releases/latest/download/"
                         "DFC_BusinessOntology.owl#")
    on_hand = g.value(rdflib.URIRef(f"{JEAN}/catalog_items/carrots"), HUB.onHand)
    assert on_hand is not None and on_hand.datatype == rdflib.XSD.decimal
    assert g.value(rdflib.URIRef(f"{JEAN}/offers/fdc"), B.offeredItem) == \
        rdflib.URIRef(f"{JEAN}/supplied_products/carrots")
    assert rdflib.Literal("18.85", datatype=rdflib.XSD.decimal) in set(g.objects(None, B.value))


def test_fractions_are_exact_decimal_strings_and_whole_numbers_json_numbers(client, shared):
    token = token_for(client, JEAN)
    product = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:SuppliedProduct",
               "dfc-b:name": "Leeks", "dfc-b:hasQuantity": {
                   "@type": "dfc-b:QuantitativeValue", "dfc-b:hasUnit": "dfc-m:Kilogram", "dfc-b:value": 0.1}}
    client.put("/api/dfc/enterprises/jean-farm/supplied_products/leeks", headers=token, **jsonld_body(product))
    doc = client.get("/api/dfc/enterprises/jean-farm/supplied_products/leeks").get_json()
    assert doc["dfc-b:hasQuantity"]["dfc-b:value"] == "0.1"
    carrots = client.get("/api/dfc/enterprises/jean-farm/catalog_items/carrots").get_json()
    assert isinstance(carrots["dfc-b:stockLimitation"], int)
    g = pyld_graph(doc, loader_for(client, shared))
    assert rdflib.Literal("0.1", datatype=rdflib.XSD.decimal) in set(g.objects())


def test_our_context_is_served_public_and_read_back_offline(client):
    """Still served, unchanged, for clients that name it; and read offline when sent back."""
    r = client.get("/api/contexts/hub.jsonld")
    assert r.status_code == 200 and r.mimetype == JSONLD
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    ctx = r.get_json()["@context"]
    assert ctx["hub"] == "https://w3id.org/dfc-order-hub/ns#" and ctx["dfc-b:offeredItem"] == {"@type": "@id"}
    assert client.get("/api/contexts/nope.jsonld").status_code == 404
    # A document naming our context (as answers did before it went inline) is read offline.
    token = token_for(client, JEAN)
    path = "/api/dfc/enterprises/jean-farm/supplied_products/carrots"
    doc = client.get(path).get_json()
    doc["@context"] = ["https://www.datafoodconsortium.org", f"{BASE}/api/contexts/hub.jsonld"]
    doc["dfc-b:name"] = "Carrots, washed"
    assert client.put(path, headers=token, **jsonld_body(doc)).status_code in (200, 204)
    assert client.get(path).get_json()["dfc-b:name"] == "Carrots, washed"


def test_another_servers_context_at_our_path_is_still_unknown(client):
    doc = {"@context": ["https://www.datafoodconsortium.org", "http://elsewhere.test/api/contexts/hub.jsonld"],
           "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Leeks"}
    r = client.put("/api/dfc/enterprises/jean-farm/supplied_products/leeks",
                   headers=token_for(client, JEAN), **jsonld_body(doc))
    assert r.status_code == 400 and r.get_json()["context"] == "http://elsewhere.test/api/contexts/hub.jsonld"
