"""Consolidation options per hub, aggregation by weight, and the session summary (DFC use cases 5, 6)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from pyoxigraph import NamedNode

from app.domain import units
from app.domain.clock import ManualClock
from conftest import ADMIN, admin, jsonld, make_app, token_for
from support.orders import API, CTX, HUB_A, JEAN, add_item, checkout, ledger, lines_of, path_of, wholesale

pytestmark = pytest.mark.calendar     # reads the clock or builds dates: also run with the calendar moved

ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
SETTINGS = "/api/dfc/enterprises/hub-a/settings"
BULK_ITEM = "/api/dfc/enterprises/jean-farm/catalog_items/carrots-bulk"
DFC_M = "https://github.com/datafoodconsortium/taxonomies/releases/latest/download/measures.rdf#"


@pytest.fixture
def client():
    return make_app(clock=ManualClock(dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc))).test_client()


@pytest.fixture
def hub_a(client):
    return token_for(client, HUB_A)


def set_hub(client, token, **settings):
    doc = {"@context": CTX, "@type": "hub:HubSettings", **settings}
    r = client.put(SETTINGS, headers=token, **jsonld(doc))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r


def product(name, value, unit):
    return {"@id": f"{JEAN}/supplied_products/{name}", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": name,
            "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": value,
                                  "dfc-b:hasUnit": f"dfc-m:{unit}"}}


def bulk_catalogue(client, hub_a, bulk=(1, "Kilogram", 20), bags=(("bag-500g", 500, "Gram"), ("bag-1kg", 1, "Kilogram"))):
    """Jean sells carrots in bulk only; his retail bags are made from the bulk (AsPlanned flows).

    Hub A resells the bags: its catalogue items reference Jean's bag products.
    """
    value, unit, stock = bulk
    graph = [product("carrots-bulk", value, unit),
             {"@id": f"{JEAN}/catalog_items/carrots-bulk", "@type": "dfc-b:CatalogItem",
              "dfc-b:references": f"{JEAN}/supplied_products/carrots-bulk", "dfc-b:stockLimitation": stock,
              "dfc-b:offeredThrough": f"{JEAN}/offers/carrots-bulk"},
             {"@id": f"{JEAN}/offers/carrots-bulk", "@type": "dfc-b:Offer",
              "dfc-b:offeredItem": f"{JEAN}/catalog_items/carrots-bulk",
              "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 1.5, "dfc-b:hasUnit": "dfc-m:Euro"}}]
    for name, amount, bag_unit in bags:
        graph += [product(name, amount, bag_unit),
                  {"@id": f"{JEAN}/plans/{name}", "@type": "dfc-b:AsPlannedTransformation",
                   "dfc-b:hasIncome": f"{JEAN}/plans/{name}/in", "dfc-b:hasOutcome": f"{JEAN}/plans/{name}/out"},
                  {"@id": f"{JEAN}/plans/{name}/in", "@type": "dfc-b:AsPlannedConsumptionFlow",
                   "dfc-b:consumes": f"{JEAN}/supplied_products/carrots-bulk"},
                  {"@id": f"{JEAN}/plans/{name}/out", "@type": "dfc-b:AsPlannedProductionFlow",
                   "dfc-b:produces": f"{JEAN}/supplied_products/{name}"}]
    r = client.post("/api/dfc/enterprises/jean-farm/catalog", headers=ADMIN_AUTH, **jsonld({"@context": CTX, "@graph": graph}))
    assert r.status_code == 200, r.get_data(as_text=True)
    hub_graph = []
    for name, *_ in bags:
        hub_graph += [{"@id": f"{HUB_A}/catalog_items/{name}", "@type": "dfc-b:CatalogItem",
                       "dfc-b:references": f"{JEAN}/supplied_products/{name}",
                       "dfc-b:offeredThrough": f"{HUB_A}/offers/{name}"},
                      {"@id": f"{HUB_A}/offers/{name}", "@type": "dfc-b:Offer",
                       "dfc-b:offeredItem": f"{HUB_A}/catalog_items/{name}",
                       "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2, "dfc-b:hasUnit": "dfc-m:Euro"}}]
    r = client.post("/api/dfc/enterprises/hub-a/catalog", headers=hub_a, **jsonld({"@context": CTX, "@graph": hub_graph}))
    assert r.status_code == 200, r.get_data(as_text=True)


def bag(name):
    return f"{HUB_A}/offers/{name}"


# --- settings -----------------------------------------------------------------------------------

def test_hub_settings_default_to_one_order_per_session_and_producer(client, hub_a):
    doc = client.get(SETTINGS, headers=hub_a).get_json()
    assert doc["hub:consolidation"] == "hub:PerSessionAndProducer" and doc["hub:aggregateByWeight"] is False
    set_hub(client, hub_a, **{"hub:consolidation": "hub:PerCustomerOrder", "hub:aggregateByWeight": True})
    doc = client.get(SETTINGS, headers=hub_a).get_json()
    assert doc["hub:consolidation"] == "hub:PerCustomerOrder" and doc["hub:aggregateByWeight"] is True


def test_only_the_hub_changes_its_settings_and_only_to_known_values(client, hub_a):
    other = token_for(client, f"{API}/hub-b")
    doc = {"@context": CTX, "@type": "hub:HubSettings", "hub:aggregateByWeight": True}
    assert client.put(SETTINGS, headers=other, **jsonld(doc)).status_code == 403
    bad = {"@context": CTX, "@type": "hub:HubSettings", "hub:consolidation": "hub:Whenever"}
    r = client.put(SETTINGS, headers=hub_a, **jsonld(bad))
    assert r.status_code == 422 and r.get_json()["violations"][0]["path"].endswith("#consolidation")
    assert client.get(SETTINGS, headers=hub_a).get_json()["hub:aggregateByWeight"] is False
    assert client.get("/api/dfc/enterprises/nobody/settings").status_code == 404


def test_hub_settings_are_readable_by_the_hub_alone(client, hub_a):
    """A hub's settings are its business (issue 9, finding 16): no token 401, another agent 403."""
    assert client.get(SETTINGS).status_code == 401
    assert client.get(SETTINGS, headers=token_for(client, f"{API}/hub-b")).status_code == 403
    assert client.get(SETTINGS, headers=token_for(client, f"{API}/hub-a", ["ReadProducts"])).status_code == 403
    assert client.get(SETTINGS, headers=token_for(client, f"{API}/hub-a", ["ReadEnterprise"])).status_code == 200
    assert client.get(SETTINGS, headers=admin()).status_code == 200


