"""The validator fails what other platforms cannot read, and its reports are readable RDF.

A term in a DFC namespace that no release defines fails the check (while import reads it as
meant); a focus node the payload left unnamed is named by its path from a named node; the
sh:ValidationReport answers carry the release and hint codes, bind their prefixes, and expand
(PyLD) to the same graph in JSON-LD as in Turtle.
"""
from __future__ import annotations

import json

import pytest
import rdflib
from test_jsonld_clients import assert_same, loader_for, pyld_graph

from conftest import BASE, JSONLD, admin, jsonld

URL = "/api/conformance/validate"
CTX = "https://www.datafoodconsortium.org"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
HUB = rdflib.Namespace("https://w3id.org/dfc-order-hub/ns#")
MISSPELT = {"@context": CTX, "@id": f"{BASE}/api/dfc/enterprises/entre", "@type": "dfc-b:Entreprise",
            "dfc-b:name": "Entre Nous"}
ORDER = {"@context": CTX, "@id": "https://p.example/orders/1", "@type": "dfc-b:Order",
         "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": "three"},
                           {"@type": "dfc-b:OrderLine", "dfc-b:hasQuantity": {
                               "@type": "dfc-b:QuantitiveValue", "dfc-b:value": 1}}]}


def validate(client, doc, accept="application/json"):
    return client.post(URL, data=json.dumps(doc), content_type=JSONLD, headers={"Accept": accept})


def test_a_misspelt_class_fails_the_check_but_is_imported_as_meant(client):
    report = validate(client, MISSPELT).get_json()
    assert report["conforms"] is False
    typo = next(r for r in report["results"] if r["hintCode"] == "typo-term")
    assert typo["severity"] == "Violation" and "Did you mean dfc-b:Enterprise?" in typo["hint"]
    r = client.put("/api/dfc/enterprises/entre", headers=admin(), **jsonld(MISSPELT))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    assert client.get("/api/dfc/enterprises/entre").get_json()["@type"] == "dfc-b:Enterprise"


def test_a_term_of_another_release_stays_a_warning_naming_it(read_client):
    doc = {"@context": CTX, "@id": "https://p.example/org", "@type": "dfc-b:Organization", "dfc-b:name": "Org"}
    report = validate(read_client, doc).get_json()
    other = next(r for r in report["results"] if r["hintCode"] == "other-version-term")
    assert other["severity"] == "Warning" and "DFC 2.0" in other["message"]
    assert not any(r["severity"] == "Violation" and r["hintCode"] == "unknown-term" for r in report["results"])


def test_unnamed_focus_nodes_are_reported_by_their_path_from_a_named_node(read_client):
    results = validate(read_client, ORDER).get_json()["results"]
    focus = {r["focusNode"] for r in results}
    assert "https://p.example/orders/1 › dfc-b:hasPart[0]" in focus                 # "three"
    assert "https://p.example/orders/1 › dfc-b:hasPart[1] › dfc-b:hasQuantity[0]" in focus
    assert not any(f.startswith("_:") for f in focus if f)
    typo = next(r for r in results if r["hintCode"] == "typo-term")
    assert typo["focusNode"].endswith("dfc-b:hasQuantity[0]") and typo["resource"] == "https://p.example/orders/1"


def test_a_node_nothing_names_is_named_by_its_type(read_client):
    doc = {"@context": CTX, "@type": "dfc-b:Entreprise", "dfc-b:name": "x"}
    results = validate(read_client, doc).get_json()["results"]
    assert {r["focusNode"] for r in results} == {"(a dfc-b:Entreprise without @id)"}


@pytest.mark.parametrize("doc", [ORDER, MISSPELT])
def test_the_report_graph_carries_release_hint_codes_and_paths_and_binds_its_prefixes(read_client, shared, doc):
    turtle = validate(read_client, doc, "text/turtle").get_data(as_text=True)
    assert "@prefix sh: <http://www.w3.org/ns/shacl#>" in turtle and "@prefix hub: <" in turtle
    g = rdflib.Graph().parse(data=turtle, format="turtle")
    report = next(g.subjects(rdflib.RDF.type, SH.ValidationReport))
    assert str(g.value(report, HUB.dfcVersion)) == "1.8–1.16"
    assert g.value(report, SH.conforms).toPython() is False
    codes = {str(c) for c in g.objects(None, HUB.hintCode)}
    assert codes == {r["hintCode"] for r in validate(read_client, doc).get_json()["results"]}
    if doc is ORDER:
        paths = {str(p) for p in g.objects(None, HUB.focusPath)}
        assert "https://p.example/orders/1 › dfc-b:hasPart[0]" in paths
    answer = validate(read_client, doc, JSONLD).get_json()
    assert "sh:result" in json.dumps(answer)                     # compacted with the sh: prefix
    assert_same(pyld_graph(answer, loader_for(read_client, shared)), g)
