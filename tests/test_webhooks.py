"""Webhooks end to end in one process: the order flow's events reach a real receiver on loopback,
signed so that the `standardwebhooks` package (code we did not write) accepts them, retried per
DFC_HUB_WEBHOOK_RETRY_SCHEDULE on the app's clock, and the event log pages exactly."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import BASE, DEMO_MONDAY, admin, make_app, token_for
from pyoxigraph import Literal, NamedNode, Triple
from standardwebhooks import Webhook

from app import queries
from app.events.dispatcher import BATCH, Dispatcher, Outcome
from app.events.sender import WebhookSender
from app.events import outbox as events
from app.domain.clock import ManualClock
from app.events.subscriptions import W, key_graph, move_old_keys
from support.orders import CARROTS, HUB_A, HUB_B, JEAN, order, place
from support.webhook_receiver import receiving

FARM = "/api/dfc/enterprises/jean-farm"
ALL = list(events.TYPES)


@pytest.fixture
def receiver():
    with receiving() as r:
        yield r


def _app(schedule="0,0,0,0", **settings):
    clock = ManualClock(DEMO_MONDAY)
    app = make_app(clock=clock, webhook_allow_private=True, webhook_retry_schedule=schedule,
                   webhook_timeout_seconds=5, **settings)
    return app, clock


def _subscribe(client, url, types=("procurement.order_received",), eid="jean-farm") -> dict:
    r = client.post(f"/api/dfc/enterprises/{eid}/webhooks", headers=admin(), json={"url": url, "events": list(types)})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()



def test_an_enterprise_keeps_a_bounded_number_of_subscriptions():
    """Every dispatcher pass reads every subscription: one enterprise making thousands slowed
    everyone's deliveries. Past the limit a subscription is 409 and nothing is made; deleting
    one makes room; another enterprise's count is its own."""
    from app.events.subscriptions import MAX_SUBSCRIPTIONS
    client = _app()[0].test_client()
    # Loopback addresses, never resolved, and nothing is sent: no dispatcher runs here.
    made = [_subscribe(client, f"http://127.0.0.1:9/{n}") for n in range(MAX_SUBSCRIPTIONS)]
    r = client.post(f"{FARM}/webhooks", headers=admin(), json={"url": "http://127.0.0.1:9/more",
                                                              "events": ["procurement.order_received"]})
    assert r.status_code == 409 and r.get_json()["limit"] == MAX_SUBSCRIPTIONS, r.get_data(as_text=True)
    assert len(client.get(f"{FARM}/webhooks", headers=admin()).get_json()["webhooks"]) == MAX_SUBSCRIPTIONS
    _subscribe(client, "http://127.0.0.1:9/hub", eid="hub-a")
    assert client.delete(f"{FARM}/webhooks/{made[0]['id']}", headers=admin()).status_code == 204
    _subscribe(client, "http://127.0.0.1:9/more")

def _dispatcher(app) -> Dispatcher:
    return app.extensions["dfc_hub"].dispatcher


def _complete_order(client, quantity=1) -> str:
    """Hub A places a wholesale order at Jean's farm directly Complete (placed); return its IRI."""
    r = place(client, admin(), order((CARROTS, quantity), status="dfc-v:Complete"))
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.headers["Location"]


def test_order_received_arrives_once_per_placed_order_signed_as_standard_webhooks_says(receiver):
    app, _ = _app()
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    placed = [_complete_order(client) for _ in range(3)]
    r = place(client, admin(), order((CARROTS, 1)))          # Held: a draft, nothing is received
    assert r.status_code == 201
    _dispatcher(app).drain()
    got = receiver.wait_for(3)
    assert len(got) == 3 and len({d.id for d in got}) == 3
    verifier = Webhook(sub["secret"])
    bodies = [verifier.verify(d.body, d.headers) for d in got]
    assert sorted(b["data"]["order"] for b in bodies) == sorted(placed)
    assert {b["type"] for b in bodies} == {"procurement.order_received"}
    assert all(b["data"]["supplier"] == JEAN and b["data"]["consumer"] == HUB_A for b in bodies)
    assert all(b["data"]["to"] == "placed" and b["timestamp"].startswith(DEMO_MONDAY.date().isoformat())
               for b in bodies)
    with pytest.raises(Exception):
        Webhook("whsec_" + "A" * 32).verify(got[0].body, got[0].headers)
    _dispatcher(app).drain()
    assert len(receiver.deliveries) == 3            # delivered once each: nothing is sent again