def test_one_wholesale_order_per_customer_order(client, hub_a):
    set_hub(client, hub_a, **{"hub:consolidation": "hub:PerCustomerOrder"})
    ali = checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 1))
    paul = checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 5), name="Paul")
    assert ali.status_code == paul.status_code == 201
    orders_ = wholesale(client, hub_a)
    assert len(orders_) == 2 and ledger(client)["held"] == 6
    assert client.delete(path_of(paul.headers["Location"]), headers=hub_a).status_code == 204
    assert ledger(client)["held"] == 1
    r = client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a)
    assert r.headers["X-Orders-Completed"] == "2"         # Paul's, emptied, completes with no lines
    assert ledger(client) == {"available": 9, "onHand": 10, "held": 0, "committed": 1}


def test_a_hub_item_pointed_at_another_product_sends_the_next_checkout_there(client, hub_a):
    """What a hub's offers lead to upstream is remembered between checkouts, and forgotten once
    the catalogue changes: the next checkout follows the hub's item to its new product."""
    leeks = add_item(client, "jean-farm", "leeks", 50)
    assert checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 1)).status_code == 201
    item = {"@id": f"{HUB_A}/catalog_items/jean-carrots", "@type": "dfc-b:CatalogItem",
            "dfc-b:references": f"{JEAN}/supplied_products/leeks",
            "dfc-b:offeredThrough": f"{HUB_A}/offers/jean-carrots"}
    r = client.post("/api/dfc/enterprises/hub-a/catalog", headers=hub_a, **jsonld({"@context": CTX, "@graph": [item]}))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 2), name="Paul").status_code == 201
    [order] = wholesale(client, hub_a)
    quantities = {line["dfc-b:concerns"]: line["dfc-b:quantity"]
                  for line in lines_of(client.get(path_of(order["@id"]), headers=hub_a).get_json())}
    assert quantities == {f"{JEAN}/offers/carrots": 1, leeks: 2}


