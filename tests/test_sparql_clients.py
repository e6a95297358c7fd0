"""`/sparql` driven by the clients analysts use, with their default settings, over real HTTP.

SPARQLWrapper 2.0 and rdflib 7's SPARQLStore each ask for XML by default (SPARQL results XML for
SELECT and ASK, RDF/XML for CONSTRUCT and DESCRIBE): a server that only speaks JSON and Turtle
fails them.
"""
from __future__ import annotations

import csv
import io

import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, SPARQLWrapper

from conftest import ADMIN, running_servers

DFC_B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
PREFIX = f"PREFIX dfc-b: <{DFC_B}>\n"
OFFERS_SELECT = PREFIX + "SELECT ?o WHERE { ?o a dfc-b:Offer } ORDER BY ?o"
OFFERS_CONSTRUCT = PREFIX + "CONSTRUCT { ?o a dfc-b:Offer } WHERE { ?o a dfc-b:Offer }"
ASK = PREFIX + "ASK { ?o a dfc-b:Offer }"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A real `dfc-hub serve --demo` and an analyst's token: (the /sparql URL, the token)."""
    with running_servers(tmp_path_factory.mktemp("sparql-clients")) as start:
        base = start()
        r = requests.post(base + "/api/admin/tokens", headers={"Authorization": f"Bearer {ADMIN}"},
                          json={"agent": "https://analysts.example/ana", "scopes": ["Analytics"]}, timeout=10)
        yield base + "/sparql", r.json()["token"]


def wrapper(endpoint, query, method=None) -> SPARQLWrapper:
    url, token = endpoint
    w = SPARQLWrapper(url)
    w.addCustomHttpHeader("Authorization", f"Bearer {token}")
    w.setQuery(query)
    if method:
        w.setMethod(method)
    return w


def demo_offers(endpoint) -> set[str]:
    url, _ = endpoint
    base = url[: -len("/sparql")]
    return {f"{base}/api/dfc/enterprises/{e}/offers/{o}"
            for e, o in (("jean-farm", "carrots"), ("hub-a", "jean-carrots"), ("hub-b", "jean-carrots"))}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_with_its_default_xml(endpoint, method):
    result = wrapper(endpoint, OFFERS_SELECT, method).query().convert()      # an XML DOM by default
    found = {b.firstChild.data for b in result.getElementsByTagName("uri")}
    assert found == demo_offers(endpoint)


def test_sparqlwrapper_select_as_json_and_csv(endpoint):
    w = wrapper(endpoint, OFFERS_SELECT)
    w.setReturnFormat(JSON)
    rows = w.query().convert()["results"]["bindings"]
    assert {r["o"]["value"] for r in rows} == demo_offers(endpoint)
    w.setReturnFormat(CSV)
    # pandas is no dependency of ours: the csv module reads it as an analyst's notebook would.
    table = list(csv.DictReader(io.StringIO(w.query().convert().decode())))
    assert {r["o"] for r in table} == demo_offers(endpoint)


def test_sparqlwrapper_ask_with_its_default_xml(endpoint):
    dom = wrapper(endpoint, ASK).query().convert()
    assert [b.firstChild.data for b in dom.getElementsByTagName("boolean")] == ["true"]


# SPARQLWrapper 2.0 builds its graph with rdflib's deprecated ConjunctiveGraph: its warning, not ours.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("query", [OFFERS_CONSTRUCT, "DESCRIBE <{offer}>"])
def test_sparqlwrapper_construct_and_describe_with_its_default_rdf_xml(endpoint, query):
    offer = sorted(demo_offers(endpoint))[0]
    g = wrapper(endpoint, query.replace("{offer}", offer)).query().convert()      # an rdflib Graph
    assert isinstance(g, rdflib.Graph)
    offers = {str(s) for s in g.subjects(rdflib.RDF.type, rdflib.URIRef(DFC_B + "Offer"))}
    assert offers == (demo_offers(endpoint) if query == OFFERS_CONSTRUCT else {offer})


def test_one_rdflib_sparqlstore_runs_select_ask_and_construct_with_its_defaults(endpoint):
    url, token = endpoint
    store = SPARQLStore(url, headers={"Authorization": f"Bearer {token}"})
    g = rdflib.Graph(store=store)
    assert {str(r.o) for r in g.query(OFFERS_SELECT)} == demo_offers(endpoint)
    assert g.query(ASK).askAnswer is True
    constructed = g.query(OFFERS_CONSTRUCT).graph
    assert {str(s) for s in constructed.subjects()} == demo_offers(endpoint)
    # Triple patterns go through the store as SELECTs too.
    offer = rdflib.URIRef(sorted(demo_offers(endpoint))[0])
    assert (offer, rdflib.RDF.type, rdflib.URIRef(DFC_B + "Offer")) in g


def test_the_whole_accept_list_decides_per_query_form(endpoint):
    url, token = endpoint
    accept = "application/sparql-results+xml, application/rdf+xml"      # what rdflib sends
    auth = {"Authorization": f"Bearer {token}", "Accept": accept}
    select = requests.get(url, params={"query": OFFERS_SELECT}, headers=auth, timeout=10)
    construct = requests.get(url, params={"query": OFFERS_CONSTRUCT}, headers=auth, timeout=10)
    assert select.headers["Content-Type"].startswith("application/sparql-results+xml")
    assert construct.headers["Content-Type"].startswith("application/rdf+xml")


@pytest.mark.parametrize("path, method", [
    ("/sparql", "get"), ("/api/dfc/enterprises/jean-farm/orders", "get"),
    ("/api/dfc/enterprises/jean-farm/offers/carrots", "delete"), ("/api/admin/tokens", "post"),
])
def test_every_401_names_the_bearer_scheme(endpoint, path, method):
    base = endpoint[0][: -len("/sparql")]
    r = requests.request(method, base + path, params={"query": ASK}, timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer ")
    bad = requests.request(method, base + path, params={"query": ASK}, timeout=10,
                           headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_the_query_page_asks_for_a_token_with_a_bearer_challenge_too(endpoint):
    r = requests.post(endpoint[0], data={"query": ASK, "format": "table"}, headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("text/html")
    assert r.headers["WWW-Authenticate"].startswith("Bearer ") and 'id="token"' in r.text
