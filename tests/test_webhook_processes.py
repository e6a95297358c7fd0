"""Webhooks from real `dfc-hub serve` processes: deliveries survive a SIGKILL, and several
processes on one remote store deliver every event without ever sending one twice at once."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import ADMIN, admin, make_app

from support.hub_server import PUBLIC
from support.oxigraph_server import running_oxigraph
from support.webhook_receiver import receiving

AUTH = {"Authorization": f"Bearer {ADMIN}"}
CTX = "https://www.datafoodconsortium.org"
FARM = f"{PUBLIC}/api/dfc/enterprises/jean-farm"
HUB = f"{PUBLIC}/api/dfc/enterprises/hub-a"
OFFER = f"{FARM}/offers/carrots"
# Patient retries (a SIGKILL must find deliveries still pending), a short receiver timeout
# (a killed process's claims lapse 2 × 1 + 10 s later).
WEBHOOKS = {"DFC_HUB_WEBHOOK_ALLOW_PRIVATE": "true", "DFC_HUB_WEBHOOK_TIMEOUT_SECONDS": "1",
            "DFC_HUB_WEBHOOK_RETRY_SCHEDULE": ",".join(["0"] + ["1"] * 200)}


# Retries, timeouts and lapsed claims count seconds, and the orders here belong to no session.
pytestmark = pytest.mark.dateless("the servers read the clock for seconds only")


def _farm(url: str) -> None:
    """Jean's farm with carrots of unlimited stock (no inventory information blocks nothing)."""
    r = requests.put(f"{url}/api/dfc/enterprises/jean-farm", headers=AUTH, timeout=30, json={
        "@context": CTX, "@type": "dfc-b:Enterprise", "dfc-b:name": "Jean's farm"})
    assert r.status_code in (200, 201), r.text
    catalog = {"@context": CTX, "@graph": [
        {"@id": f"{FARM}/supplied_products/carrots", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Carrots"},
        {"@id": f"{FARM}/catalog_items/carrots", "@type": "dfc-b:CatalogItem",
         "dfc-b:references": f"{FARM}/supplied_products/carrots", "dfc-b:offeredThrough": OFFER},
        {"@id": OFFER, "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{FARM}/catalog_items/carrots",
         "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2, "dfc-b:hasUnit": "dfc-m:Euro"}}]}
    r = requests.post(f"{url}/api/dfc/enterprises/jean-farm/catalog", headers=AUTH, json=catalog, timeout=30)
    assert r.status_code == 200, r.text


def _subscribe(url: str, receiver_url: str) -> dict:
    r = requests.post(f"{url}/api/dfc/enterprises/jean-farm/webhooks", headers=AUTH, timeout=30,
                      json={"url": receiver_url, "events": ["procurement.order_received"]})
    assert r.status_code == 201, r.text
    return r.json()


def _place(url: str) -> None:
    """Hub A places a wholesale order at the farm, Complete at once: one order_received."""
    doc = {"@context": CTX, "@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": HUB,
           "dfc-b:hasOrderStatus": "dfc-v:Complete",
           "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": OFFER}]}
    r = requests.post(f"{url}/api/dfc/enterprises/jean-farm/orders", headers=AUTH, json=doc, timeout=60)
    assert r.status_code == 201, r.text


def _received_ids(url: str) -> list[str]:
    """The ids of every order_received event in the farm's log."""
    ids, after = [], "evt_0"
    while True:
        r = requests.get(f"{url}/api/dfc/enterprises/jean-farm/events", headers=AUTH, timeout=30,
                         params={"after": after, "type": "procurement.order_received", "per_page": 1000})
        page = r.json()["events"]
        if not page:
            return ids
        ids += [e["id"] for e in page]
        after = page[-1]["id"]


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s")


def test_a_server_killed_with_fifty_undelivered_events_delivers_them_all_after_restart(hubs, tmp_path):
    store = f"oxigraph:{tmp_path / 'store'}"
    with receiving() as receiver:
        receiver.otherwise, receiver.delay = 503, 0.05       # the receiver is down: everything stays pending
        hub = hubs(store=store, **WEBHOOKS)
        _farm(hub.url)
        _subscribe(hub.url, receiver.url)
        for _ in range(50):
            _place(hub.url)
        expected = _received_ids(hub.url)
        assert len(expected) == 50
        _wait(lambda: len(set(receiver.ids())) >= 10, 60, "the dispatcher did not try")
        hub.kill()                                            # mid-pass, as likely as not: claims stay behind
        assert receiver.accepted == []
        receiver.otherwise = 200
        again = hubs(store=store, **WEBHOOKS)
        _wait(lambda: set(expected) <= set(receiver.accepted), 90, "not every event was delivered after the restart")
        again.stop()
    # Duplicates are allowed (at least once), each with its original id; no other id came.
    assert set(receiver.ids()) == set(expected)


@pytest.fixture
def oxigraph_url(tmp_path):
    with running_oxigraph(tmp_path / "oxigraph") as url:
        yield url


def test_three_servers_on_one_remote_store_deliver_every_event_never_twice_at_once(hubs, oxigraph_url):
    store = f"sparql:{oxigraph_url}"
    with receiving() as receiver:
        receiver.delay = 0.05             # each answer takes a while: a second sender would overlap it
        # No receiver's answer may time out here, however loaded the machine: a POST that timed
        # out is sent again (at least once), and would be taken below for a claim lost.
        servers = [hubs(store=store, **{**WEBHOOKS, "DFC_HUB_WEBHOOK_TIMEOUT_SECONDS": "60"}) for _ in range(3)]
        _farm(servers[0].url)
        _subscribe(servers[0].url, receiver.url)
        for n in range(60):
            _place(servers[n % 3].url)
        expected = _received_ids(servers[0].url)
        assert len(expected) == 60
        _wait(lambda: set(expected) <= set(receiver.accepted), 120, "not every event was delivered")
        senders = [_dispatcher(server.url)["pid"] for server in servers]
        for server in servers:            # once their delivery processes are gone, nothing more comes
            server.stop()
        _wait(lambda: not any(_alive(pid) for pid in senders if pid), 30, "a delivery process outlived serve")
    assert receiver.overlaps == set()
    assert sorted(receiver.ids()) == sorted(expected)          # each exactly once: no process lost a claim


DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))