def test_a_customer_order_moved_from_one_producer_to_another_moves_its_wholesale_lines(client, hub_a):
    """A checkout reads only the wholesale orders of the producers it goes to, and those its current lines are in."""
    r = client.put("/api/dfc/enterprises/leo-farm", headers=ADMIN_AUTH,
                   **jsonld({"@context": CTX, "@type": "dfc-b:Enterprise", "dfc-b:name": "Leo's farm"}))
    assert r.status_code == 201, r.get_data(as_text=True)
    beans = add_item(client, "leo-farm", "beans", 50)
    hub_beans = {"@id": f"{HUB_A}/catalog_items/leo-beans", "@type": "dfc-b:CatalogItem",
                 "dfc-b:references": f"{API}/leo-farm/supplied_products/beans",
                 "dfc-b:offeredThrough": f"{HUB_A}/offers/leo-beans"}
    offer = {"@id": f"{HUB_A}/offers/leo-beans", "@type": "dfc-b:Offer", "dfc-b:offeredItem": hub_beans["@id"],
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 3, "dfc-b:hasUnit": "dfc-m:Euro"}}
    r = client.post("/api/dfc/enterprises/hub-a/catalog", headers=hub_a,
                    **jsonld({"@context": CTX, "@graph": [hub_beans, offer]}))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/leo-beans", 4), name="Paul").status_code == 201
    ali = checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 2))
    assert ali.status_code == 201
    body = client.get(path_of(ali.headers["Location"]), headers=hub_a).get_json()
    order = next(n for n in body.get("@graph", [body]) if n.get("@type") == "dfc-b:Order")
    [line] = lines_of(body)
    line["dfc-b:concerns"] = f"{HUB_A}/offers/leo-beans"
    doc = {"@context": CTX, "@graph": [{k: v for k, v in order.items() if k != "@context"}, line]}
    r = client.put(path_of(ali.headers["Location"]), headers=hub_a, **jsonld(doc))
    assert r.status_code == 200, r.get_data(as_text=True)
    quantities = {}
    for w in wholesale(client, hub_a):
        for wline in lines_of(client.get(path_of(w["@id"]), headers=hub_a).get_json()):
            quantities[wline["dfc-b:concerns"]] = wline["dfc-b:quantity"]
    assert quantities.get(beans) == 6 and quantities.get(f"{JEAN}/offers/carrots", 0) == 0
    assert ledger(client)["held"] == 0


# --- aggregation by weight ----------------------------------------------------------------------

def test_bags_of_carrots_become_kilograms_of_bulk_carrots(client, hub_a):
    """The issue's example: 500 g and 1 kg bags from three customers → one line of bulk kilograms."""
    bulk_catalogue(client, hub_a)
    set_hub(client, hub_a, **{"hub:aggregateByWeight": True})
    ali = checkout(client, hub_a, "hub-a", (bag("bag-500g"), 6))                     # 3 kg
    paul = checkout(client, hub_a, "hub-a", (bag("bag-1kg"), 3), name="Paul")        # 3 kg
    david = checkout(client, hub_a, "hub-a", (bag("bag-500g"), 2), (bag("bag-1kg"), 1), name="David")  # 2 kg
    assert {ali.status_code, paul.status_code, david.status_code} == {201}
    [order] = wholesale(client, hub_a)
    body = client.get(path_of(order["@id"]), headers=hub_a).get_json()
    [line] = lines_of(body)
    assert line["dfc-b:concerns"] == f"{JEAN}/offers/carrots-bulk"
    assert (line["dfc-b:hasQuantity"]["dfc-b:value"], line["hub:ordered"]) == (8, 8)
    assert ledger(client, BULK_ITEM) == {"available": 12, "onHand": 20, "held": 8, "committed": 0}

    assert client.delete(path_of(david.headers["Location"]), headers=hub_a).status_code == 204
    assert lines_of(client.get(path_of(order["@id"]), headers=hub_a).get_json())[0]["dfc-b:hasQuantity"]["dfc-b:value"] == 6
    assert ledger(client, BULK_ITEM)["held"] == 6

    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    [order] = wholesale(client, hub_a)
    assert order["dfc-b:hasOrderStatus"] == "dfc-v:Complete"
    assert ledger(client, BULK_ITEM) == {"available": 14, "onHand": 20, "held": 0, "committed": 6}


