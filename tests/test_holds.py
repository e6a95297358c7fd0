"""Holds that expire (API.md "Holds that expire"): a Held order's hub:holdUntil, a hub's hub:holdMinutes.

The clock is injected (ManualClock): the hold ends when the test moves the clock past it, and the
expirer runs when the test says so — as the `serve` worker, the `dfc-hub expire-holds` command
or racing the buyer's own write.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from app.domain.clock import ManualClock
from app.events import outbox as events
from app.runtime.workers import expire_holds, workers_for
from conftest import ADMIN, BASE, jsonld, make_app, token_for
from support.orders import client, clock, hub_a  # noqa: F401 - fixtures
from support.orders import (CTX, HUB_A, JEAN, MONDAY, after_session_end, checkout, ledger, main_node, order,
                            path_of, place, sale_week, wholesale_quantities)

pytestmark = pytest.mark.calendar     # builds dates from the clock

DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))
OFFER = f"{HUB_A}/offers/jean-carrots"
SESSION = f"{HUB_A}/sale_sessions/week-48"


def services(client):
    return client.application.extensions["dfc_hub"]


def held_checkout(client, token, until: dt.datetime | None = None, quantity=4, typed=False,
                  status="dfc-v:Held") -> str:
    """A customer's Held order at hub A (4 of Jean's carrots), with a hold until `until`; its path."""
    node = {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": status,
            "dfc-b:belongsTo": SESSION,
            "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity, "dfc-b:concerns": OFFER}]}
    if until is not None:
        text = until.isoformat()
        node["hub:holdUntil"] = {"@value": text, "@type": "xsd:dateTime"} if typed else text
    doc = {"@context": [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}],
           "@graph": [node, {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=token, **jsonld(doc))
    assert r.status_code == 201, r.get_data(as_text=True)
    return path_of(r.headers["Location"])


def status(client, token, path) -> str:
    return main_node(client.get(path, headers=token).get_json())["dfc-b:hasOrderStatus"]


def test_a_customer_order_is_cancelled_when_its_hold_ends_and_its_stock_comes_back(client, clock, hub_a):
    before = ledger(client)
    expiring = held_checkout(client, hub_a, MONDAY + dt.timedelta(seconds=2))
    kept = held_checkout(client, hub_a, quantity=1)           # no hold of its own, no setting
    assert ledger(client)["held"] == before["held"] + 5
    assert expire_holds(services(client)) == []               # not ended yet
    clock.set(MONDAY + dt.timedelta(seconds=3))
    assert [o.value for o in expire_holds(services(client))] == [BASE + expiring]
    assert status(client, hub_a, expiring) == "dfc-v:Cancelled"
    assert status(client, hub_a, kept) == "dfc-v:Held"
    assert ledger(client)["held"] == before["held"] + 1
    assert wholesale_quantities(client, hub_a) == {f"{JEAN}/offers/carrots": 1}
    # The reason is on the order: one step of history, from Held to Cancelled.
    body = client.get(expiring, headers=hub_a).get_json()
    [step] = [n for n in body["@graph"] if n.get("@type") == "hub:StatusChange"]
    assert step["hub:reason"] == "hold expired" and step["hub:toStatus"] == "dfc-v:Cancelled"
    assert expire_holds(services(client)) == []               # once


def test_a_hold_written_as_a_typed_date_time_with_an_offset_ends_alike(client, clock, hub_a):
    path = held_checkout(client, hub_a, (MONDAY + dt.timedelta(minutes=5)).astimezone(
        dt.timezone(dt.timedelta(hours=2))), typed=True)
    clock.set(MONDAY + dt.timedelta(minutes=4))
    assert expire_holds(services(client)) == []
    clock.set(MONDAY + dt.timedelta(minutes=5))
    assert len(expire_holds(services(client))) == 1 and status(client, hub_a, path) == "dfc-v:Cancelled"


def test_the_hubs_hold_minutes_hold_a_customer_order_that_names_no_hold(client, clock, hub_a):
    r = client.put("/api/dfc/enterprises/hub-a/settings", headers=hub_a,
                   **jsonld({"@context": CTX, "@type": "hub:HubSettings", "hub:holdMinutes": 30}))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert client.get("/api/dfc/enterprises/hub-a/settings", headers=hub_a).get_json()["hub:holdMinutes"] == 30
    draft = held_checkout(client, hub_a, status="dfc-v:Draft")
    assert "hub:holdUntil" not in main_node(client.get(draft, headers=hub_a).get_json())   # it holds nothing
    path = held_checkout(client, hub_a)
    until = main_node(client.get(path, headers=hub_a).get_json())["hub:holdUntil"]
    assert dt.datetime.fromisoformat(until.replace("Z", "+00:00")) == MONDAY + dt.timedelta(minutes=30)
    clock.set(MONDAY + dt.timedelta(minutes=29))
    assert expire_holds(services(client)) == []
    clock.set(MONDAY + dt.timedelta(minutes=30))
    assert len(expire_holds(services(client))) == 1 and status(client, hub_a, path) == "dfc-v:Cancelled"


def test_bad_hold_minutes_are_refused_saying_where(client, hub_a):
    for bad in (0, "soon", 2.5, 2 ** 63):
        r = client.put("/api/dfc/enterprises/hub-a/settings", headers=hub_a,
                       **jsonld({"@context": CTX, "@type": "hub:HubSettings", "hub:holdMinutes": bad}))
        assert r.status_code == 422, (bad, r.get_data(as_text=True))
        assert "holdMinutes" in r.get_data(as_text=True)


def test_a_hold_that_has_passed_already_is_refused_saying_where_and_changes_nothing(client, clock, hub_a):
    """A Held order asked to hold until a time already gone would reserve stock only for the
    expirer to release it: a 422 naming hub:holdUntil, for a new order and for a PUT alike."""
    before, log = ledger(client), events.last_sequence(services(client).store)
    node = {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:belongsTo": SESSION, "hub:holdUntil": (MONDAY - dt.timedelta(seconds=1)).isoformat(),
            "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 4, "dfc-b:concerns": OFFER}]}
    doc = {"@context": [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}],
           "@graph": [node, {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, **jsonld(doc))
    assert r.status_code == 422 and r.get_json()["pointer"] == "/hub:holdUntil", r.get_data(as_text=True)
    wholesale = place(client, hub_a, order((f"{JEAN}/offers/carrots", 3), **{"hub:holdUntil": MONDAY.isoformat()}))
    assert wholesale.status_code == 422, wholesale.get_data(as_text=True)       # its end is now: passed too
    assert ledger(client) == before and events.last_sequence(services(client).store) == log
    path = held_checkout(client, hub_a, MONDAY + dt.timedelta(minutes=10))
    body = client.get(path, headers=hub_a).get_json()
    held = main_node(body)["hub:holdUntil"]
    main_node(body)["hub:holdUntil"] = (MONDAY - dt.timedelta(minutes=1)).isoformat()
    r = client.put(path, headers=hub_a, **jsonld(body))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert main_node(client.get(path, headers=hub_a).get_json())["hub:holdUntil"] == held
    complete = place(client, hub_a, order((f"{JEAN}/offers/carrots", 1), status="dfc-v:Complete",
                                          **{"hub:holdUntil": MONDAY.isoformat()}))
    assert complete.status_code == 201, complete.get_data(as_text=True)      # placed at once: nothing is held



@pytest.mark.parametrize("offset, status", [("+14:01", 422), ("-15:00", 422), ("+24:00", 422),
                                            ("+14:00", 201), ("-14:00", 201)])
def test_a_hold_with_an_offset_no_date_time_has_is_refused(client, hub_a, offset, status):
    """XSD bounds a time zone at 14 hours: "…+14:01" was kept as an xsd:dateTime no XSD reader
    takes (found by the hostile probe of holds). The same hold at ±14:00 is taken."""
    before, later = ledger(client), MONDAY + dt.timedelta(days=2)      # a hold to come: only its offset may be wrong
    r = place(client, hub_a, order((f"{JEAN}/offers/carrots", 3), **{
        "hub:holdUntil": {"@value": f"{later:%Y-%m-%dT%H:%M:%S}{offset}", "@type": "xsd:dateTime"}}))
    assert r.status_code == status, r.get_data(as_text=True)
    if status == 422:
        assert "dateTime" in r.get_data(as_text=True) and ledger(client) == before


@pytest.mark.parametrize("kind", ["customer", "wholesale"])
def test_a_draft_made_held_keeping_a_hold_that_has_passed_is_refused_and_reserves_nothing(client, clock, hub_a, kind):
    """A PUT that leaves hub:holdUntil out keeps the hold the order had: a Draft whose hold passed
    meanwhile, made Held so, asks to hold until a time gone, as if it had said so (422). Taken,
    it reserved stock that no later write could use: each is 409, the hold having ended."""
    until = (MONDAY + dt.timedelta(minutes=10)).isoformat()
    if kind == "customer":
        path = held_checkout(client, hub_a, MONDAY + dt.timedelta(minutes=10), status="dfc-v:Draft")
    else:
        r = place(client, hub_a, order((f"{JEAN}/offers/carrots", 3), status="dfc-v:Draft",
                                       **{"hub:holdUntil": until}))
        assert r.status_code == 201, r.get_data(as_text=True)
        path = path_of(r.headers["Location"])
    before = ledger(client)
    body = client.get(path, headers=hub_a).get_json()
    node = main_node(body)
    node.pop("hub:holdUntil")
    node.pop("hub:status", None)
    node["dfc-b:hasOrderStatus"] = "dfc-v:Held"
    clock.set(MONDAY + dt.timedelta(minutes=11))
    r = client.put(path, headers=hub_a, **jsonld(body))
    assert r.status_code == 422 and r.get_json()["pointer"] == "/hub:holdUntil", r.get_data(as_text=True)
    assert ledger(client) == before and status(client, hub_a, path) == "dfc-v:Draft"
    node["hub:holdUntil"] = (MONDAY + dt.timedelta(hours=1)).isoformat()     # a new hold: taken
    r = client.put(path, headers=hub_a, **jsonld(body))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert status(client, hub_a, path) == "dfc-v:Held" and ledger(client) != before


def test_a_write_to_an_order_whose_hold_has_ended_is_409_and_a_put_keeps_the_hold(client, clock, hub_a):
    path = held_checkout(client, hub_a, MONDAY + dt.timedelta(minutes=10))
    body = client.get(path, headers=hub_a).get_json()
    node = main_node(body)
    # A PUT that leaves hub:holdUntil out keeps the hold the order had.
    node.pop("hub:holdUntil")
    r = client.put(path, headers=hub_a, **jsonld(body))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "hub:holdUntil" in main_node(client.get(path, headers=hub_a).get_json())
    clock.set(MONDAY + dt.timedelta(minutes=10))
    for write in (lambda: client.put(path, headers=hub_a, **jsonld(body)),
                  lambda: client.delete(path, headers=hub_a)):
        r = write()
        assert r.status_code == 409 and "hold" in r.get_json()["detail"], r.get_data(as_text=True)
    assert status(client, hub_a, path) == "dfc-v:Held"       # refused, nothing changed: the expirer's to cancel


def test_a_draft_wholesale_order_is_cancelled_for_its_buyer_when_its_hold_ends(client, clock, hub_a):
    before = ledger(client)
    r = place(client, hub_a, order((f"{JEAN}/offers/carrots", 3),
                                   **{"hub:holdUntil": (MONDAY + dt.timedelta(hours=1)).isoformat()}))
    assert r.status_code == 201, r.get_data(as_text=True)
    path = path_of(r.headers["Location"])
    assert ledger(client)["held"] == before["held"] + 3
    clock.set(MONDAY + dt.timedelta(hours=1))
    # The buyer's move after the end is refused; the server's cancellation is not.
    moved = client.post(path + "/status", headers=hub_a, json={"status": "placed"})
    assert moved.status_code == 409, moved.get_data(as_text=True)
    assert [o.value for o in expire_holds(services(client))] == [BASE + path]
    body = client.get(path, headers=hub_a).get_json()
    assert main_node(body)["hub:status"] == "hub:canceled_by_consumer"
    steps = [n for n in body["@graph"] if n.get("@type") == "hub:StatusChange"]
    assert [s.get("hub:reason") for s in steps if s["hub:toStatus"] == "hub:canceled_by_consumer"] == ["hold expired"]
    assert ledger(client) == before
    changes = [e.payload()["data"] for e in events.log(services(client).store, [HUB_A], 0,
                                                      [events.ORDER_STATUS_CHANGED], 100)]
    assert [(c["from"], c["to"]) for c in changes if c["order"] == BASE + path] == [("draft", "canceled_by_consumer")]



def test_a_hubs_consolidated_wholesale_order_takes_no_hold_of_its_own(client, clock, hub_a):
    """Its customers' orders draw on it. With a hold of its own it was cancelled when the hold
    ended: the producer's stock came back while the customers' orders stayed Held, nothing
    reserved upstream for them (found by the hostile probe of holds)."""
    held_checkout(client, hub_a)
    doc = client.get("/api/dfc/enterprises/hub-a/sale_sessions/week-48/wholesale_orders", headers=hub_a).get_json()
    node = main_node(doc)
    node["hub:holdUntil"] = (MONDAY + dt.timedelta(hours=1)).isoformat()
    doc["@context"] = [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}]
    before = ledger(client)
    put = client.put(path_of(node["@id"]), headers=hub_a, **jsonld(doc))
    assert put.status_code == 422 and put.get_json()["pointer"] == "/hub:holdUntil", put.get_data(as_text=True)
    clock.set(MONDAY + dt.timedelta(hours=2))
    assert expire_holds(services(client)) == [] and ledger(client) == before

def test_an_order_without_a_hold_stays_held_until_the_session_closes(client, clock, hub_a):
    path = held_checkout(client, hub_a)
    r = place(client, hub_a, order((f"{JEAN}/offers/carrots", 1)))
    clock.set(MONDAY + dt.timedelta(days=3))
    assert expire_holds(services(client)) == []
    assert status(client, hub_a, path) == "dfc-v:Held"
    assert status(client, hub_a, path_of(r.headers["Location"])) == "dfc-v:Held"


def test_a_customer_order_of_a_closed_session_is_the_hubs_placed_order_not_the_expirers(client, clock, hub_a,
                                                                                          caplog):
    path = held_checkout(client, hub_a, MONDAY + dt.timedelta(days=5))
    clock.set(after_session_end(client))    # after hub A's session ended
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    committed = ledger(client)
    clock.set(MONDAY + dt.timedelta(days=6))
    assert expire_holds(services(client)) == []
    assert "not cancelled" not in caplog.text         # not even tried: the session's close ended its hold
    assert status(client, hub_a, path) == "dfc-v:Held" and ledger(client) == committed


def test_a_close_before_the_expirer_ran_cancels_the_holds_that_ended_instead_of_committing_them(client, clock,
                                                                                                 hub_a):
    """The close and the expirer are two workers (and a hub may close by hand): a hold that ended
    before the close was committed by it when the close came first, and then stayed Held for
    ever, every write refused with "the server cancels the order" — which it never did."""
    before = ledger(client)
    ended = held_checkout(client, hub_a, MONDAY + dt.timedelta(hours=1))
    kept = held_checkout(client, hub_a, quantity=2)                    # no hold: the close commits it
    clock.set(after_session_end(client))    # after hub A's session ended
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    body = client.get(ended, headers=hub_a).get_json()
    assert main_node(body)["dfc-b:hasOrderStatus"] == "dfc-v:Cancelled"
    assert [n.get("hub:reason") for n in body["@graph"] if n.get("@type") == "hub:StatusChange"] == ["hold expired"]
    assert status(client, hub_a, kept) == "dfc-v:Held"
    assert ledger(client)["committed"] == before["committed"] + 2 and ledger(client)["held"] == before["held"]


@pytest.mark.parametrize("rival", ["put", "cancel", "expirer", "wholesale cancel"])
def test_the_expirer_racing_the_buyer_or_another_expirer_cancels_once(tmp_path, rival):
    clock = ManualClock(MONDAY)
    client = make_app(clock=clock, store=f"oxigraph:{tmp_path / 'store'}").test_client()
    token = token_for(client, HUB_A)
    before = ledger(client)
    until = MONDAY + dt.timedelta(seconds=2)
    if rival == "wholesale cancel":
        r = place(client, token, order((f"{JEAN}/offers/carrots", 3), **{"hub:holdUntil": until.isoformat()}))
        path = path_of(r.headers["Location"])
        buyers_write = lambda: client.post(path + "/status", headers=token, json={"status": "canceled_by_consumer"})
    else:
        path = held_checkout(client, token, until)
        body = client.get(path, headers=token).get_json()
        if rival == "cancel":
            main_node(body)["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
        buyers_write = lambda: client.put(path, headers=token, **jsonld(body))
    clock.set(until)
    book, iri = services(client).orders, NamedNode(BASE + path)
    results, start = {}, threading.Barrier(2)

    def expirer(name):
        start.wait()
        results[name] = book.expire_hold(iri)

    def buyer():
        start.wait()
        results["buyer"] = buyers_write().status_code

    threads = [threading.Thread(target=expirer, args=("expirer",)),
               threading.Thread(target=buyer) if rival != "expirer" else
               threading.Thread(target=expirer, args=("second",))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whoever came first, the buyer's write is refused and the order is cancelled exactly once.
    if rival == "expirer":
        assert sorted(results.values()) == [False, True]
    else:
        assert results == {"expirer": True, "buyer": 409}
    assert ledger(client) == before
    body = client.get(path, headers=token).get_json()
    assert main_node(body)["dfc-b:hasOrderStatus"] == "dfc-v:Cancelled"
    steps = [n for n in body["@graph"] if n.get("@type") == "hub:StatusChange" and n.get("hub:reason") == "hold expired"]
    assert len(steps) == 1
    changes = [e for e in events.log(services(client).store, [HUB_A], 0, [events.ORDER_STATUS_CHANGED], 100)
               if e.payload()["data"]["order"] == BASE + path]
    assert len(changes) == (1 if rival == "wholesale cancel" else 0)     # a customer order's records none
    services(client).store.close()


def test_the_worker_in_serve_and_the_cron_command_cancel_expired_holds(tmp_path):
    clock = ManualClock(MONDAY)
    store = f"oxigraph:{tmp_path / 'store'}"
    client = make_app(clock=clock, store=store, close_every_seconds=1).test_client()
    token = token_for(client, HUB_A)
    first = held_checkout(client, token, MONDAY + dt.timedelta(seconds=2))
    second = held_checkout(client, token, MONDAY + dt.timedelta(days=1), quantity=1)
    clock.set(MONDAY + dt.timedelta(seconds=3))
    workers = workers_for(services(client)).start()      # as `serve` starts them
    try:
        expirer = next(w for w in workers.all if w.name == "hold-expirer")
        deadline = time.monotonic() + 60      # a bound on waiting, not a measure: one period is 1 s
        while expirer.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert workers.stop()
    assert expirer.runs >= 1 and expirer.last_error is None
    assert status(client, token, first) == "dfc-v:Cancelled"
    assert status(client, token, second) == "dfc-v:Held"
    services(client).store.close()     # an on-disk store opens in one process at a time
    env = {**os.environ, "DFC_HUB_STORE": store, "PUBLIC_BASE_URL": BASE,
           "DFC_HUB_CLOCK_START": (MONDAY + dt.timedelta(days=2)).isoformat()}
    r = subprocess.run([DFC_HUB, "expire-holds"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"cancelled {BASE}{second}", "1 order(s) cancelled (hold expired)"]
    again = subprocess.run([DFC_HUB, "expire-holds"], env=env, capture_output=True, text=True, timeout=120)
    assert again.stdout.strip() == "0 order(s) cancelled (hold expired)"
    client = make_app(clock=clock, store=store, demo=False).test_client()
    assert status(client, token_for(client, HUB_A), second) == "dfc-v:Cancelled"
    services(client).store.close()


def test_an_expired_hold_shrinks_the_order_forwarded_to_a_partner_platform(tmp_path):
    """Two servers of ours on 127.0.0.1: the hub's platform and Jean's, whose carrots hub A resells."""
    import requests
    from support.threaded_server import serving

    clock = ManualClock(MONDAY)
    admin = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/ld+json"}
    http, hub_app = requests.Session(), {}

    def put(iri, node):
        r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers=admin)
        assert r.status_code in (200, 201), r.text

    def make_hub(base):
        hub_app["app"] = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'hub'}",
                                  public_base_url=base, webhook_allow_private=True)
        return hub_app["app"]

    jean_app = lambda base: make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'jean'}",
                                     public_base_url=base)
    with serving(jean_app) as jean_base, serving(make_hub) as hub_base:
        jean, hub = f"{jean_base}/api/dfc/enterprises/jean-farm", f"{hub_base}/api/dfc/enterprises/hub-a"
        put(jean, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Jean"})
        put(f"{jean}/supplied_products/carrots", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "carrots"})
        put(f"{jean}/catalog_items/carrots", {"@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10,
                                              "dfc-b:references": f"{jean}/supplied_products/carrots"})
        put(f"{jean}/offers/carrots", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{jean}/catalog_items/carrots",
                                       "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2,
                                                          "dfc-b:hasUnit": "dfc-m:Euro"}})
        put(hub, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
        put(f"{hub}/catalog_items/jean-carrots", {"@type": "dfc-b:CatalogItem",
                                                  "dfc-b:references": f"{jean}/supplied_products/carrots"})
        put(f"{hub}/offers/jean-carrots", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{hub}/catalog_items/jean-carrots"})
        put(f"{hub}/sale_sessions/week-48", sale_week())
        at_jean = http.post(f"{jean_base}/api/admin/tokens", json={"agent": hub, "scopes": []}, headers=admin).json()
        token = {"Authorization": "Bearer " + http.post(f"{hub_base}/api/admin/tokens", json={
            "agent": hub, "scopes": []}, headers=admin).json()["token"]}
        r = http.put(f"{hub}/partners/jean", headers=token, json={
            "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{jean}/orders", "token": at_jean["token"]})
        assert r.status_code == 201, r.text
        assert http.post(f"{hub}/partners/jean/sync", headers=token).status_code == 200

        def held_at_jean():
            return http.get(f"{jean}/catalog_items/carrots", headers={"Accept": "application/ld+json"}).json()["hub:held"]

        basket = {"@context": [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}], "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{hub}/sale_sessions/week-48", "hub:holdUntil": (MONDAY + dt.timedelta(seconds=2)).isoformat(),
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 3,
                                "dfc-b:concerns": f"{hub}/offers/jean-carrots"}]},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
        r = http.post(f"{hub}/orders", json=basket, headers={**token, "Content-Type": "application/ld+json"})
        assert r.status_code == 201, r.text
        assert held_at_jean() == 3
        hub_services = hub_app["app"].extensions["dfc_hub"]
        assert expire_holds(hub_services) == []
        clock.set(MONDAY + dt.timedelta(seconds=2))
        assert len(expire_holds(hub_services)) == 1
        assert held_at_jean() == 0
        order = http.get(r.headers["Location"], headers={**token, "Accept": "application/ld+json"}).json()
        assert main_node(order)["dfc-b:hasOrderStatus"] == "dfc-v:Cancelled"


def test_every_statement_the_server_writes_on_a_customer_order_is_one_analysts_may_read(client, clock, hub_a):
    """Erasure drops, and the analysts' dataset leaves out, every statement of a customer's order
    that app/domain/personal.py does not list: a term the server starts writing on customer orders
    and nobody lists there would take every customer order out of analytics. Each way a customer
    order goes, from the server's own hand, must say nothing but listed terms."""
    from app.domain import personal
    expired = held_checkout(client, hub_a, MONDAY + dt.timedelta(seconds=2))
    cancelled = held_checkout(client, hub_a, quantity=1)
    completed = held_checkout(client, hub_a, quantity=2)
    body = client.get(cancelled, headers=hub_a).get_json()
    main_node(body)["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
    assert client.put(cancelled, headers=hub_a, **jsonld(body)).status_code == 200
    body = client.get(completed, headers=hub_a).get_json()
    main_node(body)["dfc-b:hasOrderStatus"] = "dfc-v:Complete"
    assert client.put(completed, headers=hub_a, **jsonld(body)).status_code == 200
    clock.set(MONDAY + dt.timedelta(seconds=3))
    assert len(expire_holds(services(client))) == 1
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200
    store = services(client).store
    for path in (expired, cancelled, completed):
        doc = store.graph(NamedNode(BASE + path))
        assert personal.is_customer_order(doc), path
        unlisted = [t for t in doc if not personal.says_nothing(t)]
        assert not unlisted, (path, unlisted)
