"""The catalogue and enterprise API through the real Flask app (API.md)."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from app.rdf.answer_context import own_contexts
from conftest import BASE, JSONLD, admin, client_of, jsonld, token_for

JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
CTX = "https://www.datafoodconsortium.org"


def triples(response, media=JSONLD):
    fmt = {JSONLD: ox.RdfFormat.JSON_LD, "text/turtle": ox.RdfFormat.TURTLE,
           "application/n-triples": ox.RdfFormat.N_TRIPLES}[media]
    body = response.get_data()
    if media == JSONLD:
        from app.rdf import read_payload
        return read_payload(body, JSONLD, None, own=own_contexts(BASE)).triples
    return [q.triple for q in ox.parse(body, format=fmt)]


def product(name="Leeks", iri=None):
    doc = {"@context": CTX, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": name,
           "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:hasUnit": "dfc-m:Kilogram",
                                 "dfc-b:value": "1"}}
    if iri is not None:
        doc["@id"] = iri
    return doc


@pytest.fixture
def jean(request):
    return token_for(client_of(request), JEAN)


def test_enterprises_are_dfc_jsonld_with_the_dfc_context(read_client):
    r = read_client.get("/api/dfc/enterprises")
    assert r.status_code == 200
    assert r.mimetype == JSONLD
    body = r.get_json()
    # DFC's first, then ours inline: a client with only the DFC context preloaded fetches nothing.
    assert body["@context"][0] == CTX and body["@context"][1]["hub"] == "https://w3id.org/dfc-order-hub/ns#"
    assert {n["@id"] for n in body["@graph"]} >= {JEAN, f"{BASE}/api/dfc/enterprises/hub-a"}
    assert r.headers["X-Total-Count"] == "3"


@pytest.mark.parametrize("media", ["text/turtle", "application/n-triples", JSONLD])
def test_representations_follow_accept_and_say_the_same(read_client, media):
    r = read_client.get("/api/dfc/enterprises/jean-farm/catalog", headers={"Accept": media})
    assert r.status_code == 200 and r.mimetype == media
    canonical = triples(read_client.get("/api/dfc/enterprises/jean-farm/catalog"))
    assert _iso(triples(r, media), canonical)


def test_unsupported_accept_is_406_problem(read_client):
    r = read_client.get("/api/dfc/enterprises", headers={"Accept": "image/png"})
    assert r.status_code == 406 and r.mimetype == "application/problem+json"


def test_dfc_v2_profile_speaks_the_w3id_namespace(read_client):
    r = read_client.get("/api/dfc/enterprises/jean-farm/offers/carrots",
                   headers={"Accept": 'application/ld+json; profile="https://www.datafoodconsortium.org/dfc-v2"'})
    # The URL the DFC 2.0 connectors write (tests/test_dfc_v2.py: every published form resolves).
    assert r.get_json()["@context"][0] == "https://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.json"
    nt = read_client.get("/api/dfc/enterprises/jean-farm/offers/carrots",
                    headers={"Accept": 'text/turtle; profile="dfc-v2"'}).get_data(as_text=True)
    assert "http://w3id.org/dfc/ontology/v2.0.0/src/DFC_BusinessOntology.owl#" in nt


def test_post_with_collection_url_as_id_gets_a_server_id(client, jean):
    collection = f"{JEAN}/supplied_products"
    for given in (collection, collection + "/#", None):
        r = client.post("/api/dfc/enterprises/jean-farm/supplied_products", headers=jean,
                        **jsonld(product(iri=given)))
        assert r.status_code == 201, r.get_data(as_text=True)
        location = r.headers["Location"]
        assert location.startswith(collection + "/") and location != collection + "/#"
        got = client.get(location[len(BASE):])
        assert got.status_code == 200 and got.get_json()["@id"] == location
        assert got.get_json()["dfc-b:name"] == "Leeks"


def test_put_creates_then_replaces_with_etag_and_if_match(client, jean):
    path = "/api/dfc/enterprises/jean-farm/supplied_products/leeks"
    r = client.put(path, headers=jean, **jsonld(product()))
    assert r.status_code == 201 and r.headers["Location"] == BASE + path
    etag = client.get(path).headers["ETag"]
    stale = client.put(path, headers={**jean, "If-Match": '"stale"'}, **jsonld(product("Old leeks")))
    assert stale.status_code == 412
    assert client.get(path).get_json()["dfc-b:name"] == "Leeks"
    ok = client.put(path, headers={**jean, "If-Match": etag}, **jsonld(product("Winter leeks")))
    assert ok.status_code == 200
    assert client.get(path).get_json()["dfc-b:name"] == "Winter leeks"
    assert client.get(path).headers["ETag"] != etag


def test_delete_removes_the_document(client, jean):
    path = "/api/dfc/enterprises/jean-farm/offers/carrots"
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=jean).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get(path).mimetype == "application/problem+json"


def test_camelcase_aliases_reach_the_same_resources(read_client, jean):
    r = read_client.get("/api/dfc/Enterprises/jean-farm/CatalogItems/carrots")
    assert r.status_code == 200
    assert r.get_json()["@id"] == f"{JEAN}/catalog_items/carrots"
    listed = read_client.get("/api/dfc/Enterprises/jean-farm/Offers").get_json()
    assert listed["@id"] == f"{JEAN}/offers/carrots"


def test_pagination_links_and_bad_parameters(client, jean):
    for i in range(3):
        client.put(f"/api/dfc/enterprises/jean-farm/supplied_products/p{i}", headers=jean, **jsonld(product()))
    r = client.get("/api/dfc/enterprises/jean-farm/supplied_products?per_page=2")
    assert r.headers["X-Total-Count"] == "4"
    assert 'rel="next"' in r.headers["Link"] and len(r.get_json()["@graph"]) == 2
    last = client.get("/api/dfc/enterprises/jean-farm/supplied_products?per_page=2&page=2")
    assert 'rel="next"' not in last.headers["Link"]
    for bad in ("per_page=0", "per_page=abc", "page=-1", "per_page=100000", "page=²", "per_page=٣"):
        bad_r = client.get(f"/api/dfc/enterprises/jean-farm/supplied_products?{bad}")
        assert bad_r.status_code == 400 and bad_r.get_json()["parameter"] in bad


def test_sale_sessions_accept_begin_date_and_js_dates(client):
    hub = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    doc = {"@context": CTX, "@type": "dfc-b:SaleSession",
           "dfc-b:beginDate": "Thu Oct 17 2024 03:58:10 UTC", "dfc-b:endDate": "Fri Oct 25 2024 03:58:10 UTC"}
    r = client.post("/api/dfc/enterprises/hub-a/sale_sessions", headers=hub, **jsonld(doc))
    assert r.status_code == 201, r.get_data(as_text=True)
    nt = {"Accept": "application/n-triples"}
    stored = triples(client.get(r.headers["Location"][len(BASE):], headers=nt), "application/n-triples")
    dates = {t.predicate.value.split("#")[1]: t.object for t in stored if "Date" in t.predicate.value}
    assert dates["startDate"].value == "2024-10-17T03:58:10Z"
    assert dates["startDate"].datatype.value.endswith("#dateTime")
    assert dates["endDate"].value == "2024-10-25T03:58:10Z"


def test_admin_may_create_an_enterprise_and_its_owner_may_edit_it(client):
    doc = {"@context": CTX, "@type": "dfc-b:Enterprise", "dfc-b:name": "Green Valley"}
    assert client.put("/api/dfc/enterprises/green-valley", **jsonld(doc)).status_code == 401
    assert client.put("/api/dfc/enterprises/green-valley", headers=admin(), **jsonld(doc)).status_code == 201
    owner = token_for(client, f"{BASE}/api/dfc/enterprises/green-valley")
    doc["dfc-b:name"] = "Green Valley Farm"
    assert client.put("/api/dfc/enterprises/green-valley", headers=owner, **jsonld(doc)).status_code == 200
    assert client.get("/api/dfc/enterprises/green-valley").get_json()["dfc-b:name"] == "Green Valley Farm"


def test_an_enterprise_with_resources_is_not_deleted(read_client):
    r = read_client.delete("/api/dfc/enterprises/jean-farm", headers=admin())
    assert r.status_code == 409
    assert read_client.get("/api/dfc/enterprises/jean-farm").status_code == 200


def test_turtle_bodies_are_accepted(client, jean):
    body = f"""@prefix dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#> .