def test_a_receiver_failing_three_times_gets_the_same_webhook_id_four_times(receiver):
    app, _ = _app("0,0,0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    receiver.answers = [500, 500, 500]
    _complete_order(client)
    _dispatcher(app).drain()
    got = receiver.wait_for(4)
    assert len(got) == 4 and len({d.id for d in got}) == 1
    assert all(Webhook(sub["secret"]).verify(d.body, d.headers) for d in got)
    details = client.get(f"{FARM}/webhooks/{sub['id']}", headers=admin()).get_json()
    assert [a["status"] for a in details["attempts"]] == [200, 500, 500, 500]      # newest first
    assert [a["attempt"] for a in details["attempts"]] == [4, 3, 2, 1]
    assert details["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}
    assert "secret" not in details and not any("key" in k.lower() for k in details)


def test_retries_wait_as_the_schedule_says_on_the_apps_clock_and_honour_retry_after(receiver):
    app, clock = _app("0,60,600")
    client = app.test_client()
    _subscribe(client, receiver.url)
    receiver.answers = [(503, {"Retry-After": "300"}), 500]
    _complete_order(client)
    dispatcher = _dispatcher(app)
    dispatcher.drain()
    assert len(receiver.deliveries) == 1
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=61))           # the schedule's 60 s, but Retry-After said 300
    dispatcher.drain()
    assert len(receiver.deliveries) == 1
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=301))
    dispatcher.drain()
    assert len(receiver.deliveries) == 2
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=301 + 599))
    dispatcher.drain()
    assert len(receiver.deliveries) == 2
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=301 + 601))
    dispatcher.drain()
    assert len(receiver.deliveries) == 3 and len(set(receiver.ids())) == 1


@pytest.mark.parametrize("header", ["²", "１２０", "soon", "-5", "1e9"])
def test_a_retry_after_that_is_no_number_of_seconds_nor_a_date_leaves_the_schedule_to_decide(receiver, header):
    """A receiver's Retry-After is read as digits or an HTTP date; anything else (digits of other
    scripts included, which str.isdigit accepts and float() need not) is ignored, never a failed pass."""
    app, clock = _app("0,60,600")
    client = app.test_client()
    _subscribe(client, receiver.url)
    receiver.answers = [(503, {"Retry-After": header})]
    _complete_order(client)
    dispatcher = _dispatcher(app)
    assert dispatcher.drain() == 1
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=61))            # the schedule's 60 s
    assert dispatcher.drain() == 1 and len(receiver.wait_for(2)) == 2
    assert receiver.deliveries[-1].status == 200


def test_a_2xx_whose_retry_after_is_too_long_to_read_is_delivered_once(receiver):
    """A receiver that says yes is answered: a Retry-After of more digits than int() reads is
    ignored, not a failed attempt that sends the event again."""
    app, clock = _app("0,60,600")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    receiver.answers = [(200, {"Retry-After": "9" * 5000})]
    _complete_order(client)
    _dispatcher(app).drain()
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=61))
    _dispatcher(app).drain()
    assert len(receiver.deliveries) == 1
    details = client.get(f"{FARM}/webhooks/{sub['id']}", headers=admin()).get_json()
    assert details["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}


def test_whatever_reading_an_answer_raises_fails_that_delivery_not_the_pass(receiver, monkeypatch):
    """The sender never raises: an answer that trips it up (here, its Retry-After parser made to
    fail) is one failed attempt, retried as the schedule says, and the pass settles the others."""
    import app.events.sender as sender

    def tripped(value):
        raise RuntimeError("tripped")
    app, clock = _app("0,60,600")
    client = app.test_client()
    _subscribe(client, receiver.url)
    _subscribe(client, receiver.url.replace("/hooks", "/other"))
    monkeypatch.setattr(sender, "_retry_after", tripped)
    _complete_order(client)
    assert _dispatcher(app).drain() == 2
    monkeypatch.undo()
    clock.set(DEMO_MONDAY + dt.timedelta(seconds=61))
    assert _dispatcher(app).drain() == 2 and len(receiver.wait_for(4)) == 4


def test_after_the_last_attempt_the_delivery_is_failed_and_a_replay_sends_it_again(receiver):
    app, _ = _app("0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    receiver.answers = [500, 502]
    _complete_order(client)
    _dispatcher(app).drain()
    assert len(receiver.wait_for(2)) == 2
    path = f"{FARM}/webhooks/{sub['id']}"
    assert client.get(path, headers=admin()).get_json()["deliveries"]["failed"] == 1
    _dispatcher(app).drain()
    assert len(receiver.deliveries) == 2                # given up: not sent again by itself
    r = client.post(path + "/replay?after=evt_0", headers=admin())
    assert r.status_code == 202 and r.get_json()["replayed"] == 1
    _dispatcher(app).drain()
    got = receiver.wait_for(3)
    assert len(got) == 3 and len({d.id for d in got}) == 1 and got[-1].json() == got[0].json()
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}


def test_a_replay_after_events_not_yet_sent_still_sends_them(receiver):
    """A replay moves the subscription's cursor to the last event: the events its passes had not
    reached yet are sent too, not skipped, whatever `after` the owner asked for."""
    app, _ = _app()
    client, dispatcher = app.test_client(), _dispatcher(app)
    sub = _subscribe(client, receiver.url)
    path = f"{FARM}/webhooks/{sub['id']}"
    _complete_order(client)
    _complete_order(client)                         # no pass yet: both are still owed
    last = events.last_sequence(app.extensions["dfc_hub"].store)
    r = client.post(path + f"/replay?after={events.event_id(last)}", headers=admin())
    assert r.status_code == 202 and r.get_json()["replayed"] == 0      # nothing after the last asked again
    assert dispatcher.drain() == 2
    assert len({d.id for d in receiver.wait_for(2)}) == 2
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 0, "delivered": 2, "failed": 0}
    _complete_order(client)
    assert dispatcher.drain() == 1 and len(receiver.wait_for(3)) == 3      # and the cursor goes on from there


