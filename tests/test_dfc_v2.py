"""DFC 2.0 clients: their context URLs, Organization for Enterprise, LDP containers, and our 2.0
terms checked against the DFC 2.0 LinkML schema (../shared/dfc/v2-linkml)."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from app.domain.clock import ManualClock
from app.rdf.contexts import resolve
from app.validation.report import check
from app.validation.terms import dfc_terms, expand
from conftest import BASE, JSONLD, admin, jsonld, make_app, token_for

V2 = "https://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.json"
V2_FORMS = [
    V2,
    "http://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.json",
    "https://w3id.org/dfc/ontology/context/context_2.0.0.json",
    "https://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.jsonld",
    "https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_2.0.0.jsonld",
]
PROFILE = {"Accept": 'application/ld+json; profile="https://www.datafoodconsortium.org/dfc-v2"'}
W3ID_B = "http://w3id.org/dfc/ontology/v2.0.0/src/DFC_BusinessOntology.owl#"
HUB_A = f"{BASE}/api/dfc/enterprises/hub-a"
JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"


@pytest.fixture
def client():
    return make_app(clock=ManualClock(dt.datetime(2026, 11, 23, 9))).test_client()


@pytest.mark.parametrize("url", V2_FORMS)
def test_every_published_form_of_the_2_0_context_resolves_offline(url):
    ctx, version = resolve(url)
    assert version == "2.0.0" and ctx["dfc-b"] == W3ID_B


def test_a_release_folder_holds_only_its_own_context(client):
    doc = {"@context": "https://w3id.org/dfc/ontology/v2.0.0/context/context_1.16.0.json",
           "@type": "dfc-b:Enterprise", "dfc-b:name": "x"}
    assert client.put("/api/dfc/enterprises/x", headers=admin(), **jsonld(doc)).status_code == 400


@pytest.mark.parametrize("context", [V2, "https://www.datafoodconsortium.org"])
def test_an_organization_is_accepted_as_an_enterprise_and_written_back_per_release(client, context):
    doc = {"@context": context, "@type": "dfc-b:Organization", "dfc-b:name": "Les Jardins"}
    r = client.put("/api/dfc/enterprises/jardins", headers=admin(), **jsonld(doc))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    assert client.get("/api/dfc/enterprises/jardins").get_json()["@type"] == "dfc-b:Enterprise"
    v2 = client.get("/api/dfc/enterprises/jardins", headers=PROFILE).get_json()
    assert v2["@type"] == "dfc-b:Organization" and v2["@context"][0] == V2
    turtle = client.get("/api/dfc/enterprises/jardins", headers={"Accept": 'text/turtle; profile="dfc-v2"'})
    assert f"<{W3ID_B}Organization>" in turtle.get_data(as_text=True) or "dfc-b:Organization" in turtle.get_data(as_text=True)
    # Every enterprise listing knows it, whichever name it came by.
    listed = client.get("/api/dfc/enterprises").get_json()["@graph"]
    assert f"{BASE}/api/dfc/enterprises/jardins" in {n["@id"] for n in listed}


def test_an_organization_buys_a_wholesale_order(client):
    """A 2.0 platform's agent, an Organization, orders from Jean as a hub's Enterprise would."""
    buyer = {"@context": V2, "@type": "dfc-b:Organization", "dfc-b:name": "Remote platform"}
    client.put("/api/dfc/enterprises/remote", headers=admin(), **jsonld(buyer))
    order = {"@context": V2, "@type": "dfc-b:Order", "dfc-b:orderedBy": f"{BASE}/api/dfc/enterprises/remote",
             "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{JEAN}/offers/carrots",
                               "dfc-b:quantity": 2}}
    r = client.post("/api/dfc/enterprises/jean-farm/orders",
                    headers=token_for(client, f"{BASE}/api/dfc/enterprises/remote"), **jsonld(order))
    assert r.status_code == 201, r.get_data(as_text=True)
    item = client.get("/api/dfc/enterprises/jean-farm/catalog_items/carrots").get_json()
    assert item["hub:held"] == 2


def test_2_0_payloads_of_every_resource_kind_are_read_and_answered_in_2_0(client):
    """Catalogue resources and a sale session in 2.0, then a customer order: read, stored, and
    answered in 2.0 to a 2.0 client."""
    jean = token_for(client, JEAN)
    writes = [
        ("supplied_products/leeks", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Leeks",
                                     "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue",
                                                           "dfc-b:hasUnit": "dfc-m:Kilogram", "dfc-b:value": 1}}),
        ("catalog_items/leeks", {"@type": "dfc-b:CatalogItem", "dfc-b:sku": "LK",
                                 "dfc-b:references": f"{JEAN}/supplied_products/leeks", "dfc-b:stockLimitation": 7}),
        ("offers/leeks", {"@type": "dfc-b:Offer", "dfc-b:offers": f"{JEAN}/catalog_items/leeks",
                          "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2.5,
                                             "dfc-b:hasUnit": "dfc-m:Euro"}}),
    ]
    for path, doc in writes:
        r = client.put(f"/api/dfc/enterprises/jean-farm/{path}", headers=jean, **jsonld({"@context": V2, **doc}))
        assert r.status_code in (200, 201), (path, r.get_data(as_text=True))
        back = client.get(f"/api/dfc/enterprises/jean-farm/{path}", headers=PROFILE).get_json()
        assert back["@context"][0] == V2 and back["@type"] == doc["@type"]
    session = {"@context": V2, "@type": "dfc-b:SaleSession", "dfc-b:startDate": "2026-11-23T08:00:00Z",
               "dfc-b:endDate": "2026-11-27T18:00:00Z"}
    hub_a = token_for(client, HUB_A)
    assert client.put("/api/dfc/enterprises/hub-a/sale_sessions/w2", headers=hub_a,
                      **jsonld(session)).status_code in (200, 201)
    order = {"@context": V2, "@type": "dfc-b:Order",
             "dfc-b:orderedBy": {"@id": f"{HUB_A}/persons/eve", "@type": "dfc-b:Person", "dfc-b:firstName": "Eve"},
             "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/w2", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{HUB_A}/offers/jean-carrots",
                               "dfc-b:quantity": 1}}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, **jsonld(order))
    assert r.status_code == 201, r.get_data(as_text=True)
    got = client.get(r.headers["Location"][len(BASE):], headers={**hub_a, **PROFILE}).get_json()
    assert got["@context"][0] == V2


@pytest.mark.parametrize("path", [
    "/api/dfc/enterprises", "/api/dfc/enterprises/jean-farm/offers",
    "/api/dfc/enterprises/hub-a/sale_sessions",
])
def test_collections_are_ldp_containers_for_2_0_clients(client, path):
    body = client.get(path, headers=PROFILE).get_json()
    nodes = {n["@id"]: n for n in body["@graph"]}
    here = nodes[BASE + path]
    assert here["@type"] == "ldp:Container"
    members = here["ldp:contains"] if isinstance(here["ldp:contains"], list) else [here["ldp:contains"]]
    assert set(members) == set(nodes) - {BASE + path} and members
    assert all("ldp:Container" != n.get("@type") for i, n in nodes.items() if i != BASE + path)
    # 1.x clients get the documents as before, no container.
    plain = client.get(path).get_json()
    assert BASE + path not in {n["@id"] for n in plain.get("@graph", [plain])}


# --- our 2.0 handling against the DFC 2.0 term list ----------------------------------------------

def linkml_terms(shared) -> tuple[list[str], list[str]]:
    """The classes and slots (properties) of the DFC 2.0 LinkML schema."""
    text = (shared / "dfc" / "v2-linkml" / "dfc_business_linkml.yaml").read_text()

    def section(name):
        body = re.search(rf"^{name}:\n(.*?)(?=^\S)", text, re.S | re.M).group(1)
        return re.findall(r"^  ([A-Za-z_][\w-]*):$", body, re.M)
    return section("classes"), section("slots")


def test_every_2_0_term_is_known_to_us_as_current_or_as_a_2_0_term(shared):
    classes, slots = linkml_terms(shared)
    assert "Organization" in classes and "hasTemplateSaleSession" in slots    # what 2.0 clients write
    terms = dfc_terms()
    for name in classes + slots:
        iri = expand(f"dfc-b:{name}")
        assert terms.kind(iri) or (terms.other_version(iri) or {}).get("in") == "2.0", name


def test_a_2_0_payload_naming_every_2_0_term_has_no_unknown_term(shared):
    classes, slots = linkml_terms(shared)
    graph = [{"@id": f"https://p.example/{c}", "@type": f"dfc-b:{c}"} for c in classes]
    graph.append({"@id": "https://p.example/all", **{f"dfc-b:{s}": "x" for s in slots}})
    report = check(json.dumps({"@context": V2, "@graph": graph}).encode(), JSONLD)
    assert report.dfc_version == "2.0.0"
    flagged = {r["path"] if r["path"] != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" else r["value"]
               for r in report.results if r["hintCode"] in ("unknown-term", "typo-term", "other-version-term")}
    assert flagged == set()