<{JEAN}/supplied_products/beets> a dfc-b:SuppliedProduct ; dfc-b:name "Beets" ."""
    r = client.put("/api/dfc/enterprises/jean-farm/supplied_products/beets", headers=jean,
                   data=body, content_type="text/turtle")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert client.get("/api/dfc/enterprises/jean-farm/supplied_products/beets").get_json()["dfc-b:name"] == "Beets"


def _iso(a, b) -> bool:
    def canon(ts):
        d = ox.Dataset([ox.Quad(t.subject, t.predicate, t.object) for t in ts])
        d.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        return set(d)
    return canon(a) == canon(b)


def test_json_numbers_and_strings_mean_the_same_number(client, jean):
    a = product(); a["dfc-b:hasQuantity"]["dfc-b:value"] = "1.50"
    client.put("/api/dfc/enterprises/jean-farm/supplied_products/a", headers=jean, **jsonld(a))
    b = product(); b["dfc-b:hasQuantity"]["dfc-b:value"] = 1.5
    client.put("/api/dfc/enterprises/jean-farm/supplied_products/b", headers=jean, **jsonld(b))
    qa = client.get("/api/dfc/enterprises/jean-farm/supplied_products/a").get_json()["dfc-b:hasQuantity"]
    qb = client.get("/api/dfc/enterprises/jean-farm/supplied_products/b").get_json()["dfc-b:hasQuantity"]
    assert qa["dfc-b:value"] == qb["dfc-b:value"] == "1.5"     # exact: our context types it xsd:decimal
    assert json.dumps(qa) == json.dumps(qb)


def test_numbers_json_cannot_hold_stay_typed_literals(client, jean):
    body = f"""@prefix dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{JEAN}/supplied_products/odd> a dfc-b:SuppliedProduct ; dfc-b:name "Odd" ; dfc-b:alcoholPercentage "NaN"^^xsd:double ."""
    assert client.put("/api/dfc/enterprises/jean-farm/supplied_products/odd", headers=jean,
                      data=body, content_type="text/turtle").status_code == 201
    r = client.get("/api/dfc/enterprises/jean-farm/supplied_products/odd")
    assert json.loads(r.get_data(as_text=True))["dfc-b:alcoholPercentage"] == {"@value": "NaN", "@type": "xsd:double"}


def test_an_enterprise_without_resources_is_deleted_if_match_permitting(client):
    doc = {"@context": CTX, "@type": "dfc-b:Enterprise", "dfc-b:name": "Short-lived"}
    client.put("/api/dfc/enterprises/short", headers=admin(), **jsonld(doc))
    etag = client.get("/api/dfc/enterprises/short").headers["ETag"]
    assert client.delete("/api/dfc/enterprises/short", headers={**admin(), "If-Match": '"old"'}).status_code == 412
    assert client.delete("/api/dfc/enterprises/short", headers={**admin(), "If-Match": etag}).status_code == 204
    assert client.get("/api/dfc/enterprises/short").status_code == 404


HUB_NS = "https://w3id.org/dfc-order-hub/ns#"


def _graphs(store) -> set[str]:
    return {r["g"].value for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}


def _import(client, eid: str, *nodes):
    return client.post(f"/api/dfc/enterprises/{eid}/catalog", headers={**admin(), "Content-Type": JSONLD},
                       data=json.dumps({"@context": CTX, "@graph": list(nodes)}))


@pytest.mark.parametrize("place, node", [
    # a hub's sale session, of no type: the import replaced it
    ("/api/dfc/enterprises/hub-a/sale_sessions/week-48", {}),
    # a webhook subscription forged to send another enterprise's events to the writer's URL
    ("/api/dfc/enterprises/hub-a/webhooks/forged",
     {"@type": HUB_NS + "WebhookSubscription", HUB_NS + "subscriber": {"@id": JEAN},
      HUB_NS + "endpoint": "https://evil.example/hook", HUB_NS + "active": True, HUB_NS + "cursor": 0,
      HUB_NS + "eventType": "procurement.order_received"}),
    # the same, also calling itself a product, or elsewhere in the namespace
    ("/api/dfc/enterprises/hub-a/webhooks/forged",
     {"@type": [HUB_NS + "WebhookSubscription", "dfc-b:SuppliedProduct"], HUB_NS + "subscriber": {"@id": JEAN}}),
    ("/api/dfc/enterprises/hub-a/supplied_products/forged", {"@type": HUB_NS + "WebhookSubscription"}),
    ("/api/dfc/enterprises/hub-a/catalog", {"@type": HUB_NS + "WebhookSubscription"}),
    ("/api/dfc/enterprises/hub-a", {"@type": ["dfc-b:Enterprise", HUB_NS + "Partner"]}),
    # a delivery forged under a subscription, which the dispatcher would claim and send
    ("/api/dfc/enterprises/hub-a/webhooks/w1/deliveries/9",
     {"@type": HUB_NS + "WebhookDelivery", HUB_NS + "deliveryState": "pending", HUB_NS + "attempts": 0}),
    ("/api/dfc/enterprises/hub-a/webhooks#x", {}),
    ("/api/dfc/enterprises/hub-a/orders/o1", {}),
    ("/api/dfc/enterprises/hub-a/Orders/o2", {"@type": "dfc-b:Address"}),
    ("/api/dfc/enterprises/hub-a/partners/p1", {"@type": HUB_NS + "Partner"}),
    ("/api/dfc/enterprises/hub-a/persons/p1", {}),
    ("/api/dfc/enterprises/hub-a/contracts/c1", {}),
    ("/api/dfc/enterprises/hub-a/events/e1", {}),
    ("/api/dfc/enterprises/hub-a/settings", {}),
    # an enterprise other than the namespace's own (DFC 2.0 drafts name one `…/index#this`)
    ("/api/dfc/enterprises/hub-a/index#this", {"@type": "dfc-b:Enterprise"}),
])
def test_a_catalogue_import_writes_no_document_of_the_servers(client, store, place, node):
    """Every document an import names is replaced: a node of no type at a sale session's IRI wrote
    over it, and one of our types forged a webhook subscription or delivery. Now a node of one of
    our types, another enterprise, or one in the server's collections (orders, sessions, webhooks,
    …) is a 422 whose violation names it, and nothing of the payload is written."""
    hub = f"{BASE}/api/dfc/enterprises/hub-a"
    iri = BASE + place
    before = _graphs(store)
    session = store.graph(ox.NamedNode(f"{hub}/sale_sessions/week-48"))
    r = _import(client, "hub-a", product("Leeks", f"{hub}/supplied_products/new-leeks"),
                {"@id": iri, HUB_NS + "note": "overwritten", **node})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert [v["focusNode"] for v in r.get_json()["violations"]] == [iri]
    assert _graphs(store) == before
    assert store.graph(ox.NamedNode(f"{hub}/sale_sessions/week-48")) == session


def test_the_server_segments_name_every_route_under_an_enterprise_but_the_catalogues(app):
    """A route added later for documents of the server's own is off limits to imports only once
    kinds.SERVER_SEGMENTS names it: this fails until it does."""
    import re
    from app.domain.kinds import KINDS, SERVER_SEGMENTS
    catalogue = {s for k in KINDS.values() if k.segment != "sale_sessions" for s in (k.segment, k.alias)}
    routed = set()
    for rule in app.url_map.iter_rules():
        rest = rule.rule.split("<eid>", 1)[1].strip("/") if "/api/dfc/" in rule.rule and "<eid>" in rule.rule else ""
        first = rest.split("/")[0]
        if first:
            routed |= set(re.findall(r"[A-Za-z_]+", first.split(":")[0].removeprefix("<any("))) if first.startswith("<any(") \
                else {first}
    assert routed - catalogue - SERVER_SEGMENTS == set()
    assert not SERVER_SEGMENTS & catalogue


def test_a_catalogue_import_replaces_no_document_of_another_kind(client, store):
    """A store may hold a document of ours where an import may write (written before imports were
    kept to their kinds): a product named with its IRI would have replaced it: 409."""
    hub = f"{BASE}/api/dfc/enterprises/hub-a"
    forged = ox.NamedNode(f"{hub}/supplied_products/forged")
    with store.transaction() as tx:
        tx.create(forged, [ox.Triple(forged, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                     ox.NamedNode(HUB_NS + "WebhookSubscription"))])
    kept = store.graph(forged)
    r = _import(client, "hub-a", product("Leeks", forged.value))
    assert r.status_code == 409, r.get_data(as_text=True)
    assert r.get_json()["iri"] == forged.value and store.graph(forged) == kept


def test_a_catalogue_import_still_writes_what_dfc_catalogues_carry_and_again(client, store):
    """What real catalogues hold beside products, items and offers: a dfc-b:Catalog, the
    enterprise's address and social media (OFN names them in its namespace), categories, flows,
    fragment ids, other vocabularies' types, and nodes no resource refers to. Twice: a re-sync."""
    hub = f"{BASE}/api/dfc/enterprises/hub-a"
    nodes = [{"@id": hub, "@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A",
              "dfc-b:hasAddress": {"@id": f"{hub}/addresses/1"}},
             {"@id": f"{hub}/addresses/1", "@type": "dfc-b:Address", "dfc-b:city": "Lyon"},
             {"@id": f"{hub}/social_medias/facebook", "@type": "dfc-b:SocialMedia", "dfc-b:URL": "https://example.org"},
             {"@id": f"{hub}/catalogs/main", "@type": "dfc-b:Catalog", "dfc-b:lists": {"@id": f"{hub}/SuppliedProducts/leeks"}},
             {**product("Leeks", f"{hub}/SuppliedProducts/leeks"), "@type": ["dfc-b:SuppliedProduct", "http://schema.org/Product"]},
             {"@id": f"{hub}/SuppliedProducts/leeks#qty", "@type": "dfc-b:QuantitativeValue", "dfc-b:value": 2},
             {"@id": f"{hub}/customer_categories/restaurants", "@type": "dfc-b:CustomerCategory"},
             {"@id": f"{hub}/transformations/t1", "@type": "dfc-b:AsPlannedTransformation"},
             {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 1}]
    for _ in range(2):
        r = _import(client, "hub-a", *nodes)
        assert r.status_code == 200, r.get_data(as_text=True)
    for name in ("addresses/1", "social_medias/facebook", "catalogs/main", "customer_categories/restaurants",
                 "transformations/t1", "catalog"):
        assert store.graph(ox.NamedNode(f"{hub}/{name}")), name


def test_a_resource_written_on_its_own_route_is_of_no_kind_of_ours_beside(client, store):
    """A product PUT also typed as a webhook subscription was written so: 422 now, like the import."""
    iri = f"{BASE}/api/dfc/enterprises/hub-a/supplied_products/twice"
    doc = {**product("Leeks", iri), "@type": ["dfc-b:SuppliedProduct", HUB_NS + "WebhookSubscription"]}
    r = client.put("/api/dfc/enterprises/hub-a/supplied_products/twice", headers={**admin(), "Content-Type": JSONLD},
                   data=json.dumps(doc))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert HUB_NS + "WebhookSubscription" in r.get_json()["violations"][0]["value"]
    assert not store.graph(ox.NamedNode(iri))
