"""Deliveries of a wholesale order, and the lifecycle's other rules, as a hostile partner tries them.

In-process (Flask's client on a real in-memory store): hub A orders from Jean's farm directly.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain import lifecycle
from conftest import make_app, token_for
from support.lifecycle import CTX, Api, Orders, nodes, order_node, view
from support.orders import API, HUB_A, HUB_B, add_item, checkout

C, S = lifecycle.CONSUMER, lifecycle.SUPPLIER


@pytest.fixture
def app():
    return make_app(demo=True)


@pytest.fixture
def parties(app):
    client = app.test_client()
    offer = add_item(client, "jean-farm", "beans", 100)
    return Orders(Api(client), "jean-farm", HUB_A, offer, token_for(client, HUB_A),
                  token_for(client, f"{API}/jean-farm"))


def _line(parties, path) -> str:
    return next(n["@id"] for n in nodes(parties.read(path)) if n.get("@type") == "dfc-b:OrderLine")


def _ledger(parties) -> tuple:
    _, body = parties.api.send("GET", "/api/dfc/enterprises/jean-farm/catalog_items/beans", {})
    return tuple(Decimal(str(body[k])) for k in ("hub:onHand", "hub:held", "hub:committed"))


def _unallocated(parties, path):
    line = next(n for n in nodes(parties.read(path)) if n.get("@type") == "dfc-b:OrderLine")
    return line.get("hub:unallocated")


def test_deliveries_may_carry_less_than_the_line_never_more(parties):
    path = parties.create(quantity=3, split=())
    line = _line(parties, path)
    assert parties.delivery(path, {line: 1})[0] == 201
    assert _unallocated(parties, path) == 2
    before = parties.read(path)
    code, body = parties.delivery(path, {line: 3})
    assert code == 409 and body["overAllocated"] == [{"orderLine": line, "ordered": "3", "allocated": "4"}]
    assert parties.read(path) == before


def test_a_delivery_names_lines_of_its_own_order_once_with_a_date_and_a_quantity(parties):
    path, other = parties.create(quantity=3, split=()), parties.create(quantity=1, split=())
    line, foreign = _line(parties, path), _line(parties, other)
    before = parties.read(path)
    assert parties.delivery(path, {foreign: 1})[0] == 422
    twice = {"@context": CTX, "@type": "hub:Delivery", "hub:hasDeliveryLine": [
        {"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 1}] * 1 + [
        {"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 2}]}
    assert parties.api.send("POST", path + "/deliveries", parties.tokens[C], body=twice)[0] == 422
    assert parties.delivery(path, {line: 1}, day="next tuesday")[0] == 422
    assert parties.delivery(path, {line: -1})[0] == 422
    not_a_delivery = {"@context": CTX, "@type": "dfc-b:Order"}
    assert parties.api.send("POST", path + "/deliveries", parties.tokens[C], body=not_a_delivery)[0] == 422
    assert parties.read(path) == before


def test_a_hundred_thousand_delivery_lines_are_refused_and_nothing_changes(parties):
    path = parties.create(quantity=3, split=())
    line = _line(parties, path)
    before = parties.read(path)
    huge = {"@context": CTX, "@type": "hub:Delivery", "hub:hasDeliveryLine": [
        {"hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 1} for _ in range(100_000)]}
    code, body = parties.api.send("POST", path + "/deliveries", parties.tokens[C], body=huge)
    assert code in (413, 422), body
    assert parties.read(path) == before


def test_at_placed_one_delivery_carries_everything_until_the_consumer_plans_its_own(parties):
    path = parties.create(quantity=3, split=())
    assert parties.move(path, "placed", C)[0] == 200
    body = parties.read(path)
    assert order_node(body)["hub:deliveryMode"] == "hub:complete"
    [made] = [n for n in nodes(body) if n.get("@type") == "hub:Delivery"]
    assert _unallocated(parties, path) is None
    line = _line(parties, path)
    assert parties.delivery(path, {line: 2})[0] == 201         # placed: the consumer may still plan
    body = parties.read(path)
    assert order_node(body)["hub:deliveryMode"] == "hub:split"
    assert made["@id"] not in {n["@id"] for n in nodes(body) if n.get("@type") == "hub:Delivery"}
    assert _unallocated(parties, path) == 1


def test_the_supplier_confirms_a_date_and_nothing_else(parties):
    path = parties.create(quantity=2, split=(2,))
    _, listing = parties.api.send("GET", path + "/deliveries", parties.tokens[S])
    [delivery] = [n for n in nodes(listing) if n.get("@type") == "hub:Delivery"]
    target = "/api/dfc/" + delivery["@id"].split("/api/dfc/", 1)[1]
    line = _line(parties, path)
    confirm = {"@context": CTX, "@id": delivery["@id"], "@type": "hub:Delivery",
               "hub:desiredDeliveryDate": delivery["hub:desiredDeliveryDate"], "hub:confirmedDeliveryDate": "2026-12-03",
               "hub:hasDeliveryLine": {"hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 2}}
    code, body = parties.api.send("PUT", target, parties.tokens[S], body=confirm)
    assert code == 200, body
    assert [n.get("hub:confirmedDeliveryDate") for n in nodes(body) if n.get("@type") == "hub:Delivery"] == \
        ["2026-12-03"], body
    more = {**confirm, "hub:hasDeliveryLine": {"hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 1}}
    assert parties.api.send("PUT", target, parties.tokens[S], body=more)[0] == 409
    # The consumer's own PUT cannot set the supplier's date.
    mine = {**confirm, "hub:confirmedDeliveryDate": "2027-01-01"}
    code, body = parties.api.send("PUT", target, parties.tokens[C], body=mine)
    assert code == 200 and any(n.get("hub:confirmedDeliveryDate") == "2026-12-03" for n in nodes(body)), body


def test_after_placed_the_consumer_changes_neither_lines_nor_deliveries(parties):
    path = parties.create(quantity=2, split=(1, 1))
    line = _line(parties, path)
    for step, who in (("placed", C), ("confirmed", S)):
        assert parties.move(path, step, who)[0] == 200
    assert parties.delivery(path, {line: 0.5})[0] == 409
    body = parties.read(path)
    order = order_node(body)
    order["dfc-b:hasPart"] = {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 5,
                              "dfc-b:concerns": parties.offer}
    code, answer = parties.api.send("PUT", path, parties.tokens[C], body={"@context": CTX, **order})
    assert code == 409 and answer["currentStatus"] == "confirmed", answer
    assert parties.api.send("DELETE", path, parties.tokens[C])[0] == 409       # cancel it instead


def test_shipping_takes_stock_out_and_a_shipped_delivery_is_history(parties):
    start = _ledger(parties)
    path = parties.create(quantity=2, split=(1, 1))
    assert _ledger(parties) == (start[0], start[1] + 2, start[2])
    for step, who in (("placed", C), ("confirmed", S)):
        assert parties.move(path, step, who)[0] == 200
    assert _ledger(parties) == (start[0], start[1], start[2] + 2)
    code, body = parties.ship_next(path)
    assert code == 200 and view(body)["status"] == "partially_shipped"
    assert _ledger(parties) == (start[0] - 1, start[1], start[2] + 1)
    shipped = next(n["@id"] for n in nodes(body) if n.get("@type") == "hub:Delivery" and n.get("hub:shippedAt"))
    target = "/api/dfc/" + shipped.split("/api/dfc/", 1)[1]
    assert parties.api.send("POST", target + "/ship", parties.tokens[S])[0] == 409
    assert parties.api.send("DELETE", target, parties.tokens[C])[0] == 409
    assert parties.ship_next(path)[0] == 200
    assert _ledger(parties) == (start[0] - 2, start[1], start[2])


def test_an_item_whose_committed_stock_all_shipped_can_be_deleted_again(parties):
    path = parties.create(quantity=2, split=())
    for step, who in (("placed", C), ("confirmed", S)):
        assert parties.move(path, step, who)[0] == 200
    item = "/api/dfc/enterprises/jean-farm/catalog_items/beans"
    jean = parties.tokens[S]
    assert parties.api.send("DELETE", item, jean)[0] == 409          # committed to the order
    assert parties.ship_next(path)[0] == 200
    assert parties.api.send("DELETE", item, jean)[0] == 204


def test_the_supplier_confirms_prices_with_the_order(parties):
    path = parties.create(quantity=2, split=())
    line = _line(parties, path)
    assert parties.move(path, "placed", C)[0] == 200
    send = parties.api.send
    assert send("POST", path + "/status", parties.tokens[S],
                json_body={"status": "confirmed", "confirmedPrices": {line: "not a price"}})[0] == 422
    assert send("POST", path + "/status", parties.tokens[S],
                json_body={"status": "transferred", "confirmedPrices": {line: 2}})[0] == 422
    assert send("POST", path + "/status", parties.tokens[S],
                json_body={"status": "confirmed", "confirmedPrices": {f"{line}-x": 2}})[0] == 422
    for not_an_iri in ("x", "a b", "", "http://a b"):      # once a 500: a key the store cannot name
        assert send("POST", path + "/status", parties.tokens[S],
                    json_body={"status": "confirmed", "confirmedPrices": {not_an_iri: 2}})[0] == 422, not_an_iri
    # Beyond what the store's decimals sum (1e21 was kept, and the session summary counted it as 0),
    # or below nothing.
    for price in ("1e21", "1000000000000001", -1):
        assert send("POST", path + "/status", parties.tokens[S],
                    json_body={"status": "confirmed", "confirmedPrices": {line: price}})[0] == 422, price
    assert view(parties.read(path))["status"] == "placed"                  # nothing changed
    code, body = send("POST", path + "/status", parties.tokens[S],
                      json_body={"status": "confirmed", "confirmedPrices": {line: 2.4}})
    assert code == 200, body
    node = next(n for n in nodes(body) if n.get("@id") == line)
    price = node["hub:confirmedPrice"]
    price = next(n for n in nodes(body) if n.get("@id") == price) if isinstance(price, str) else price
    assert Decimal(str(price["dfc-b:value"])) == Decimal("2.4")


@pytest.mark.parametrize("bad", [{"status": "teleported"}, {"status": 7}, {}, [], {"status": "placed", "reason": 5}])
def test_a_status_request_that_names_no_status_is_422_and_changes_nothing(parties, bad):
    path = parties.create(quantity=1, split=())
    before = parties.read(path)
    code, body = parties.api.send("POST", path + "/status", parties.tokens[C], json_body=bad)
    assert code in (400, 422) and body["status"] in (400, 422), body
    assert parties.read(path) == before


def test_a_customer_order_has_no_supplier_lifecycle(app):
    client = app.test_client()
    hub_a = token_for(client, HUB_A)
    r = checkout(client, hub_a, "hub-a", (f"{HUB_A}/offers/jean-carrots", 1))
    assert r.status_code == 201
    path = r.headers["Location"].split("hub.test", 1)[1] if "hub.test" in r.headers["Location"] else r.headers["Location"]
    answer = client.post(path + "/status", headers=hub_a, json={"status": "placed"})
    assert answer.status_code == 409


def test_a_third_party_neither_reads_nor_moves_the_order(parties, app):
    path = parties.create(quantity=1, split=())
    other = token_for(app.test_client(), HUB_B)
    assert parties.api.send("GET", path, other)[0] == 403
    assert parties.api.send("POST", path + "/status", other, json_body={"status": "canceled_by_consumer"})[0] == 403
    assert parties.api.send("GET", path + "/deliveries", other)[0] == 403


@pytest.mark.parametrize("status", [["hub:placed", "hub:canceled_by_consumer"], "placed", {"@id": "hub:teleported"}])
def test_a_put_whose_status_comes_twice_or_is_no_status_is_422(parties, status):
    path = parties.create(quantity=1, split=())
    before = parties.read(path)
    order = {k: v for k, v in order_node(before).items() if not k.startswith("hub:")}
    order["hub:status"] = status
    order["dfc-b:hasPart"] = {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": parties.offer}
    code, body = parties.api.send("PUT", path, parties.tokens[C], body={"@context": CTX, **order})
    assert code == 422, body
    assert view(parties.read(path))["status"] == "draft"


def test_a_client_that_resends_the_lines_without_their_ids_keeps_its_deliveries(parties):
    """A DFC client that does not keep line ids PUTs the order Complete: its lines stay the same
    lines, so the deliveries planned on them still hold."""
    path = parties.create(quantity=3, split=(1, 2))
    body = parties.read(path, role=C)
    order = {k: v for k, v in order_node(body).items() if not k.startswith("hub:")}
    order.update({"dfc-b:hasOrderStatus": "dfc-v:Complete",
                  "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 3, "dfc-b:concerns": parties.offer}})
    code, answer = parties.api.send("PUT", path, parties.tokens[C], body={"@context": CTX, **order})
    assert code == 200, answer
    seen = view(answer)
    assert seen["status"] == "placed"
    assert order_node(answer)["hub:deliveryMode"] == "hub:split"
    assert len([n for n in nodes(answer) if n.get("@type") == "hub:Delivery"]) == 2
    assert _unallocated(parties, path) is None


def test_each_move_delivery_and_shipment_reaches_both_parties_event_logs(parties):
    path = parties.create(quantity=2, split=(2,))
    for step, who in (("placed", C), ("confirmed", S)):
        assert parties.move(path, step, who)[0] == 200
    assert parties.ship_next(path)[0] == 200
    order = parties.read(path)
    iri = order_node(order)["@id"]

    def log(eid, token):
        r = parties.api.target.get(f"/api/dfc/enterprises/{eid}/events", headers={**token, "Accept": "application/json"})
        code, body = r.status_code, r.get_json()
        assert code == 200, body
        return [(e["type"], e["data"].get("from"), e["data"].get("to"), e["data"].get("shipped"))
                for e in body["events"] if e["data"].get("order") == iri]

    farm = log("jean-farm", parties.tokens[S])
    assert farm == [
        ("procurement.delivery_changed", None, None, False),            # the consumer planned it
        ("procurement.order_received", "draft", "placed", None),
        ("procurement.order_status_changed", "draft", "placed", None),
        ("procurement.order_status_changed", "placed", "confirmed", None),
        ("procurement.order_status_changed", "confirmed", "shipped", None),
        ("procurement.delivery_changed", None, None, True)]
    # The consumer hears the same, but order_received is the supplier's alone.
    assert log("hub-a", parties.tokens[C]) == [e for e in farm if e[0] != "procurement.order_received"]


# --- issue 20, findings 6 and 7: what a hostile consumer sends to a supplier's order ----------

TWELVE = ["draft", "placed", "transferred", "transfer_failed", "confirmed", "producing", "partially_shipped",
          "shipped", "cancelation_requested", "canceled_by_consumer", "canceled_by_supplier",
          "partially_shipped_remainder_canceled"]
HUB_NS = "https://w3id.org/dfc-order-hub/ns#"


@pytest.mark.parametrize("status", ["placed now", "<placed>", '"placed"', "{placed}", "placed\u0000", "pla|ced",
                                    "hub:placed now", HUB_NS + "placed now", "placed\n", "x" * 100_000])
def test_a_status_no_iri_could_hold_is_422_with_the_twelve_allowed(parties, status):
    """Finding 6: `{"status": "placed now"}` answered 500 (the status became an IRI before it was looked up)."""
    path = parties.create(quantity=1, split=())
    before = parties.read(path)
    code, body = parties.api.send("POST", path + "/status", parties.tokens[C], json_body={"status": status})
    assert code == 422 and body["status"] == 422 and body["allowed"] == TWELVE, body
    assert len(body["detail"]) < 1000              # what was sent is quoted, not echoed whole
    assert parties.read(path) == before


def _parties_of(app) -> Orders:
    client = app.test_client()
    offer = add_item(client, "jean-farm", "beans", 100)
    return Orders(Api(client), "jean-farm", HUB_A, offer, token_for(client, HUB_A), token_for(client, f"{API}/jean-farm"))


def test_an_order_has_at_most_the_deliveries_the_setting_allows_then_413(parties):
    """Finding 7: a consumer POSTed deliveries to a supplier's order without end (25 of 3.5 MB: 88 MB)."""
    bounded = _parties_of(make_app(max_deliveries=3))
    path = bounded.create(quantity=10, split=(1, 1, 1))
    line = _line(bounded, path)
    before = bounded.read(path)
    code, body = bounded.delivery(path, {line: 1})
    assert code == 413 and body["status"] == 413 and body["maxDeliveries"] == 3, body
    assert bounded.read(path) == before
    # One goes, another may come; a change to one of them is no new delivery.
    _, listing = bounded.api.send("GET", path + "/deliveries", bounded.tokens[C])
    first = sorted(n["@id"] for n in nodes(listing) if n.get("@type") == "hub:Delivery")[0]
    assert bounded.api.send("DELETE", "/api/dfc/" + first.split("/api/dfc/", 1)[1], bounded.tokens[C])[0] == 204
    assert bounded.delivery(path, {line: 2})[0] == 201
    assert bounded.delivery(path, {line: 1})[0] == 413
    # The default bound holds too (documented: DFC_HUB_MAX_DELIVERIES).
    assert parties.api.target.application.extensions["dfc_hub"].settings.max_deliveries == 100


