"""Every call the server makes ends within its total deadline, and a stalled partner holds at most
DFC_HUB_PARTNER_CONCURRENCY of our workers: the partner here is a real socket server on 127.0.0.1
that trickles its answer one byte at a time, which a per-read timeout never trips."""
from __future__ import annotations

import threading

import pytest
from conftest import BASE, admin, make_app, token_for

from app.errors import PartnerUnavailable
from app.partners.client import PartnerClient
from support.orders import CARROTS, order, place
from support.trickler import trickling

DEADLINE = 1.0          # small, so each test ends soon after it; the trickle lasts far longer
MB = 1 << 20


CALLS = {
    "catalogue": lambda client, url: client.fetch(url + "/catalog", "t0ken"),
    "order": lambda client, url: client.send("POST", url + "/orders", "t0ken", b"{}", "key-1"),
    "token": lambda client, url: client.token_request(url + "/token", b"grant_type=client_credentials"),
}


@pytest.mark.parametrize("call, head_first", [("catalogue", False), ("catalogue", True), ("order", False),
                                              ("token", False)])
def test_a_partner_that_trickles_its_answer_is_given_up_at_the_deadline(call, head_first):
    """Status line or body, one byte every half second: each byte would reset a per-read timeout."""
    client = PartnerClient(True, DEADLINE, MB)
    try:
        with trickling(0.5, head_first=head_first) as partner:
            with pytest.raises(PartnerUnavailable) as caught:
                CALLS[call](client, partner.url)
    finally:
        client.close()
    problem = caught.value.problem()
    assert problem["status"] == 503 and problem["deadlineSeconds"] == DEADLINE
    assert problem["type"].endswith("/partner-unavailable")


def test_a_webhook_receiver_that_trickles_its_answer_gets_an_attempt_without_status():
    app = make_app(webhook_allow_private=True, webhook_retry_schedule="0", webhook_timeout_seconds=DEADLINE)
    client = app.test_client()
    with trickling(0.5) as receiver:
        r = client.post("/api/dfc/enterprises/jean-farm/webhooks", headers=admin(),
                        json={"url": receiver.url + "/hook", "events": ["procurement.order_received"]})
        assert r.status_code == 201, r.get_data(as_text=True)
        sub = r.get_json()
        assert place(client, admin(), order((CARROTS, 1), status="dfc-v:Complete")).status_code == 201
        assert app.extensions["dfc_hub"].dispatcher.run_pass() == 1
    [attempt] = client.get(f"/api/dfc/enterprises/jean-farm/webhooks/{sub['id']}",
                           headers=admin()).get_json()["attempts"]
    assert "status" not in attempt and "deadline" in attempt["error"]


def test_a_stalled_partner_holds_at_most_its_concurrency_and_the_next_call_is_503_at_once():
    app = make_app(webhook_allow_private=True, partner_timeout_seconds=60, partner_concurrency=2)
    hub = token_for(app.test_client(), f"{BASE}/api/dfc/enterprises/hub-a")
    with trickling(0.5) as partner:
        far = f"{partner.url}/api/dfc/enterprises/far-farm"
        r = app.test_client().put("/api/dfc/enterprises/hub-a/partners/far", headers=hub, json={
            "enterprise": far, "catalog": far + "/catalog", "orders": far + "/orders", "token": "t0ken"})
        assert r.status_code == 201, r.get_data(as_text=True)
        sync = "/api/dfc/enterprises/hub-a/partners/far/sync"
        held = []
        workers = [threading.Thread(target=lambda: held.append(app.test_client().post(sync, headers=hub)))
                   for _ in range(2)]
        for worker in workers:
            worker.start()
        partner.wait_for(2)              # both calls are under way, each holding its slot
        r = app.test_client().post(sync, headers=hub)
        assert r.status_code == 503 and r.headers["Content-Type"] == "application/problem+json"
        problem = r.get_json()
        assert problem["type"].endswith("/partner-busy") and problem["concurrency"] == 2
        assert len(partner.requests) == 2        # the refused call never reached the partner
    for worker in workers:                       # the trickle stopped: the held calls end too
        worker.join(30)
    assert [r.status_code for r in held] == [503, 503]


def test_the_limit_is_per_partner_and_a_slot_is_given_back_when_its_call_ends():
    client = PartnerClient(True, 60, MB, concurrency=1)
    try:
        with trickling(0.5) as stalled, trickling(0) as healthy:
            hold = threading.Thread(target=lambda: pytest.raises(PartnerUnavailable, client.fetch,
                                                                 stalled.url + "/catalog", None))
            hold.start()
            stalled.wait_for(1)
            with pytest.raises(PartnerUnavailable) as caught:
                client.fetch(stalled.url + "/catalog", None)
            assert caught.value.problem()["type"].endswith("/partner-busy")
            assert client.fetch(healthy.url + "/catalog", None).status == 200     # another partner
            assert client.fetch(healthy.url + "/catalog", None).status == 200     # its slot came back
        hold.join(30)
        with pytest.raises(PartnerUnavailable) as caught:        # stopped: gone, not busy
            client.fetch(stalled.url + "/catalog", None)
        assert caught.value.problem()["type"].endswith("/partner-unavailable")
    finally:
        client.close()