def test_a_410_disables_the_subscription(receiver):
    app, _ = _app("0,0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    receiver.answers = [410]
    _complete_order(client)
    _dispatcher(app).drain()
    details = client.get(f"{FARM}/webhooks/{sub['id']}", headers=admin()).get_json()
    assert details["active"] is False and "410" in details["disabledReason"]
    _complete_order(client)
    _dispatcher(app).drain()
    assert len(receiver.deliveries) == 1


def _record(store, count: int) -> None:
    """Record `count` status changes told to Jean's farm, in one unit of work."""
    with store.transaction() as tx:
        for n in range(count):
            events.record(tx, events.ORDER_STATUS_CHANGED, [NamedNode(JEAN)], {"n": n}, DEMO_MONDAY)


def test_deliveries_left_to_a_disabled_subscription_hold_up_no_ones_retries(receiver):
    """A receiver that answered 410 has its subscription stopped, and nothing is sent to it: its
    deliveries still pending (a replay made them, as one could of a stopped subscription before
    replay refused it) filled every pass's 64 due deliveries, oldest first, none of them
    sendable — no one else's retry went out."""
    app, clock = _app("0,0")
    client = app.test_client()
    store = app.extensions["dfc_hub"].store
    ours = _subscribe(client, receiver.url, ALL, eid="hub-a")
    with receiving() as gone:
        gone.otherwise = 410
        theirs = _subscribe(client, gone.url, ["procurement.order_status_changed"])
        _record(store, 1)
        _dispatcher(app).drain()
        assert len(gone.deliveries) == 1           # the 410 stopped it
        path = f"{FARM}/webhooks/{theirs['id']}"
        assert client.get(path, headers=admin()).get_json()["active"] is False
        _record(store, BATCH)
        assert client.post(path + "/replay", headers=admin()).status_code == 409
        store.update(queries.load("webhook_replay"), {      # as the replay did before it refused
            "sub": NamedNode(BASE + path), "parties": [NamedNode(JEAN)],
            "types": [Literal("procurement.order_status_changed")], "after": 0,
            "upto": events.last_sequence(store), "now": DEMO_MONDAY})
        assert client.get(path, headers=admin()).get_json()["deliveries"]["pending"] == BATCH + 1
        clock.set(DEMO_MONDAY + dt.timedelta(seconds=1))      # our retry is due after all of those
        receiver.answers = [500]
        _complete_order(client)
        _dispatcher(app).drain()
        clock.set(DEMO_MONDAY + dt.timedelta(seconds=2))
        _dispatcher(app).drain()
        assert len(gone.deliveries) == 1
    # The pass has settled what it sent: hub A's status change, failed once, then retried.
    assert [(d.id, d.status) for d in receiver.deliveries] == [(receiver.deliveries[0].id, s) for s in (500, 200)]
    assert client.get(f"/api/dfc/enterprises/hub-a/webhooks/{ours['id']}",
                      headers=admin()).get_json()["deliveries"]["pending"] == 0


def test_a_subscription_receives_only_its_types_and_its_own_enterprises_events(receiver):
    app, _ = _app()
    client = app.test_client()
    _subscribe(client, receiver.url, ["procurement.order_status_changed"], eid="hub-b")
    mine = _subscribe(client, receiver.url, ["procurement.order_status_changed"], eid="hub-a")
    _complete_order(client)
    _dispatcher(app).drain()
    [got] = receiver.wait_for(1)
    # Written Complete at once, it went from draft to placed, as its history says.
    assert Webhook(mine["secret"]).verify(got.body, got.headers)["data"]["from"] == "draft"


def test_the_session_close_tells_the_hub_and_its_producers_and_each_producer_its_orders(receiver):
    app, _ = _app()
    client = app.test_client()
    hub = _subscribe(client, receiver.url, ["dfc.sale_session_closed"], eid="hub-a")
    farm = _subscribe(client, receiver.url, ALL)
    session = f"{HUB_A}/sale_sessions/week-48"
    r = place(client, admin(), order((CARROTS, 2), **{"dfc-b:belongsTo": session}))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=admin()).status_code == 200
    _dispatcher(app).drain()
    got = receiver.wait_for(4)
    by_secret = {}
    for d in got:
        for name, sub in (("hub", hub), ("farm", farm)):
            try:
                by_secret.setdefault(name, []).append(Webhook(sub["secret"]).verify(d.body, d.headers))
            except Exception:
                pass
    assert [b["type"] for b in by_secret["hub"]] == ["dfc.sale_session_closed"]
    assert by_secret["hub"][0]["data"] == {"session": session, "hub": HUB_A}
    types = sorted(b["type"] for b in by_secret["farm"])
    assert types == ["dfc.sale_session_closed", "procurement.order_received", "procurement.order_status_changed"]
    received = next(b for b in by_secret["farm"] if b["type"] == "procurement.order_received")
    assert received["data"] == {"order": r.headers["Location"], "supplier": JEAN, "consumer": HUB_A,
                                "session": session, "from": "draft", "to": "placed"}