@pytest.mark.parametrize("quantity", [0.000001, "0.0009", 0, "1e-7", "1.0000001"])
def test_a_delivery_quantity_below_the_floor_or_finer_than_it_is_422(parties, quantity):
    """Finding 7: deliveries of 0.000001 each let one line carry a million deliveries' lines."""
    path = parties.create(quantity=3, split=())
    line = _line(parties, path)
    before = parties.read(path)
    code, body = parties.delivery(path, {line: quantity})
    assert code == 422 and any(v["path"].endswith("#quantity") for v in body["violations"]), body
    assert parties.read(path) == before


def test_a_delivery_may_carry_the_whole_of_a_line_smaller_than_the_floor(parties):
    path = parties.create(quantity="0.0005", split=())
    assert parties.delivery(path, {_line(parties, path): "0.0005"})[0] == 201


@pytest.mark.parametrize("place", ["x" * 3_500_000, {"@id": "http://places.example/" + "x" * 100_000},
                                   {"@type": "dfc-b:Address", "dfc-b:hasStreet": "x" * 50_000},
                                   {"@type": "dfc-b:Address", "dfc-b:description": [f"d{n}" for n in range(5000)]}],
                         ids=["3.5 MB literal", "100 kB IRI", "50 kB street", "5000 values"])
