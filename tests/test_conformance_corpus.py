"""Every real payload through the validator: its verdict and hint codes recorded, and the
endpoint, the page and `dfc-hub validate` agreeing on each; docs/conformance.md up to date.

Import is more liberal than the check: the payloads tests/test_corpus.py's catalogue import
refuses with 422 (placeholder dates, '£0.27' as a price, a node given as a quantity) do not
conform, and neither do those that name terms no DFC release defines (misspellings, invented
terms), which import reads as meant but other platforms cannot.
"""
from __future__ import annotations

import json
import re
import warnings
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import rdflib
from conftest import CONFORMANCE, JSONLD, make_app

from app.reports import conformance as corpus

DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))
COMMON = {"missing-property", "number-as-string"}   # so common that listing them everywhere hides the rest

# file → (conforms, the hint codes its report holds besides COMMON)
EXPECTED = {
    "dfc/connector-ts_Catalog.json": (True, set()),
    "dfc/connector-ts_CatalogItem.json": (True, set()),
    "dfc/connector-ts_Connector_offer.json": (False, {"sender-term", "unknown-term"}),
    "dfc/connector-ts_CustomerCategory.json": (True, set()),
    "dfc/connector-ts_Enterprise.json": (False, {"unknown-term"}),
    "dfc/connector-ts_Offer.json": (True, {"sender-term"}),
    "dfc/connector-ts_Order.json": (True, {"not-a-date"}),
    "dfc/connector-ts_OrderLine.json": (True, {"deprecated-term"}),
    "dfc/connector-ts_Person.json": (True, set()),
    "dfc/connector-ts_Price.json": (True, set()),
    "dfc/connector-ts_QuantitativeValue.json": (True, set()),
    "dfc/connector-ts_SaleSession.json": (False, {"deprecated-term", "not-a-date", "renamed-term"}),
    "dfc/connector-ts_SuppliedProduct.json": (False, {"unknown-term"}),
    "dfc/ontology-repo_businessAPI_user_1_7.json": (False, {"deprecated-term", "legacy-version", "other-version-term", "unknown-term"}),
    "dfc/std_practical-example_v1.5.1_user-data.json": (False, {"deprecated-term", "legacy-version", "other-version-term", "unknown-term"}),
    "dfc/std_practical-example_v1.5_offer.json": (False, {"legacy-version", "unknown-term"}),
    "dfc/std_practical-example_v1.6.2_user-data.json": (False, {"deprecated-term", "legacy-version", "other-version-term", "unknown-term"}),
    "dfc/std_practical-example_v1.7.4_user-data.json": (False, {"deprecated-term", "other-version-term", "typo-term", "unknown-term"}),
    "dfc/std_practical-example_v1.8.2_user-data.json": (False, {"deprecated-term", "empty-value", "mixed-versions", "other-version-term", "sender-term", "typo-term", "unknown-term"}),
    "dfc/std_practical-example_v1.9_user-data.json": (False, {"boolean-as-string", "deprecated-term", "dropped-key", "empty-value", "legacy-version", "other-version-term", "sender-term", "unknown-term"}),
    "dfc/std_use-cases_order-example_CONVERTED-FROM-YAML.json": (False, {"class-as-property", "deprecated-term", "invalid-iri", "literal-for-object", "not-a-number", "reference-as-string", "renamed-term", "typo-term", "unknown-term"}),
    "dfc/std_v2-draft_enterprise_block3.json": (True, {"deprecated-term", "undefined-prefix"}),
    "dfc/std_v2-draft_person_block3.json": (True, {"undefined-prefix"}),
    "ofn/fdc-shopify-catalog-hodmedod.json": (False, {"other-version-term", "unknown-term"}),
    "ofn/ofn-patch-catalog-item.json": (True, {"legacy-version"}),
    "ofn/ofn-product-get.json": (True, set()),
    "ofn/ofn-put-supplied-product.json": (False, {"unknown-term"}),
    "ofn/pr14423-fdc-send-backorder.json": (True, {"deprecated-term", "js-date", "renamed-term", "sender-term", "undefined-prefix"}),
    "ofn/pr14423-fdc-update-backorder.json": (True, {"deprecated-term", "js-date", "renamed-term", "sender-term", "undefined-prefix"}),
    "ofn/pr14423-swagger-order-get.json": (True, {"deprecated-term", "sender-term", "undefined-prefix"}),
    "ofn/pr14423-swagger-order-post-201-response.json": (True, set()),
    "ofn/shopify-app-catalog-with-flows.json": (False, {"unknown-term"}),
    "ofn/shopify-app-order-held-response.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/shopify-app-order-lines-response.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/shopify-app-orders-bulk-held-and-complete-response.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/swagger-affiliate-sales-data-get.json": (False, {"literal-for-object", "node-for-literal", "unknown-term"}),
    "ofn/swagger-catalog-item-get.json": (True, set()),
    "ofn/swagger-catalog-items-list-get-dfc-v2.json": (True, {"undefined-prefix"}),
    "ofn/swagger-catalog-items-list-get.json": (True, {"undefined-prefix"}),
    "ofn/swagger-offer-get.json": (True, set()),
    "ofn/swagger-offer-put-request.json": (True, {"literal-price"}),
    "ofn/swagger-supplied-product-get.json": (False, {"undefined-prefix", "unknown-term"}),
    "ofn/swagger-supplied-products-index-get.json": (False, {"undefined-prefix", "unknown-term"}),
    "ofn/vcr-backorderjob-01-get-orders-list-response.json": (True, {"deprecated-term", "repeated-type", "sender-term"}),
    "ofn/vcr-backorderjob-02-post-new-order-request.json": (False, {"deprecated-term", "js-date", "renamed-term", "sender-term", "undefined-prefix", "unknown-term"}),
    "ofn/vcr-backorderjob-03-post-new-order-response.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/vcr-backorderjob-04-put-complete-order-request.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/vcr-backorderjob-05-put-complete-order-response.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/vcr-complete-03-put-complete-order-request.json": (False, {"deprecated-term", "empty-value", "sender-term", "unknown-term"}),
    "ofn/vcr-complete-04-put-complete-order-response.json": (True, {"deprecated-term", "sender-term"}),
    "ofn/vcr-removelines-01-get-orders-list-response.json": (True, {"deprecated-term", "repeated-type", "sender-term"}),
    "ofn/vcr-removelines-03-put-complete-no-lines-request.json": (True, {"empty-value"}),
    "ofn/vcr-removelines-04-put-complete-no-lines-response.json": (True, set()),
}


