"""POST /api/conformance/validate and the page /conformance: reports, not writes."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from conftest import BASE, JSONLD, make_app
from test_bad_input import _CountingHandler, context_server  # noqa: F401 - a fixture
from test_bad_input import assert_problem, everything

from app.namespaces import HUB, SH
from app.rdf import parse_body
from app.rdf.answer_context import own_contexts

URL = "/api/conformance/validate"
SESSION = {"@context": "https://www.datafoodconsortium.org", "@id": "https://p.example/s",
           "@type": "dfc-b:SaleSession", "dfc-b:beginDate": "beginDate", "dfc-b:endDate": "2024-10-18T18:00:00Z"}


def post(client, doc, query="", **headers):
    return client.post(URL + query, data=json.dumps(doc), content_type=JSONLD, headers=headers)


def test_a_non_conforming_payload_is_a_200_report_in_the_documented_shape(read_client, read_store):
    before = everything(read_store)
    r = post(read_client, SESSION)
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert body["conforms"] is False and body["dfcVersion"] == "1.8–1.16"
    for result in body["results"]:
        assert {"severity", "focusNode", "path", "value", "message", "hint"} <= set(result)
    bad = next(x for x in body["results"] if x["severity"] == "Violation")
    assert bad["focusNode"] == "https://p.example/s" and bad["value"] == "beginDate" and "placeholder" in bad["hint"]
    assert any(x["hintCode"] == "renamed-term" for x in body["results"])
    assert everything(read_store) == before            # a report stores nothing


def test_no_token_is_needed_and_a_conforming_payload_says_so(read_client):
    doc = dict(SESSION, **{"dfc-b:beginDate": "2024-10-14T08:00:00Z"})
    doc["dfc-b:startDate"] = doc.pop("dfc-b:beginDate")
    body = post(read_client, doc).get_json()
    assert body["conforms"] is True and body["results"] == [] and body["profile"] == "sale_session"


@pytest.mark.parametrize("accept", ["application/ld+json", "text/turtle", "application/n-triples"])
def test_the_report_as_a_shacl_validation_report(read_client, accept):
    r = post(read_client, SESSION, Accept=accept)
    assert r.status_code == 200 and r.mimetype == accept
    store = ox.Store()
    store.extend(ox.Quad(*t) for t in parse_body(r.get_data(), accept, None, own=own_contexts(BASE))[0])
    rows = list(store.query(f"""PREFIX sh: <{SH}> PREFIX hub: <{HUB}>
        SELECT ?conforms ?severity ?focus ?hint WHERE {{
            ?r a sh:ValidationReport ; sh:conforms ?conforms ; sh:result ?x .
            ?x a sh:ValidationResult ; sh:resultSeverity ?severity ; hub:hint ?hint ; sh:focusNode ?focus }}"""))
    json_results = post(read_client, SESSION).get_json()["results"]
    assert len(rows) == len(json_results) and {row["conforms"].value for row in rows} == {"false"}
    assert {row["severity"].value for row in rows} == {SH + "Violation", SH + "Warning"}


@pytest.mark.parametrize("query", ["?profile=catalog", "?profile=order", "?profile=sale_session", ""])
def test_the_profile_decides_what_the_payload_must_hold(read_client, query):
    body = post(read_client, SESSION, query).get_json()
    wrong_kind = any(x["hintCode"].startswith("profile-") for x in body["results"])
    assert wrong_kind == (query in ("?profile=catalog", "?profile=order"))


@pytest.mark.parametrize("data, content_type, status, words", [
    (b"{not json", JSONLD, 400, "not JSON"),
    (b'{"name": "carrots"}', JSONLD, 400, "not JSON-LD"),
    (b"# nothing", "text/turtle", 400, "the body states no triples"),   # not called JSON
    (b"", "application/n-triples", 400, "the body states no triples"),
    (b"<a> <b> <c> .", "text/plain", 415, "send one of"),
    (b"<a> <b> <c> .", None, 415, "Content-Type"),
])
def test_bodies_that_are_not_payloads_are_problems(read_client, data, content_type, status, words):
    r = read_client.post(URL, data=data, content_type=content_type)
    assert words in assert_problem(r, status)["detail"]


def test_a_bad_profile_is_400(read_client):
    assert assert_problem(post(read_client, SESSION, "?profile=invoice"), 400)["parameter"] == "profile"


def test_a_remote_context_is_400_and_never_fetched(read_client, context_server):  # noqa: F811
    r = post(read_client, dict(SESSION, **{"@context": context_server}))
    assert assert_problem(r, 400)["context"] == context_server
    assert _CountingHandler.hits == 0


def test_a_body_over_the_limit_is_413():
    client = make_app(demo=False, max_body_bytes=64 * 1024).test_client()
    big = dict(SESSION, **{"dfc-b:description": "x" * (128 * 1024)})
    assert_problem(post(client, big), 413)


def test_turtle_payloads_are_validated_too(read_client):
    turtle = b"""@prefix dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#> .
    <https://p.example/i> a dfc-b:CatalogItem ; dfc-b:stockLimitation "lots" ."""
    body = read_client.post(URL, data=turtle, content_type="text/turtle").get_json()
    assert body["conforms"] is False and body["results"][0]["hintCode"] == "not-a-number"


# --- the page ----------------------------------------------------------------------------------

def test_the_page_is_a_form_that_works_without_javascript(read_client):
    r = read_client.get("/conformance")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert '<form method="post" action="/conformance" enctype="multipart/form-data">' in html
    assert "<script" not in html and 'name="payload"' in html and 'type="file"' in html


def test_the_page_shows_the_report_grouped_by_resource_with_hints(read_client):
    r = read_client.post("/conformance", data={"payload": json.dumps(SESSION), "profile": "auto", "syntax": "json-ld"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Does not conform" in html
    assert "<h3>https://p.example/s</h3>" in html
    assert html.index('class="severity Violation"') < html.index('class="severity Warning"')
    assert "Did you mean dfc-b:startDate?" in html
    assert json.dumps(SESSION)[:40].replace('"', "&#34;") in html     # the payload stays in the form


def test_the_page_takes_an_uploaded_file(read_client):
    from io import BytesIO
    data = {"file": (BytesIO(json.dumps(SESSION).encode()), "session.json"), "profile": "auto", "syntax": "json-ld"}
    html = read_client.post("/conformance", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "placeholder" in html


def test_the_page_says_what_made_a_payload_unreadable(read_client):
    r = read_client.post("/conformance", data={"payload": "{not json", "profile": "auto", "syntax": "json-ld"})
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert 'id="error"' in r.get_data(as_text=True) and "not JSON" in r.get_data(as_text=True)