def test_a_delivery_place_beyond_reason_is_422_naming_the_term(parties, place):
    """Finding 7: hub:deliveryPlace had no length limit."""
    path = parties.create(quantity=3, split=())
    line = _line(parties, path)
    before = parties.read(path)
    body = {"@context": CTX, "@type": "hub:Delivery", "hub:deliveryPlace": place, "hub:desiredDeliveryDate": "2026-12-01",
            "hub:hasDeliveryLine": {"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 1}}
    code, answer = parties.api.send("POST", path + "/deliveries", parties.tokens[C], body=body)
    assert code == 422, answer
    named = {v["path"] for v in answer["violations"]}
    assert named & {HUB_NS + "deliveryPlace", "https://github.com/datafoodconsortium/ontology/releases/latest/"
                    "download/DFC_BusinessOntology.owl#hasStreet"}, answer
    assert len(str(answer)) < 20_000                # the value is not echoed back whole
    assert parties.read(path) == before


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", {"@value": "9999-12-31", "@type": "xsd:date"}])
def test_a_delivery_date_outside_the_dates_the_server_computes_with_is_422(parties, day):
    path = parties.create(quantity=3, split=())
    before = parties.read(path)
    code, body = parties.delivery(path, {_line(parties, path): 1}, day=day)
    assert code == 422 and "1000-01-01" in str(body), body
    assert parties.read(path) == before


def test_an_order_put_at_the_camelcase_route_walks_the_lifecycle_and_its_stock_follows(parties):
    """An order created by a PUT to `…/Enterprises/x/Orders/{oid}` is stored under that spelling:
    its moves answered 200 and changed nothing (the edit described the snake_case IRI), its stock
    stayed held after placing, and every delivery naming its lines was 422."""
    start = _ledger(parties)
    body = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": HUB_A, "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 3, "dfc-b:concerns": parties.offer}}
    code, answer = parties.api.send("PUT", "/api/dfc/Enterprises/jean-farm/Orders/camel", parties.tokens[C], body=body)
    assert code == 201, answer
    path = "/api/dfc/enterprises/jean-farm/orders/camel"
    line = _line(parties, path)
    assert parties.delivery(path, {line: 1})[0] == 201
    assert parties.delivery("/api/dfc/Enterprises/jean-farm/Orders/camel", {line: 1})[0] == 201
    for step, who in (("placed", C), ("confirmed", S)):
        code, body = parties.move(path, step, who)
        assert code == 200 and view(body)["status"] == step, body
    assert _ledger(parties) == (start[0], start[1], start[2] + 3)
    assert [n["@id"] for n in nodes(parties.read(path)) if n.get("@type") == "dfc-b:Order"] == \
        [order_node(answer)["@id"]]                              # one order node: no second spelling
    code, body = parties.ship_next(path)
    assert code == 200 and view(body)["status"] == "partially_shipped", body
    assert _ledger(parties) == (start[0] - 1, start[1], start[2] + 2)
    assert parties.ship_next(path)[0] == 200
    assert _ledger(parties) == (start[0] - 2, start[1], start[2] + 1)     # 1 never planned: still committed
    assert _unallocated(parties, path) == 1