def test_a_cancellation_is_a_status_change_told_to_both_parties():
    app, _ = _app()
    client = app.test_client()
    location = place(client, admin(), order((CARROTS, 1))).headers["Location"]
    hub_a = token_for(client, HUB_A)
    assert client.delete(location[len("http://hub.test"):], headers=hub_a).status_code == 204
    for eid in ("jean-farm", "hub-a"):
        [event] = client.get(f"/api/dfc/enterprises/{eid}/events", headers=admin()).get_json()["events"]
        assert event["type"] == "procurement.order_status_changed"
        assert event["data"]["from"] == "draft" and event["data"]["to"] == "canceled_by_consumer"
    assert client.get("/api/dfc/enterprises/hub-b/events", headers=admin()).get_json()["events"] == []


def test_a_refused_change_records_no_event():
    app, _ = _app()
    client = app.test_client()
    r = place(client, admin(), order((CARROTS, 1000), status="dfc-v:Complete"))
    assert r.status_code == 409
    assert client.get(f"{FARM}/events", headers=admin()).get_json()["events"] == []


def test_the_event_log_pages_through_ten_thousand_events_each_exactly_once():
    app, _ = _app()
    store = app.extensions["dfc_hub"].store
    farm = events.NamedNode(JEAN)
    for batch in range(20):
        with store.transaction() as tx:
            for n in range(500):
                events.record(tx, events.ORDER_STATUS_CHANGED, [farm], {"n": batch * 500 + n}, DEMO_MONDAY)
    client = app.test_client()
    seen, url, pages = [], f"{FARM}/events?per_page=1000", 0
    while url:
        r = client.get(url, headers=admin())
        assert r.status_code == 200, r.get_data(as_text=True)
        seen += [e["data"]["n"] for e in r.get_json()["events"]]
        link = r.headers.get("Link")
        url = link[link.index("<") + 1: link.index(">")][len("http://hub.test"):] if link else None
        pages += 1
    assert seen == list(range(10_000)) and pages == 11      # the last page is empty: nothing after


def test_the_log_filters_by_type_and_resumes_after_an_id():
    app, _ = _app()
    client = app.test_client()
    _complete_order(client)
    _complete_order(client)
    log = client.get(f"{FARM}/events", headers=admin()).get_json()["events"]
    assert [e["type"] for e in log] == ["procurement.order_received", "procurement.order_status_changed"] * 2
    received = client.get(f"{FARM}/events?type=procurement.order_received", headers=admin()).get_json()["events"]
    assert [e["id"] for e in received] == [log[0]["id"], log[2]["id"]]
    later = client.get(f"{FARM}/events?after={log[1]['id']}", headers=admin()).get_json()["events"]
    assert later == log[2:]
    turtle = client.get(f"{FARM}/events", headers={**admin(), "Accept": "text/turtle"})
    assert turtle.status_code == 200 and b"procurement.order_received" in turtle.data
    for bad in ("after=12x", "type=order.whatever", "per_page=0", "per_page=²", "after=evt_１２",
                "per_page=" + "9" * 5000,        # more digits than int() reads: 400, not 500
                "after=" + "x" * 100_000, "type=" + "x" * 100_000):
        r = client.get(f"{FARM}/events?{bad}", headers=admin())
        assert r.status_code == 400 and r.mimetype == "application/problem+json", bad
        assert len(r.data) < 2000, bad           # what was sent is named, not sent back whole


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/x", "http://127.0.0.1:{port}/hooks", "http://10.0.0.1/",
                                 "http://169.254.169.254/", "http://[::1]:{port}/", "not a url", None,
                                 "https://93.184.215.14/\udcff"])        # no string a store holds: was a 500
def test_a_bad_subscription_is_a_422_and_nothing_is_ever_sent_to_it(url, receiver):
    app = make_app(webhook_allow_private=False)
    client = app.test_client()
    port = receiver.url.split(":")[2].split("/")[0]
    body = {"url": url.format(port=port) if url else url, "events": ["procurement.order_received"]}
    r = client.post(f"{FARM}/webhooks", headers=admin(), json=body)
    assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    assert client.get(f"{FARM}/webhooks", headers=admin()).get_json() == {"webhooks": []}
    _complete_order(client)
    _dispatcher(app).drain()
    assert receiver.connections == 0


@pytest.mark.parametrize("body", [{"url": "https://93.184.215.14/"}, {"url": "https://93.184.215.14/", "events": []},
                                  {"url": "https://93.184.215.14/", "events": ["order.whatever"]},
                                  {"url": "https://93.184.215.14/", "events": "procurement.order_received"}, []])
def test_a_subscription_without_known_event_types_is_a_422(body):
    client = make_app().test_client()
    r = client.post(f"{FARM}/webhooks", headers=admin(), json=body)
    assert r.status_code == 422, r.get_data(as_text=True)


def test_a_url_that_turns_private_after_subscribing_is_not_called(receiver):
    """The check runs again before each call (DNS rebinding): a dispatcher that allows no private
    address records the attempt as not sent."""
    app, clock = _app()
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    hub = app.extensions["dfc_hub"]
    strict = Dispatcher(hub.store, clock, "http://hub.test", "0,0", 5, WebhookSender(5, allow_private=False))
    _complete_order(client)
    strict.drain()
    assert receiver.connections == 0
    attempts = client.get(f"{FARM}/webhooks/{sub['id']}", headers=admin()).get_json()["attempts"]
    assert len(attempts) == 2 and all("not sent" in a["error"] and "status" not in a for a in attempts)


