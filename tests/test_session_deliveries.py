"""A hub plans deliveries of its session's draft wholesale order; its customers still change their minds.

Found by the model-based test (tests/test_model.py): a delivery planned on the draft wholesale
order of an open session made every later cancellation of a customer order there a 409
("deliveries carry more than the line has"), and the hold expirer failed the same way, only
logging it, so the customer's stock stayed held. API.md: a cancellation "takes its lines back out
at once". The deliveries now give way, the one wanted latest first, each change an event to both
parties; and a final order's deliveries change for no one, not even a date the supplier confirms.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from conftest import jsonld
from support.orders import CTX, HUB_A, MONDAY, client, clock, hub_a, jean, path_of, wholesale  # noqa: F401

pytestmark = pytest.mark.calendar     # builds dates from the clock

OFFER = f"{HUB_A}/offers/jean-carrots"
CARROTS = "/api/dfc/enterprises/jean-farm/catalog_items/carrots"
LD = {"Accept": "application/ld+json"}


def _checkout(client, token, quantity, name, until: dt.datetime | None = None) -> str:
    node = {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
            "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity, "dfc-b:concerns": OFFER}]}
    if until is not None:
        node["hub:holdUntil"] = until.isoformat()
    doc = {"@context": [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}],
           "@graph": [node, {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": name}]}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=token, **jsonld(doc))
    assert r.status_code == 201, r.get_data(as_text=True)
    return path_of(r.headers["Location"])


def _order_and_line(client, token) -> tuple[str, str]:
    [order] = wholesale(client, token)
    part = order["dfc-b:hasPart"]
    part = part[0] if isinstance(part, list) else part
    return path_of(order["@id"]), part["@id"] if isinstance(part, dict) else part


def _plan(client, token, order: str, line: str, quantity, day: str | None) -> str:
    body = {"@context": CTX, "@type": "hub:Delivery", **({"hub:desiredDeliveryDate": day} if day else {}),
            "hub:hasDeliveryLine": [{"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line},
                                     "dfc-b:quantity": quantity}]}
    r = client.post(order + "/deliveries", headers=token, **jsonld(body))
    assert r.status_code == 201, r.get_data(as_text=True)
    return path_of(r.headers["Location"])


def _carried(client, token, delivery: str) -> list[Decimal]:
    body = client.get(delivery, headers={**token, **LD}).get_json()
    return [Decimal(str(n["dfc-b:quantity"])) for n in body.get("@graph", [body]) if n.get("@type") == "hub:DeliveryLine"]


def _held(client, token) -> Decimal:
    return Decimal(str(client.get(CARROTS, headers={**token, **LD}).get_json()["hub:held"]))


def _changes(client, token, eid: str) -> list[str]:
    r = client.get(f"/api/dfc/enterprises/{eid}/events", headers={**token, "Accept": "application/json"})
    return [e["data"]["delivery"] for e in r.get_json()["events"] if e["type"] == "procurement.delivery_changed"]


def test_a_cancellation_cuts_back_the_deliveries_planned_of_its_lines_the_latest_first(client, hub_a, jean):
    held = _held(client, jean)
    ali, bea = _checkout(client, hub_a, 2, "Ali"), _checkout(client, hub_a, 3, "Bea")
    order, line = _order_and_line(client, hub_a)
    late = _plan(client, hub_a, order, line, 1, (MONDAY + dt.timedelta(days=9)).date().isoformat())
    early = _plan(client, hub_a, order, line, 4, (MONDAY + dt.timedelta(days=2)).date().isoformat())
    planned = len(_changes(client, jean, "jean-farm"))
    assert _held(client, jean) == held + 5

    # Bea's 3 go: the later delivery gives its 1, the earlier 2 of its 4.
    assert client.delete(bea, headers=hub_a).status_code == 204
    assert _held(client, jean) == held + 2
    assert (_carried(client, hub_a, early), _carried(client, hub_a, late)) == ([Decimal(2)], [])
    changed = _changes(client, jean, "jean-farm")[planned:]
    assert sorted(path_of(d) for d in changed) == sorted([early, late])
    assert _changes(client, hub_a, "hub-a") == _changes(client, jean, "jean-farm")      # both parties

    # Ali's 2 go too: nothing is left to deliver; the deliveries stay, with their dates.
    assert client.delete(ali, headers=hub_a).status_code == 204
    assert _held(client, jean) == held
    assert _carried(client, hub_a, early) == [] and client.get(early, headers=hub_a).status_code == 200


def test_a_delivery_wanted_on_no_date_gives_way_before_any_dated_one(client, hub_a, jean):
    ali, _ = _checkout(client, hub_a, 1, "Ali"), _checkout(client, hub_a, 2, "Bea")
    order, line = _order_and_line(client, hub_a)
    dated = _plan(client, hub_a, order, line, 2, (MONDAY + dt.timedelta(days=2)).date().isoformat())
    undated = _plan(client, hub_a, order, line, 1, None)
    assert client.delete(ali, headers=hub_a).status_code == 204
    assert (_carried(client, hub_a, undated), _carried(client, hub_a, dated)) == ([], [Decimal(2)])


def test_an_ended_hold_gives_its_stock_back_though_its_hub_planned_a_delivery(client, clock, hub_a, jean):
    held = _held(client, jean)
    _checkout(client, hub_a, 2, "Ali", until=MONDAY + dt.timedelta(seconds=2))
    order, line = _order_and_line(client, hub_a)
    delivery = _plan(client, hub_a, order, line, 2, (MONDAY + dt.timedelta(days=2)).date().isoformat())
    clock.set(MONDAY + dt.timedelta(seconds=3))
    assert len(client.application.extensions["dfc_hub"].orders.expire_holds(clock.now())) == 1
    assert _held(client, jean) == held
    assert _carried(client, hub_a, delivery) == []


def test_nothing_changes_a_final_orders_deliveries_not_even_the_date_its_supplier_confirms(client, hub_a, jean):
    _checkout(client, hub_a, 2, "Ali")
    order, line = _order_and_line(client, hub_a)
    delivery = _plan(client, hub_a, order, line, 2, (MONDAY + dt.timedelta(days=2)).date().isoformat())
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    r = client.post(order + "/status", headers=jean, json={"status": "canceled_by_supplier"})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = client.get(delivery, headers={**jean, **LD}).get_json()
    for node in body.get("@graph", [body]):
        if node.get("@type") == "hub:Delivery":
            node["hub:confirmedDeliveryDate"] = (MONDAY + dt.timedelta(days=1)).date().isoformat()
    before = client.get(order, headers={**jean, **LD}).get_data()
    r = client.put(delivery, headers=jean, **jsonld(body))
    assert r.status_code == 409 and r.get_json()["currentStatus"] == "canceled_by_supplier", r.get_data(as_text=True)
    assert client.get(order, headers={**jean, **LD}).get_data() == before