def _subscribed(store: str, url: str):
    """A demo app on `store` whose Jean subscribes `url` to the orders it receives; its test client."""
    app = make_app(store=store, webhook_allow_private=True)
    client = app.test_client()
    r = client.post("/api/dfc/enterprises/jean-farm/webhooks", headers=admin(),
                    json={"url": url, "events": ["procurement.order_received"]})
    assert r.status_code == 201
    return app, client


def _order_at_jean(client) -> None:
    """Hub A places an order of one kilogram of carrots at Jean: one order_received event."""
    doc = {"@context": CTX, "@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "http://hub.test/api/dfc/enterprises/hub-a",
           "dfc-b:hasOrderStatus": "dfc-v:Complete", "dfc-b:hasPart": [
               {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                "dfc-b:concerns": "http://hub.test/api/dfc/enterprises/jean-farm/offers/carrots"}]}
    assert client.post("/api/dfc/enterprises/jean-farm/orders", headers=admin(), json=doc).status_code == 201


def _cli_env(store: str) -> dict:
    return {"PATH": "/usr/bin:/bin", "PUBLIC_BASE_URL": "http://hub.test", "DFC_HUB_STORE": store,
            "DFC_HUB_WEBHOOK_ALLOW_PRIVATE": "true"}


def test_deliver_events_from_cron_sends_what_is_due_and_exits(tmp_path):
    """`dfc-hub deliver-events` on a store no server holds: one round, then exit."""
    store = f"oxigraph:{tmp_path / 'store'}"
    with receiving() as receiver:
        app, client = _subscribed(store, receiver.url)
        for _ in range(3):
            _order_at_jean(client)
        app.extensions["dfc_hub"].close()
        run = subprocess.run([DFC_HUB, "deliver-events"], env=_cli_env(store), capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "3 webhook delivery attempt(s) made" in run.stdout
        assert len(set(receiver.accepted)) == 3 and len(receiver.deliveries) == 3


def _dispatcher(url: str) -> dict:
    workers = requests.get(f"{url}/health", timeout=30).json()["workers"]
    return next(w for w in workers if w["name"] == "webhook-dispatcher")


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie — ended, not yet reaped — counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _three_orders_delivered(url: str, receiver) -> None:
    """The farm subscribed, three orders placed, and their order_received events at the receiver."""
    _farm(url)
    _subscribe(url, receiver.url)
    for _ in range(3):
        _place(url)
    expected = _received_ids(url)
    _wait(lambda: set(expected) <= set(receiver.accepted), 60, "the events were not delivered")


def test_on_a_remote_store_serve_delivers_from_a_child_process_that_ends_with_it(hubs, oxigraph_url):
    """The API's process sends no webhook: its child `deliver-events --follow` does, and stops with it."""
    with receiving() as receiver:
        server = hubs(store=f"sparql:{oxigraph_url}", **WEBHOOKS)
        _wait(lambda: _dispatcher(server.url)["pid"] is not None, 30, "no delivery process started")
        child = _dispatcher(server.url)["pid"]
        assert child != server.pid and _alive(child)
        _three_orders_delivered(server.url, receiver)
        assert _dispatcher(server.url)["pid"] == child and _dispatcher(server.url)["lastError"] is None
        server.stop()
    _wait(lambda: not _alive(child), 30, "the delivery process outlived serve")


def test_on_an_embedded_store_serve_posts_from_a_child_process_that_ends_with_it(hubs, tmp_path):
    """RocksDB opens in one process: serve's thread claims and settles, a child of serve POSTs
    (app/events/sender_process.py), and goes when serve does."""
    with receiving() as receiver:
        server = hubs(store=f"oxigraph:{tmp_path / 'store'}", **WEBHOOKS)
        _three_orders_delivered(server.url, receiver)
        state = _dispatcher(server.url)
        child = state["senderPid"]
        assert child not in (None, server.pid) and _alive(child) and state["lastError"] is None
        assert int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1]) == server.pid
        server.stop()
    _wait(lambda: not _alive(child), 30, "the sending process outlived serve")


def test_deliver_events_follow_keeps_delivering_until_sigterm(oxigraph_url, tmp_path):
    """`dfc-hub deliver-events --follow` on a remote store: events placed after it started go out too."""
    store = f"sparql:{oxigraph_url}"
    with receiving() as receiver:
        app, client = _subscribed(store, receiver.url)
        follower = subprocess.Popen([DFC_HUB, "deliver-events", "--follow"], env=_cli_env(store),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for n in range(3):
                _order_at_jean(client)
                _wait(lambda: len(set(receiver.accepted)) == n + 1, 60, f"event {n + 1} was not delivered")
            assert follower.poll() is None
        finally:
            follower.send_signal(signal.SIGTERM)
            _, err = follower.communicate(timeout=60)
            app.extensions["dfc_hub"].close()
    assert follower.returncode == 0, err[-2000:]
    assert len(receiver.deliveries) == 3