def test_the_secret_is_shown_once_and_another_enterprise_sees_neither_events_nor_webhooks(receiver):
    app, _ = _app()
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    assert sub["secret"].startswith("whsec_") and len(sub["secret"]) >= len("whsec_") + 32
    listed = client.get(f"{FARM}/webhooks", headers=admin()).get_json()["webhooks"]
    assert listed == [{k: v for k, v in sub.items() if k != "secret"}]
    farm, hub_b = token_for(client, JEAN), token_for(client, HUB_B)
    for path in ("/events", "/webhooks", f"/webhooks/{sub['id']}"):
        assert client.get(FARM + path, headers=hub_b).status_code == 403
        assert client.get(FARM + path, headers=farm).status_code == 200
    assert client.delete(f"{FARM}/webhooks/{sub['id']}", headers=hub_b).status_code == 403
    assert client.post(f"{FARM}/webhooks/{sub['id']}/replay", headers=hub_b).status_code == 403
    # Hub B's own path does not reach the farm's subscription.
    assert client.get(f"/api/dfc/enterprises/hub-b/webhooks/{sub['id']}", headers=hub_b).status_code == 404
    assert client.get(f"{FARM}/webhooks/0000000000000000", headers=farm).status_code == 404
    assert client.delete(f"{FARM}/webhooks/{sub['id']}", headers=farm).status_code == 204
    assert client.get(f"{FARM}/webhooks/{sub['id']}", headers=farm).status_code == 404


def _key_statements(store, sub_iri: str) -> dict[str, list[str]]:
    """Every graph that states a signing key of the subscription → the keys it states."""
    rows = store.select("SELECT ?g ?key WHERE { GRAPH ?g { ?sub ?signingKey ?key } }",
                        {"sub": NamedNode(sub_iri), "signingKey": W.signingKey})
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["g"].value, []).append(row["key"].value)
    return out


def test_the_signing_key_is_kept_outside_every_document_and_dropped_with_its_subscription(receiver):
    """Not in the subscription's document, which the catalogue published on main: in a graph of
    its own, outside the API's namespace, gone with the subscription."""
    app, _ = _app()
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    iri = f"{BASE}{FARM}/webhooks/{sub['id']}"
    store = app.extensions["dfc_hub"].store
    assert _key_statements(store, iri) == {key_graph(NamedNode(iri)).value: [sub["secret"].removeprefix("whsec_")]}
    assert not key_graph(NamedNode(iri)).value.startswith(BASE)
    for path in ("/catalog", "", "/offers"):
        assert sub["secret"].removeprefix("whsec_") not in client.get(FARM + path).get_data(as_text=True)
    assert client.delete(f"{FARM}/webhooks/{sub['id']}", headers=admin()).status_code == 204
    assert _key_statements(store, iri) == {}


def test_a_store_that_kept_keys_in_subscriptions_has_them_moved_when_opened_and_still_signs(receiver, tmp_path):
    """Stores written before the keys had graphs of their own: the key moves out of the document
    when the store is next opened, and the deliveries are signed with the secret shown then."""
    store_spec = f"oxigraph:{tmp_path / 'store'}"
    app, _ = _app(store=store_spec)
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    iri = f"{BASE}{FARM}/webhooks/{sub['id']}"
    hub = app.extensions["dfc_hub"]
    # Where main kept it: in the subscription's own document.
    with hub.store.transaction() as tx:
        tx.append("DELETE { GRAPH ?keys { ?sub ?signingKey ?key } } INSERT { GRAPH ?sub { ?sub ?signingKey ?key } } "
                  "WHERE { GRAPH ?keys { ?sub ?signingKey ?key } }",
                  {"keys": key_graph(NamedNode(iri)), "sub": NamedNode(iri), "signingKey": W.signingKey})
    assert list(_key_statements(hub.store, iri)) == [iri]
    hub.close()

    app, _ = _app(store=store_spec)
    store = app.extensions["dfc_hub"].store
    assert list(_key_statements(store, iri)) == [key_graph(NamedNode(iri)).value]
    assert move_old_keys(store) is False             # once: nothing is left to move
    _complete_order(app.test_client())
    _dispatcher(app).drain()
    got = receiver.wait_for(1)
    assert len(got) == 1 and Webhook(sub["secret"]).verify(got[0].body, got[0].headers)