def test_a_bulk_product_sold_in_sacks_is_rounded_up_with_the_surplus_recorded(client, hub_a):
    bulk_catalogue(client, hub_a, bulk=(5, "Kilogram", 4))                            # 4 sacks of 5 kg
    set_hub(client, hub_a, **{"hub:aggregateByWeight": True})
    assert checkout(client, hub_a, "hub-a", (bag("bag-500g"), 6), (bag("bag-1kg"), 3)).status_code == 201
    [line] = lines_of(client.get(path_of(wholesale(client, hub_a)[0]["@id"]), headers=hub_a).get_json())
    assert (line["dfc-b:hasQuantity"]["dfc-b:value"], line["hub:ordered"], line["hub:surplus"]) == (2, 6, 4)
    assert ledger(client, BULK_ITEM)["held"] == 2
    r = checkout(client, hub_a, "hub-a", (bag("bag-1kg"), 15), name="Big")           # 21 kg → 5 sacks > 4
    assert r.status_code == 409 and r.get_json()["shortages"][0]["available"] == "2"


@pytest.mark.parametrize("bags, why", [
    ((("bag-1l", 1, "Litre"),), "volume"),
    ((("bag-piece", 1, "Piece"),), "Piece"),
])
def test_quantities_that_do_not_convert_are_refused(client, hub_a, bags, why):
    bulk_catalogue(client, hub_a, bags=bags)
    set_hub(client, hub_a, **{"hub:aggregateByWeight": True})
    r = checkout(client, hub_a, "hub-a", (bag(bags[0][0]), 1))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.get_json()["violations"][0]["message"]
    assert ledger(client, BULK_ITEM)["held"] == 0


def test_pounds_and_ounces_add_up_with_kilograms(client, hub_a):
    bulk_catalogue(client, hub_a, bulk=(1, "Kilogram", 100), bags=(("bag-1lb", 1, "PoundMass"), ("bag-8oz", 8, "Ounce")))
    set_hub(client, hub_a, **{"hub:aggregateByWeight": True})
    assert checkout(client, hub_a, "hub-a", (bag("bag-1lb"), 10), (bag("bag-8oz"), 4)).status_code == 201
    [line] = lines_of(client.get(path_of(wholesale(client, hub_a)[0]["@id"]), headers=hub_a).get_json())
    assert Decimal(str(line["hub:ordered"])) == Decimal("4.5359237") + 4 * 8 * Decimal("0.028349523125")


def test_every_unit_we_convert_is_a_dfc_measure(shared):
    official = (shared / "dfc" / "measures.rdf").read_text()
    for unit in units.factors():
        assert f'rdf:about="{unit.value}"' in official, unit.value
    kilogram = units.amount(Decimal(1), NamedNode(DFC_M + "Kilogram"))
    assert units.amount(Decimal(1000), NamedNode(DFC_M + "Gram")) == kilogram
    assert units.amount(Decimal(1), NamedNode(DFC_M + "Piece")) is None


# --- the session summary ------------------------------------------------------------------------

def test_the_session_summary_in_jsonld_and_csv(client, hub_a):
    checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 2))
    cancelled = checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 3), name="Paul")
    doc = cancelled.get_json()
    for node in doc["@graph"]:
        if node["@type"] == "dfc-b:Order":
            node["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
    client.put(path_of(cancelled.headers["Location"]), headers=hub_a, **jsonld(doc))
    url = "/api/dfc/enterprises/hub-a/sale_sessions/week-48/summary"
    r = client.get(url, headers={**hub_a, "Accept": "text/csv"})
    assert r.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert row == {"producer": JEAN, "product": f"{JEAN}/supplied_products/carrots", "ordered": "2",
                   "held": "2", "completed": "0", "cancelled": "3", "kilograms": "2", "value": "5.2",
                   "catalogue_value": "0", "confirmed_value": "0"}     # nothing placed yet: no frozen price
    body = client.get(url, headers=hub_a).get_json()
    assert body["@type"] == "hub:SessionSummary"
    assert body["hub:row"]["hub:orderedQuantity"] == 2 and body["hub:row"]["hub:value"] == "5.2"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=token_for(client, JEAN)).status_code == 403
    assert re.search(r"/summary$", body["@id"])