def test_every_corpus_file_has_a_recorded_verdict(shared):
    assert {str(p.relative_to(CONFORMANCE)) for p in corpus.corpus_files()} == set(EXPECTED)


@pytest.fixture(scope="module")
def reports():
    return dict(corpus.reports())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_payload_verdict_and_hints(shared, reports, name):
    conforms, codes = EXPECTED[name]
    report = reports[name]
    assert report.conforms is conforms, report.violations
    assert {r["hintCode"] for r in report.results} - COMMON == codes
    for r in report.results:
        assert r["message"] and r["hint"] and r["severity"] in ("Violation", "Warning", "Info")


def _page_codes(html: str) -> Counter:
    return Counter(re.findall(r'<li class="result" data-hint-code="([^"]+)"', html))


def test_endpoint_page_and_cli_agree_on_every_corpus_file(shared):
    files = corpus.corpus_files()
    cli = subprocess.run([DFC_HUB, "validate", "--format", "json", *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 1, cli.stderr       # some corpus payloads do not conform
    by_file = {Path(entry.pop("file")): entry for entry in json.loads(cli.stdout)}
    client = make_app(demo=False).test_client()
    for path in files:
        body = path.read_bytes()
        endpoint = client.post("/api/conformance/validate", data=body, content_type=JSONLD).get_json()
        assert by_file[path] == endpoint, path.name
        page = client.post("/conformance", data={"payload": body.decode(), "profile": "auto", "syntax": "json-ld"})
        html = page.get_data(as_text=True)
        assert ("Does not conform" in html) == (not endpoint["conforms"]), path.name
        assert _page_codes(html) == Counter(r["hintCode"] for r in endpoint["results"]), path.name


def test_junit_output_fails_the_non_conforming_files_and_errors_the_unreadable(shared, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    files = [CONFORMANCE / name for name in sorted(EXPECTED)] + [broken]
    run = subprocess.run([DFC_HUB, "validate", "--format", "junit", *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    suite = ET.fromstring(run.stdout).find("testsuite")
    cases = {Path(c.get("name")).name: c for c in suite.findall("testcase")}
    failed = {name for name, c in cases.items() if c.find("failure") is not None}
    assert failed == {Path(n).name for n, (ok, _) in EXPECTED.items() if not ok}
    assert cases["broken.json"].find("error") is not None
    assert suite.get("tests") == str(len(files)) and suite.get("errors") == "1"


def test_the_profile_option_reaches_the_report(shared):
    session = str(CONFORMANCE / "dfc/connector-ts_SaleSession.json")
    run = subprocess.run([DFC_HUB, "validate", "--profile", "catalog", "--format", "json", session],
                         capture_output=True, text=True, timeout=120)
    report = json.loads(run.stdout)[0]
    assert report["profile"] == "catalog"
    assert "profile-missing-resource" in {r["hintCode"] for r in report["results"]}


def test_the_docs_table_is_generated_and_up_to_date(shared, tmp_path):
    out = tmp_path / "conformance.md"
    run = subprocess.run([DFC_HUB, "conformance-report", "--output", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.read_text() == corpus.OUTPUT.read_text(), "run `dfc-hub conformance-report` and commit docs/"
    for name, (conforms, _) in EXPECTED.items():
        row = next(line for line in out.read_text().splitlines() if f"`{name}`" in line)
        assert ("| conforms |" in row) == conforms


# --- every report format for every payload: 200, parseable, nothing dropped ----------------------

FORMATS = {"application/json": None, "application/ld+json": "json-ld", "text/turtle": "turtle",
           "application/n-triples": "nt"}
SH = "http://www.w3.org/ns/shacl#"
HUB = "https://w3id.org/dfc-order-hub/ns#"


def _assert_report_answers(client, body: bytes, media: str):
    r = client.post("/api/conformance/validate", data=body, content_type=JSONLD, headers={"Accept": media})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    as_json = client.post("/api/conformance/validate", data=body, content_type=JSONLD).get_json()
    if FORMATS[media] is None:
        assert r.get_json() == as_json
        return
    graph = _parse(r.get_data(as_text=True), FORMATS[media])
    results = list(graph.subjects(rdflib.RDF.type, rdflib.URIRef(SH + "ValidationResult")))
    assert len(results) == len(as_json["results"])          # no result dropped
    focus = {str(o) for o in graph.objects(None, rdflib.URIRef(SH + "focusNode"))}
    # A node the payload left unnamed is found by its path (hub:focusPath), as in the JSON report.
    focus |= {str(o) for o in graph.objects(None, rdflib.URIRef(HUB + "focusPath"))}
    assert {r["focusNode"] for r in as_json["results"] if r["focusNode"] and not r["focusNode"].startswith("_:")} <= focus


def _parse(text: str, fmt: str):
    """Read a report with rdflib; the contexts it names are given inline so that nothing is fetched."""
    if fmt == "json-ld":
        from app.rdf.answer_context import served
        doc = json.loads(text)
        doc["@context"] = served()           # ours restates the DFC context and adds sh:, hub:
        graph = rdflib.Graph()
        with warnings.catch_warnings():     # rdflib 7's JSON-LD parser calls its own deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            graph.parse(data=json.dumps(doc), format="json-ld")
        return graph
    return rdflib.Graph().parse(data=text, format=fmt)


@pytest.mark.parametrize("media", FORMATS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_file_is_reported_in_every_format(shared, name, media):
    _assert_report_answers(_client(), (CONFORMANCE / name).read_bytes(), media)


_APP = []


def _client():
    if not _APP:
        _APP.append(make_app(demo=False))
    return _APP[0].test_client()


# IRIs no JSON-LD processor keeps: spaces, |, braces, angle brackets; and the legal odd ones.
ODD_IRIS = ["http://p.example/items/a b", "http://p.example/items/a|b", "http://p.example/{item}",
            "urn:x:<y>", "relative/item", "_:item", "../up/item", "http://p.example/caf\u00e9"]


def _odd_payload(iri: str) -> bytes:
    return json.dumps({"@context": "https://www.datafoodconsortium.org", "@id": iri, "@type": "dfc-b:CatalogItem",
                       "dfc-b:stockLimitation": 3, "dfc-b:offeredThrough": {"@id": iri + "/offer"}}).encode()


@pytest.mark.parametrize("media", FORMATS)
@pytest.mark.parametrize("iri", ODD_IRIS)
def test_payloads_with_iris_that_are_not_valid_are_reported_in_every_format(iri, media):
    _assert_report_answers(_client(), _odd_payload(iri), media)


def test_an_invalid_iri_is_a_violation_kept_as_text_with_a_hint():
    client = _client()
    body = _odd_payload("http://p.example/items/a b")
    report = client.post("/api/conformance/validate", data=body, content_type=JSONLD).get_json()
    assert report["conforms"] is False
    [bad, _] = [r for r in report["results"] if r["hintCode"] == "invalid-iri"]
    assert (bad["focusNode"], bad["pointer"], bad["severity"]) == ("http://p.example/items/a b", "/@id", "Violation")
    assert "%20" in bad["hint"]
    turtle = client.post("/api/conformance/validate", data=body, content_type=JSONLD,
                         headers={"Accept": "text/turtle"}).get_data(as_text=True)
    graph = _parse(turtle, "turtle")
    assert rdflib.Literal("http://p.example/items/a b") in set(graph.objects(None, rdflib.URIRef(SH + "focusNode")))


def test_the_cli_and_the_page_report_invalid_iris_too(tmp_path):
    files = []
    for i, iri in enumerate(ODD_IRIS):
        files.append(tmp_path / f"odd-{i}.json")
        files[-1].write_bytes(_odd_payload(iri))
    for fmt in ("json", "junit"):
        run = subprocess.run([DFC_HUB, "validate", "--format", fmt, *map(str, files)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        if fmt == "json":
            codes = {entry["file"]: {r["hintCode"] for r in entry["results"]} for entry in json.loads(run.stdout)}
            assert all(("invalid-iri" in codes[str(f)]) == (i < 4) for i, f in enumerate(files))
        else:
            suite = ET.fromstring(run.stdout).find("testsuite")
            assert suite.get("failures") == "4" and suite.get("errors") == "0"
    client = _client()
    for iri in ODD_IRIS:
        page = client.post("/conformance", data={"payload": _odd_payload(iri).decode(), "profile": "auto",
                                                 "syntax": "json-ld"})
        assert page.status_code == 200
        assert ("invalid-iri" in page.get_data(as_text=True)) == (iri in ODD_IRIS[:4])