def test_the_fan_out_gives_each_subscription_its_types_and_parties_in_slices_past_gaps():
    from app.events.subscriptions import NewEvent, fan_out_bindings

    a, b = NamedNode("http://hub.test/s/a"), NamedNode("http://hub.test/s/b")
    farm = frozenset({"http://hub.test/api/dfc/enterprises/jean-farm", "http://hub.test/enterprises/jean-farm"})
    found = {n: NewEvent(NamedNode(f"urn:e:{n}"), "procurement.order_received" if n % 2 else "order.status_changed",
                         frozenset({"http://hub.test/enterprises/jean-farm"} if n != 5 else {"http://other"}))
             for n in range(1, 12) if n != 7}          # 7: a number nobody wrote (a gap)
    due = DEMO_MONDAY
    got = fan_out_bindings([(a, farm, frozenset({"procurement.order_received"}), 0),
                            (b, farm, frozenset({"procurement.order_received", "order.status_changed"}), 8)],
                           found, upto=11, window=6, due=due)
    # Due later: all made pending. a: events 1..6 (the window), odd ones only, not 5 (another
    # party's); b: 9..11, every type.
    assert [(d.value.rsplit("/", 1)[-1], s, n) for d, s, _, n in got["deliveries"]] == [
        ("1", a, 1), ("3", a, 3), ("9", b, 9), ("10", b, 10), ("11", b, 11)]
    assert got["deliveries"][0][2] == NamedNode("urn:e:1")
    assert got["cursors"] == [(a, 6), (b, 11)] and got["now"] == due
    assert got["claims"] == [] and got["send"] == []


def test_the_fan_out_sends_the_deliveries_of_the_oldest_events_as_far_as_the_pass_has_room():
    from app.events.subscriptions import NewEvent, fan_out_bindings

    a, b, c = (NamedNode(f"http://hub.test/s/{x}") for x in "abc")
    farm = frozenset({"http://hub.test/enterprises/jean-farm"})
    found = {n: NewEvent(NamedNode(f"urn:e:{n}"), "procurement.order_received", farm) for n in range(1, 6)}
    got = fan_out_bindings([(a, farm, frozenset({"procurement.order_received"}), 0),
                            (b, farm, frozenset({"procurement.order_received"}), 2),
                            (c, farm, frozenset({"order.status_changed"}), 0)],
                           found, upto=5, window=10, due=DEMO_MONDAY, room=4)
    # a: 1..5, b: 3..5; room for 4: events 1, 2 (a's) and 3 (a's and b's), whichever subscription.
    # None is written: a and b are claimed up to 3, where the next pass goes on; c, given
    # nothing of its types, moves its cursor now.
    assert got["deliveries"] == []
    assert sorted((s.value, n) for _, s, _, n in got["send"]) == [(a.value, 1), (a.value, 2), (a.value, 3), (b.value, 3)]
    assert got["claims"] == [(a, 3), (b, 3)] and got["cursors"] == [(c, 5)]
    nxt = fan_out_bindings([(a, farm, frozenset({"procurement.order_received"}), 3),
                            (b, farm, frozenset({"procurement.order_received"}), 3)],
                           found, upto=5, window=10, due=DEMO_MONDAY, room=4)
    assert sorted((s.value, n) for _, s, _, n in nxt["send"]) == [(a.value, 4), (a.value, 5), (b.value, 4), (b.value, 5)]
    assert nxt["claims"] == [(a, 5), (b, 5)] and nxt["cursors"] == []


def test_a_pass_without_room_sends_nothing_and_moves_no_cursor_with_deliveries_waiting():
    from app.events.subscriptions import NewEvent, fan_out_bindings

    a = NamedNode("http://hub.test/s/a")
    farm = frozenset({"http://hub.test/enterprises/jean-farm"})
    found = {n: NewEvent(NamedNode(f"urn:e:{n}"), "procurement.order_received", farm) for n in range(1, 4)}
    got = fan_out_bindings([(a, farm, frozenset({"procurement.order_received"}), 0)], found, upto=3, window=10,
                           due=DEMO_MONDAY, room=0)
    assert got["send"] == [] and got["deliveries"] == [] and got["claims"] == [] and got["cursors"] == [(a, 0)]