def test_the_summary_counts_bulk_lines_under_the_bulk_product(client, hub_a):
    bulk_catalogue(client, hub_a)
    set_hub(client, hub_a, **{"hub:aggregateByWeight": True})
    checkout(client, hub_a, "hub-a", (bag("bag-500g"), 6), (bag("bag-1kg"), 1))
    r = client.get("/api/dfc/enterprises/hub-a/sale_sessions/week-48/summary", headers={**hub_a, "Accept": "text/csv"})
    table = {row["product"].rsplit("/", 1)[-1]: row for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))}
    assert (table["bag-500g"]["ordered"], table["bag-500g"]["kilograms"]) == ("6", "3")
    assert (table["bag-1kg"]["ordered"], table["bag-1kg"]["kilograms"]) == ("1", "1")
    assert table["carrots-bulk"]["held"] == "4"
    assert "carrots" not in table


def test_the_summary_counts_every_spelling_of_a_quantity(client, hub_a):
    """2 kg and 5 kg as dfc-b:hasQuantity, 1 kg as the older dfc-b:quantity: 8 kg everywhere (issue 22)."""
    kilograms = lambda v: {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": v, "dfc-b:hasUnit": "dfc-m:Kilogram"}  # noqa: E731
    offer = f"{HUB_A}/offers/jean-carrots"
    for name, line in (("Ali", {"dfc-b:hasQuantity": kilograms(2)}), ("Bea", {"dfc-b:hasQuantity": kilograms(5)}),
                       ("Cy", {"dfc-b:quantity": 1})):
        doc = {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:b", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
             "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": offer, **line}},
            {"@id": "_:b", "@type": "dfc-b:Person", "dfc-b:firstName": name}]}
        r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, **jsonld(doc))
        assert r.status_code == 201, r.get_data(as_text=True)
        [stored] = lines_of(r.get_json())
        # hasQuantity always (what the summary reads); the literal beside it, equal, for the DFC connector
        assert stored["dfc-b:hasQuantity"]["dfc-b:value"] == stored["dfc-b:quantity"]
    url = "/api/dfc/enterprises/hub-a/sale_sessions/week-48/summary"
    [row] = list(csv.DictReader(io.StringIO(client.get(url, headers={**hub_a, "Accept": "text/csv"}).get_data(as_text=True))))
    assert (row["ordered"], row["held"], row["kilograms"]) == ("8", "8", "8")
    summary = client.get(url, headers=hub_a).get_json()["hub:row"]
    assert (summary["hub:orderedQuantity"], summary["hub:heldQuantity"], summary["hub:totalWeight"]) == (8, 8, 8)
    [order] = wholesale(client, hub_a)
    [line] = lines_of(client.get(path_of(order["@id"]), headers=hub_a).get_json())
    assert line["dfc-b:hasQuantity"]["dfc-b:value"] == 8 == line["dfc-b:quantity"]
    assert ledger(client)["held"] == 8


def test_a_store_of_an_older_server_is_read_in_one_form():
    """Lines stored with the literal dfc-b:quantity (and offeredItem, hasDescription) are rewritten on open."""
    from app.orders.old_forms import move_old_forms
    from app.store import open_store
    store = open_store("memory:")
    b = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
    order, line = "http://hub.test/o/1", "http://hub.test/o/1/order_lines/1"
    with store.transaction() as tx:
        tx.append(f"""INSERT DATA {{ GRAPH <{order}> {{ <{order}> a <{b}Order> ; <{b}hasPart> <{line}> .
            <{line}> <{b}quantity> 3 }}
            GRAPH <http://hub.test/offer> {{ <http://hub.test/offer> <{b}offeredItem> <http://hub.test/item> }}
            GRAPH <http://hub.test/e> {{ <http://hub.test/e> <{b}hasDescription> "A farm" }} }}""")
    assert move_old_forms(store) and not move_old_forms(store)
    rows = store.select(f"SELECT ?q WHERE {{ GRAPH ?g {{ <{line}> <{b}hasQuantity>/<{b}value> ?q }} }}", {})
    assert [r["q"].value for r in rows] == ["3"]
    assert store.ask(f"ASK {{ GRAPH ?g {{ <http://hub.test/offer> <{b}offers> <http://hub.test/item> }} }}")
    assert store.ask(f'ASK {{ GRAPH ?g {{ <http://hub.test/e> <{b}description> "A farm" }} }}')
    assert not store.ask(f"ASK {{ GRAPH ?g {{ ?s <{b}offeredItem>|<{b}hasDescription> ?o }} }}")
    store.close()
