"""Orders and stock against a hostile partner (issue 9): what once broke the ledger or a document.

Each test here failed before its fix: a term sent twice, a buyer's `@id` naming one of the
seller's documents, a PUT changing a document's kind, a customer order left uncancellable, a
wholesale order reserving or committing for a session that is closed or not yet open, an order
with more lines than the server takes.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from app.domain import order_documents as orders
from app.domain.clock import ManualClock
from app.domain.documents import Namespace
from app.errors import ShapeViolation
from app.rdf import read_payload
from conftest import BASE, jsonld, make_app, token_for
from support.oxigraph_server import running_oxigraph
from support.orders import client, clock, hub_a, hub_b, jean  # noqa: F401 - fixtures
from support.orders import (API, CARROTS, CARROTS_ITEM, CTX, HUB_A, HUB_B, JEAN, MONDAY, add_item,
                            after_session_end, checkout, ledger, lines_of, main_node, order, path_of, place,
                            wholesale)

HUB_A_CARROTS = f"{HUB_A}/offers/jean-carrots"
SESSION_A, SESSION_B = f"{HUB_A}/sale_sessions/week-48", f"{HUB_B}/sale_sessions/week-48"
FULL = {"available": 10, "onHand": 10, "held": 0, "committed": 0}


def orders_of(client, token, seller="jean-farm") -> int:
    return int(client.get(f"/api/dfc/enterprises/{seller}/orders", headers=token).headers["X-Total-Count"])


def with_line(doc, **terms) -> dict:
    doc["dfc-b:hasPart"][0].update(terms)
    return doc


# --- 1, 5: every single-valued term has one value -----------------------------------------------

TWICE = {
    "quantity [1, 5]": lambda: order((CARROTS, [1, 5])),
    "quantity [7, 2]": lambda: order((CARROTS, [7, 2])),
    "quantity and hasQuantity disagree": lambda: with_line(order((CARROTS, 2)), **{"dfc-b:hasQuantity": {
        "@type": "dfc-b:QuantitativeValue", "dfc-b:value": 6, "dfc-b:hasUnit": "dfc-m:Kilogram"}}),
    "two quantity values": lambda: with_line(order((CARROTS, 1)), **{"dfc-b:hasQuantity": {
        "@type": "dfc-b:QuantitativeValue", "dfc-b:value": [1, 5]}}),
    "two statuses": lambda: order((CARROTS, 1), status=["dfc-v:Held", "dfc-v:Draft"]),
    "two offers": lambda: with_line(order((CARROTS, 1)), **{"dfc-b:concerns": [CARROTS, CARROTS + "-2"]}),
    "two sessions": lambda: order((CARROTS, 1), **{"dfc-b:belongsTo": [SESSION_A, SESSION_B]}),
    "two dates": lambda: order((CARROTS, 1), **{"dfc-b:date": ["2026-11-23T10:00:00Z", "2026-11-24T10:00:00Z"]}),
    "two discounts": lambda: order((CARROTS, 1), **{"dfc-b:discount": [1, 0.5]}),
    "two line prices": lambda: with_line(order((CARROTS, 1)), **{"dfc-b:hasPrice": [
        {"@type": "dfc-b:Price", "dfc-b:value": 1, "dfc-b:hasUnit": "dfc-m:Euro"},
        {"@type": "dfc-b:Price", "dfc-b:value": 9, "dfc-b:hasUnit": "dfc-m:Euro"}]}),
    "two prices in one price": lambda: with_line(order((CARROTS, 1)), **{"dfc-b:hasPrice": {
        "@type": "dfc-b:Price", "dfc-b:value": [1, 9], "dfc-b:hasUnit": "dfc-m:Euro"}}),
}


@pytest.mark.parametrize("doc", TWICE.values(), ids=TWICE.keys())
def test_a_term_sent_twice_is_refused_and_the_ledger_is_unchanged(client, hub_a, doc):
    r = place(client, hub_a, doc())
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json" and r.get_json()["violations"]
    assert ledger(client) == FULL and orders_of(client, hub_a) == 0


def test_a_put_with_two_quantities_is_refused_and_keeps_what_was_held(client, hub_a):
    r = place(client, hub_a, order((CARROTS, 3)))
    location, line = r.headers["Location"], lines_of(r.get_json())[0]["@id"]
    doc = with_line(order((CARROTS, [1, 5]), id_=location), **{"@id": line})
    assert client.put(path_of(location), headers=hub_a, **jsonld(doc)).status_code == 422
    assert ledger(client)["held"] == 3
    assert client.delete(path_of(location), headers=hub_a).status_code == 204
    assert ledger(client) == FULL


@pytest.mark.parametrize("doc", TWICE.values(), ids=TWICE.keys())
def test_the_order_rules_refuse_a_term_twice_even_unvalidated(doc):
    """What reaches the domain without the shapes (a stored document, a CLI) is refused there too."""
    body = json.dumps(doc()).encode()
    triples = read_payload(body, "application/ld+json", f"{JEAN}/orders").triples
    with pytest.raises(ShapeViolation) as refused:
        orders.from_payload(triples, None, Namespace(BASE, "jean-farm"), BASE)
    assert refused.value.extra["violations"]


@pytest.mark.parametrize("quantities", [[1, 5], [7, 2]])
def test_two_quantities_are_refused_on_the_remote_store_too(tmp_path, quantities):
    with running_oxigraph(tmp_path) as url:
        client = make_app(store=f"sparql:{url}", clock=ManualClock(MONDAY)).test_client()
        token = token_for(client, HUB_A)
        r = place(client, token, order((CARROTS, quantities)))
        assert r.status_code == 422 and r.get_json()["violations"]
        assert ledger(client) == FULL and orders_of(client, token) == 0
        assert place(client, token, order((CARROTS, 15))).status_code == 409   # 10 on hand, still
        assert ledger(client) == FULL


def test_an_order_with_two_buyers_is_refused(client, hub_a, hub_b):
    r = place(client, hub_a, order((CARROTS, 1), buyer=[HUB_B, HUB_A]))
    assert r.status_code == 422
    assert any(v["path"].endswith("#orderedBy") for v in r.get_json()["violations"])
    assert orders_of(client, hub_b) == 0 and orders_of(client, hub_a) == 0 and ledger(client) == FULL


# --- 2: a person named by a client lives at a person IRI the server controls ---------------------

def buy_as(client, token, person_id, hub="hub-a", status="dfc-v:Held"):
    doc = {"@context": CTX, "@id": "#", "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": status,
           "dfc-b:belongsTo": f"{API}/{hub}/sale_sessions/week-48",
           "dfc-b:orderedBy": {"@id": person_id, "@type": "dfc-b:Person", "dfc-b:firstName": "x"},
           "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                             "dfc-b:concerns": f"{API}/{hub}/offers/jean-carrots"}}
    return client.post(f"/api/dfc/enterprises/{hub}/orders", headers=token, **jsonld(doc))


def test_a_buyer_named_after_a_catalogue_item_never_overwrites_it(client, hub_a):
    item = "/api/dfc/enterprises/hub-a/catalog_items/jean-carrots"
    before = client.get(item).get_json()
    r = buy_as(client, hub_a, BASE + item, status="dfc-v:Draft")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert main_node(r.get_json())["dfc-b:orderedBy"].startswith(f"{HUB_A}/persons/")
    assert client.get(item).get_json() == before


def test_an_orders_only_token_cannot_turn_its_catalogue_item_into_a_person(client, hub_a):
    writes_orders = token_for(client, HUB_A, ["WriteOrders"])
    item = "/api/dfc/enterprises/hub-a/catalog_items/jean-carrots"
    before = client.get(item).get_json()
    assert buy_as(client, writes_orders, BASE + item).status_code == 201
    assert client.get(item).get_json() == before
    assert checkout(client, hub_a, "hub-a", (HUB_A_CARROTS, 2), name="Paul").status_code == 201
    assert ledger(client)["held"] == 3


def test_a_buyer_named_after_another_customers_order_never_overwrites_it(client, hub_a):
    ali = checkout(client, hub_a, "hub-a", (HUB_A_CARROTS, 2))
    assert ali.status_code == 201
    ali_path = path_of(ali.headers["Location"])
    before = client.get(ali_path, headers=hub_a).get_json()
    r = buy_as(client, hub_a, ali.headers["Location"])
    assert r.status_code == 201, r.get_data(as_text=True)
    assert main_node(r.get_json())["dfc-b:orderedBy"].startswith(f"{HUB_A}/persons/")
    assert client.get(ali_path, headers=hub_a).get_json() == before
    assert ledger(client)["held"] == 3
    assert client.delete(ali_path, headers=hub_a).status_code == 204 and ledger(client)["held"] == 1


def test_a_person_iri_the_server_minted_names_the_same_person_again(client, hub_a):
    first = checkout(client, hub_a, "hub-a", (HUB_A_CARROTS, 1))
    person = main_node(first.get_json())["dfc-b:orderedBy"]
    r = buy_as(client, hub_a, person)
    assert r.status_code == 201 and main_node(r.get_json())["dfc-b:orderedBy"] == person


# --- 4: lines per order are capped --------------------------------------------------------------

def test_an_order_with_more_lines_than_the_setting_allows_is_refused(clock):
    client = make_app(clock=clock, max_order_lines=3).test_client()
    token = token_for(client, HUB_A)
    r = place(client, token, order(*[(CARROTS, 1)] * 4))
    assert r.status_code == 413 and r.get_json()["maxLines"] == 3
    assert ledger(client) == FULL and orders_of(client, token) == 0
    assert place(client, token, order(*[(CARROTS, 1)] * 3)).status_code == 201


# --- 9: a document's kind never changes; on hand is never negative ------------------------------

def test_a_put_never_changes_a_catalogue_items_kind(client, hub_a, jean):
    leeks = add_item(client, "jean-farm", "leeks", 5)
    assert place(client, hub_a, order((leeks, 3))).status_code == 201
    path = "/api/dfc/enterprises/jean-farm/catalog_items/leeks"
    doc = client.get(path).get_json()
    doc["@type"] = "dfc-b:SuppliedProduct"
    r = client.put(path, headers=jean, **jsonld(doc))
    assert r.status_code in (409, 422), r.get_data(as_text=True)
    assert ledger(client, path) == {"available": 2, "onHand": 5, "held": 3, "committed": 0}
    assert client.get(path).get_json()["@type"] == "dfc-b:CatalogItem"


def test_a_catalogue_import_never_changes_a_documents_kind(client, hub_a, jean):
    place(client, hub_a, order((CARROTS, 4)))
    doc = {"@context": CTX, "@id": BASE + CARROTS_ITEM, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "x"}
    r = client.post("/api/dfc/enterprises/jean-farm/catalog", headers=jean, **jsonld(doc))
    assert r.status_code == 409, r.get_data(as_text=True)
    assert ledger(client) == {"available": 6, "onHand": 10, "held": 4, "committed": 0}


def test_on_hand_is_never_negative(client, jean):
    doc = client.get(CARROTS_ITEM).get_json()
    doc["hub:onHand"] = -5
    del doc["dfc-b:stockLimitation"]
    r = client.put(CARROTS_ITEM, headers=jean, **jsonld(doc))
    assert r.status_code == 422 and r.get_json()["violations"][0]["path"].endswith("#onHand")
    assert ledger(client) == FULL


# --- 12: a customer order stays cancellable -----------------------------------------------------

@pytest.mark.parametrize("how", ["delete", "cancel"])
def test_a_customer_order_stays_cancellable_after_its_hub_cancels_the_wholesale_order(client, hub_a, how):
    ali = checkout(client, hub_a, "hub-a", (HUB_A_CARROTS, 2))
    [w] = wholesale(client, hub_a)
    doc = client.get(path_of(w["@id"]), headers=hub_a).get_json()
    main_node(doc)["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
    assert client.put(path_of(w["@id"]), headers=hub_a, **jsonld(doc)).status_code == 200
    assert ledger(client) == FULL
    if how == "delete":
        assert client.delete(path_of(ali.headers["Location"]), headers=hub_a).status_code == 204
    else:
        mine = ali.get_json()
        main_node(mine)["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
        assert client.put(path_of(ali.headers["Location"]), headers=hub_a, **jsonld(mine)).status_code == 200
    assert ledger(client) == FULL
    # The next checkout gets a wholesale order of its own, and reserves.
    assert checkout(client, hub_a, "hub-a", (HUB_A_CARROTS, 3), name="Paul").status_code == 201
    assert ledger(client)["held"] == 3


# --- 13: a wholesale order reserves or commits only in a session that is open -------------------

def test_a_complete_wholesale_order_for_a_closed_session_is_refused(client, hub_a):
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    r = place(client, hub_a, order((CARROTS, 1), status="dfc-v:Complete", **{"dfc-b:belongsTo": SESSION_A}))
    assert r.status_code == 409 and r.get_json()["closedAt"]
    assert ledger(client) == FULL


def test_a_draft_cannot_complete_once_its_session_closed(client, hub_a):
    r = place(client, hub_a, order((CARROTS, 2), status="dfc-v:Draft", **{"dfc-b:belongsTo": SESSION_A}))
    assert r.status_code == 201
    location = r.headers["Location"]
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    doc = order((CARROTS, 2), id_=location, status="dfc-v:Complete", **{"dfc-b:belongsTo": SESSION_A})
    r = client.put(path_of(location), headers=hub_a, **jsonld(doc))
    assert r.status_code == 409, r.get_data(as_text=True)
    assert ledger(client) == FULL


def test_a_held_wholesale_order_for_a_session_not_yet_open_is_refused(client, hub_b):
    r = place(client, hub_b, order((CARROTS, 1), buyer=HUB_B, **{"dfc-b:belongsTo": SESSION_B}))  # opens Tuesday
    assert r.status_code == 409 and r.get_json()["session"] == SESSION_B
    assert ledger(client) == FULL


def test_a_wholesale_order_in_an_open_session_still_completes(client, hub_a, clock):
    r = place(client, hub_a, order((CARROTS, 2), **{"dfc-b:belongsTo": SESSION_A}))
    assert r.status_code == 201
    location = r.headers["Location"]
    clock.set(after_session_end(client))    # ended, not closed yet: last edits
    doc = order((CARROTS, 2), id_=location, status="dfc-v:Complete", **{"dfc-b:belongsTo": SESSION_A})
    assert client.put(path_of(location), headers=hub_a, **jsonld(doc)).status_code == 200
    assert ledger(client) == {"available": 8, "onHand": 10, "held": 0, "committed": 2}


# --- a line's unit counts items, or the line is refused ---------------------------------------------
# The demo's carrots are sold by the kilogram (a product of 1 kg): 2 kg are 2 items, 500 g are not
# 500 of them. The ledger reserves a line's number, so a unit that does not count items is refused.

def measured(value, unit) -> dict:
    return {"dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": value,
                                  "dfc-b:hasUnit": f"dfc-m:{unit}"}}


@pytest.mark.parametrize("value, unit", [(2, "Kilogram"), (2, "Piece"), ("2.5", "Kilogram")])
def test_a_line_in_the_items_own_unit_or_in_pieces_counts_items(client, hub_a, value, unit):
    # 2.5 kg of an item of 1 kg is 2.5 items, as dfc-b:quantity 2.5 would be.
    r = place(client, hub_a, order((CARROTS, value, measured(value, unit))))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert ledger(client)["held"] == Decimal(value)


@pytest.mark.parametrize("value, unit, says", [
    (500, "Gram", "0.5 of them"),            # a mass that converts: the count is offered, not guessed
    (3, "Litre", "items of 1 dfc-m:Kilogram"),
])
def test_a_line_whose_unit_does_not_count_items_is_refused_and_reserves_nothing(client, hub_a, value, unit, says):
    r = place(client, hub_a, order((CARROTS, value, measured(value, unit))))
    assert r.status_code == 422, r.get_data(as_text=True)
    problem = r.get_json()
    [v] = problem["violations"]
    assert v["path"].endswith("#hasUnit") and v["value"].endswith("#" + unit), v
    assert says in v["message"] and "number of items" in v["message"], v["message"]
    assert ledger(client) == FULL and orders_of(client, hub_a) == 0


def test_a_line_in_a_mass_of_an_item_of_unknown_size_is_refused(client, hub_a, jean):
    turnips = add_item(client, "jean-farm", "turnips", 10)        # its product says no size
    r = place(client, hub_a, order((turnips, 3, measured(3, "Kilogram"))))
    assert r.status_code == 422 and "does not know" in r.get_json()["violations"][0]["message"]
    assert ledger(client, "/api/dfc/enterprises/jean-farm/catalog_items/turnips")["held"] == 0
    assert place(client, hub_a, order((turnips, 3, measured(3, "Piece")))).status_code == 201


def test_a_customer_line_in_grams_of_carrots_by_the_kilogram_is_refused(client, hub_a):
    line = lambda value, unit: {"@type": "dfc-b:OrderLine", "dfc-b:concerns": HUB_A_CARROTS, **measured(value, unit)}
    doc = lambda *lines: {"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:ali", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": SESSION_A, "dfc-b:hasPart": list(lines)},
        {"@id": "_:ali", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a,
                    **jsonld(doc(line(1, "Kilogram"), line(2000, "Gram"))))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "2 of them" in r.get_json()["violations"][0]["message"]
    assert ledger(client) == FULL and orders_of(client, hub_a, "hub-a") == 0
    assert client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a,
                       **jsonld(doc(line(1, "Kilogram"), line(2, "Kilogram")))).status_code == 201
    assert ledger(client)["held"] == 3


def test_a_put_moving_a_line_to_grams_is_refused_and_keeps_what_was_held(client, hub_a):
    r = place(client, hub_a, order((CARROTS, 3, measured(3, "Kilogram"))))
    location, line = r.headers["Location"], lines_of(r.get_json())[0]["@id"]
    doc = order((CARROTS, 3000, {"@id": line, **measured(3000, "Gram")}), id_=location)
    assert client.put(path_of(location), headers=hub_a, **jsonld(doc)).status_code == 422
    assert ledger(client)["held"] == 3


def test_a_line_in_pieces_of_an_item_measured_in_pieces_is_refused_as_ambiguous(client, hub_a, jean):
    # A box of 6 eggs: "12 dfc-m:Piece" may mean 12 boxes or 2; only a plain count says which.
    eggs = add_item(client, "jean-farm", "eggs", 10)
    product = {"@context": CTX, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Eggs, box of 6",
               "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 6, "dfc-b:hasUnit": "dfc-m:Piece"}}
    assert client.put("/api/dfc/enterprises/jean-farm/supplied_products/eggs", headers=jean,
                      **jsonld(product)).status_code in (200, 204)
    r = place(client, hub_a, order((eggs, 12, measured(12, "Piece"))))
    assert r.status_code == 422, r.get_data(as_text=True)
    message = r.get_json()["violations"][0]["message"]
    assert "items of 6 dfc-m:Piece" in message and "is 2 of them" in message and "in dfc-m:Piece" not in message
    assert place(client, hub_a, order((eggs, 2))).status_code == 201


def test_a_line_kept_as_stored_is_not_judged_again_when_its_product_changed_size(client, hub_a, jean):
    # Ordered as 3 kg of carrots sold by the kilogram; the farm then sells them in 500 g bags.
    # The order can still be changed elsewhere (and cancelled); the line, changed, is judged anew.
    r = place(client, hub_a, order((CARROTS, 3, measured(3, "Kilogram"))))
    location, line = r.headers["Location"], lines_of(r.get_json())[0]["@id"]
    product = client.get("/api/dfc/enterprises/jean-farm/supplied_products/carrots").get_json()
    product["dfc-b:hasQuantity"] = {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 500, "dfc-b:hasUnit": "dfc-m:Gram"}
    assert client.put("/api/dfc/enterprises/jean-farm/supplied_products/carrots", headers=jean,
                      **jsonld(product)).status_code in (200, 204)
    kept = order((CARROTS, 3, {"@id": line, **measured(3, "Kilogram")}), id_=location,
                 **{"dfc-b:discount": 0.5})
    assert client.put(path_of(location), headers=hub_a, **jsonld(kept)).status_code == 200
    changed = order((CARROTS, 4, {"@id": line, **measured(4, "Kilogram")}), id_=location)
    r = client.put(path_of(location), headers=hub_a, **jsonld(changed))
    assert r.status_code == 422 and "is 8 of them" in r.get_json()["violations"][0]["message"]
    assert ledger(client)["held"] == 3
    assert client.delete(path_of(location), headers=hub_a).status_code == 204
    assert ledger(client) == FULL