def _fanned_out_once(receiver, token):
    """One subscription, one order placed, and the fan-out of the pass `token` run alone (nothing
    sent yet): (app, clock, the subscription's path, what the pass claimed)."""
    app, clock = _app("0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    _complete_order(client)
    return app, clock, f"{FARM}/webhooks/{sub['id']}", _dispatcher(app).fan_out(token, 64)


def test_a_pass_that_dies_after_its_fan_out_leaves_a_claim_that_lapses_then_the_events_go_out_once_recorded(receiver):
    """Sent from the fan-out, a delivery is written only when its pass settles. A pass that dies
    in between leaves its subscription claimed and its cursor where it was: no other pass sends
    those events while the claim lives; once it lapses the next sends them again, same id, and
    records them once. The dead pass, back late with a 2xx, records nothing and moves no cursor back."""
    app, clock, path, dead = _fanned_out_once(receiver, "dead-pass")     # never sent: the pass died here
    client, dispatcher = app.test_client(), _dispatcher(app)
    assert len(dead) == 1 and dead[0].fresh
    assert dispatcher.drain() == 0 and receiver.deliveries == []       # its claim still lives
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0}
    clock.set(clock.now() + dispatcher.claim_for + dt.timedelta(seconds=1))
    assert dispatcher.drain() == 1
    got = receiver.wait_for(1)
    assert got[0].id == dead[0].event.id
    details = client.get(path, headers=admin()).get_json()
    assert details["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}
    assert [(a["event"], a["attempt"], a["status"]) for a in details["attempts"]] == [(dead[0].event.id, 1, 200)]
    dispatcher.settle("dead-pass", [(dead[0], Outcome(200, 0.1))])      # the dead pass, back
    assert client.get(path, headers=admin()).get_json() == details
    _complete_order(client)
    assert dispatcher.drain() == 1 and len(receiver.wait_for(2)) == 2      # the cursor went on from there
    assert client.get(path, headers=admin()).get_json()["deliveries"]["delivered"] == 2


def test_a_replay_while_a_pass_sends_is_left_to_the_replay_and_a_delivered_one_replays_whole(receiver):
    """A replay made while a pass is sending makes pending deliveries of those events; the pass,
    settling, leaves them to it rather than writing over them. A delivery recorded as sent at
    once (delivery and attempt in one document) replays like any other: pending, then delivered."""
    app, _, path, claimed = _fanned_out_once(receiver, "pass-1")
    client, dispatcher = app.test_client(), _dispatcher(app)
    assert client.post(path + "/replay?after=evt_0", headers=admin()).get_json()["replayed"] == 1
    dispatcher.settle("pass-1", [(claimed[0], Outcome(200, 0.01))])
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 1, "delivered": 0, "failed": 0}
    assert dispatcher.drain() == 1
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}
    _complete_order(client)
    assert dispatcher.drain() == 1                         # sent at once, recorded in one document
    assert client.post(path + "/replay?after=evt_0", headers=admin()).get_json()["replayed"] == 2
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 2, "delivered": 0, "failed": 0}
    assert dispatcher.drain() == 2
    details = client.get(path, headers=admin()).get_json()
    assert details["deliveries"] == {"pending": 0, "delivered": 2, "failed": 0}
    assert len(receiver.wait_for(4)) == 4


def test_a_pass_whose_claim_was_taken_over_records_nothing_even_before_the_new_pass_settles(receiver):
    """Only the pass holding a subscription's claim records what it sent: one that comes back
    after its claim lapsed and another pass took the events over writes no delivery, so the
    record is the new pass's own."""
    app, clock, path, old = _fanned_out_once(receiver, "old-pass")
    client, dispatcher = app.test_client(), _dispatcher(app)
    clock.set(clock.now() + dispatcher.claim_for + dt.timedelta(seconds=1))
    new = dispatcher.fan_out("new-pass", 64)
    assert [c.event.id for c in new] == [c.event.id for c in old]
    dispatcher.settle("old-pass", [(old[0], Outcome(200, 0.111))])
    assert client.get(path, headers=admin()).get_json()["deliveries"]["delivered"] == 0
    dispatcher.settle("new-pass", [(new[0], Outcome(200, 0.222))])
    details = client.get(path, headers=admin()).get_json()
    assert details["deliveries"]["delivered"] == 1
    assert [a["durationMs"] for a in details["attempts"]] == [222.0]


def test_a_backlog_longer_than_a_pass_goes_out_in_passes_each_event_once(receiver):
    """More events than a pass has room for: each pass sends at most BATCH, oldest first, the
    cursor following; every event reaches the receiver once, each recorded delivered."""
    app, _ = _app("0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    count = BATCH * 2 + 7
    store, farm = app.extensions["dfc_hub"].store, NamedNode(JEAN)
    for n in range(count):          # events as the order book records them, without their orders
        with store.transaction() as tx:
            doc = NamedNode(f"urn:test:change:{n}")
            tx.create(doc, [Triple(doc, doc, Literal(str(n)))])
            events.record(tx, events.ORDER_RECEIVED, [farm], {"order": doc}, DEMO_MONDAY)
    dispatcher = _dispatcher(app)
    sent = [dispatcher.run_pass() for _ in range(4)]
    assert sent == [BATCH, BATCH, 7, 0]
    got = receiver.wait_for(count)
    assert len({d.id for d in got}) == count == len(got)
    details = client.get(f"{FARM}/webhooks/{sub['id']}", headers=admin()).get_json()
    assert details["deliveries"] == {"pending": 0, "delivered": count, "failed": 0}


def test_deliveries_sent_at_once_are_one_batch_a_pass_counted_listed_replayed_and_dropped_like_documents(receiver):
    """A pass's 2xx-answered deliveries from its fan-out are entries of one batch document for
    the subscription (its deliveries' own documents cost a third of the dispatcher's work): no
    delivery document is written, yet GET counts and lists each as delivered at its first
    attempt; a replay's documents count instead of them; unsubscribing drops the batch."""
    app, _ = _app("0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    path, iri = f"{FARM}/webhooks/{sub['id']}", f"{BASE}{FARM}/webhooks/{sub['id']}"
    store = app.extensions["dfc_hub"].store
    first, second = _complete_order(client), _complete_order(client)
    assert _dispatcher(app).run_pass() == 2
    got = receiver.wait_for(2)
    graphs = {g for g in _graphs(store) if g.startswith(iri + "/")}
    assert len(graphs) == 1 and graphs.pop().startswith(iri + "/batches/")
    details = client.get(path, headers=admin()).get_json()
    assert details["deliveries"] == {"pending": 0, "delivered": 2, "failed": 0}
    ids = sorted((d.id for d in got), key=lambda i: int(i.removeprefix("evt_")), reverse=True)
    assert [(a["event"], a["attempt"], a["status"]) for a in details["attempts"]] == [(i, 1, 200) for i in ids]
    assert {d.json()["data"]["order"] for d in got} == {first, second}
    assert client.post(path + f"/replay?after={ids[1]}", headers=admin()).get_json()["replayed"] == 1
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 1, "delivered": 1, "failed": 0}
    assert _dispatcher(app).drain() == 1
    details = client.get(path, headers=admin()).get_json()
    assert details["deliveries"] == {"pending": 0, "delivered": 2, "failed": 0}
    assert [(a["event"], a["attempt"]) for a in details["attempts"]].count((ids[0], 1)) == 2    # both attempts
    assert client.delete(path, headers=admin()).status_code == 204
    assert not {g for g in _graphs(store) if g.startswith(iri)}


def _graphs(store) -> set[str]:
    return {r["g"].value for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}


def test_subscriptions_not_made_by_subscribing_get_nothing_and_stop_no_one_elses_deliveries(receiver):
    """A store may hold subscription documents no subscribing made (catalogue imports once wrote
    any document under the writer's namespace): one without a signing key failed every pass, so
    no webhook of anyone went out; one in another enterprise's namespace naming this one as its
    subscriber would be sent its events. Neither is fanned out to; the real one is."""
    app, _ = _app("0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url + "/real")
    store = app.extensions["dfc_hub"].store
    farm = NamedNode(JEAN)
    for forged in (NamedNode(f"{JEAN}/webhooks/keyless"), NamedNode(f"{HUB_B}/webhooks/elsewhere")):
        with store.transaction() as tx:
            tx.create(forged, [Triple(forged, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                      W.WebhookSubscription),
                               Triple(forged, W.subscriber, farm), Triple(forged, W.endpoint, Literal(receiver.url + "/forged")),
                               Triple(forged, W.active, Literal("true", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))),
                               Triple(forged, W.cursor, Literal("0", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
                               Triple(forged, events.E.eventType, Literal("procurement.order_received"))])
            if "elsewhere" in forged.value:
                tx.create(key_graph(forged), [Triple(forged, W.signingKey, Literal("AAAA"))])
    _complete_order(client)
    assert _dispatcher(app).drain() == 1
    assert [d.path.rsplit("/", 1)[-1] for d in receiver.wait_for(1)] == ["real"]
    assert client.get(f"{FARM}/webhooks/{sub['id']}", headers=admin()).get_json()["deliveries"]["delivered"] == 1


def test_an_enterprise_lists_only_the_subscriptions_in_its_namespace():
    """Another enterprise's document worded as a subscription naming this one is not its own."""
    app, _ = _app()
    client = app.test_client()
    store = app.extensions["dfc_hub"].store
    forged = NamedNode(f"{HUB_B}/webhooks/elsewhere")
    integer = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    with store.transaction() as tx:
        tx.create(forged, [Triple(forged, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), W.WebhookSubscription),
                           Triple(forged, W.subscriber, NamedNode(JEAN)), Triple(forged, W.endpoint, Literal("https://evil.example/")),
                           Triple(forged, W.active, Literal("true", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))),
                           Triple(forged, W.cursor, Literal("0", datatype=integer)),
                           Triple(forged, W.createdAt, Literal(DEMO_MONDAY.isoformat(), datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))),
                           Triple(forged, events.E.eventType, Literal("procurement.order_received"))])
    r = client.get(f"{FARM}/webhooks", headers=admin())
    assert r.status_code == 200 and "evil.example" not in r.get_data(as_text=True)


def test_documents_worded_as_pending_deliveries_hold_up_no_ones_retries(receiver):
    """Another enterprise's products carrying hub:deliveryState "pending" and a past hub:dueAt
    (a catalogue import keeps such terms) filled every pass's 64 due deliveries, none of them
    sendable: no retry or replay of anyone went out again. Only delivery documents are due."""
    app, _ = _app("0,0")
    client = app.test_client()
    sub = _subscribe(client, receiver.url)
    _complete_order(client)
    dispatcher = _dispatcher(app)
    assert dispatcher.drain() == 1 and receiver.wait_for(1)
    hub_b = token_for(client, HUB_B)
    due = {"@value": "2000-01-01T00:00:00Z", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}
    nodes = [{"@id": f"{HUB_B}/supplied_products/f{i}", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": f"f{i}",
              W.deliveryState.value: "pending", W.dueAt.value: due} for i in range(BATCH)]
    r = client.post("/api/dfc/enterprises/hub-b/catalog", headers={**hub_b, "Content-Type": "application/ld+json"},
                    data=json.dumps({"@context": "https://www.datafoodconsortium.org", "@graph": nodes}))
    assert r.status_code == 200, r.get_data(as_text=True)
    path = f"{FARM}/webhooks/{sub['id']}"
    assert client.post(path + "/replay?after=evt_0", headers=admin()).get_json()["replayed"] == 1
    assert dispatcher.drain() == 1 and len(receiver.wait_for(2)) == 2
    assert client.get(path, headers=admin()).get_json()["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}
