"""DFC_HUB_PERSON_RETENTION_DAYS: a customer is erased that many days after the close of the last
sale session they bought in, by the scheduler inside `serve` or by `dfc-hub erase-due-persons`.

Every clock here is set by hand (ManualClock, DFC_HUB_CLOCK_START): the verdicts never depend on
the day the tests run.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.domain.clock import ManualClock
from app.runtime.workers import erase_due, workers_for
from conftest import BASE, make_app, token_for
from support.leaks import BARNABE, ZEPHYRINE, checkout_by, stored
from support.orders import HUB_A, MONDAY, main_node

pytestmark = pytest.mark.calendar     # reads the clock or builds dates: also run with the calendar moved

DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))
PERSONS = "/api/dfc/enterprises/hub-a/persons"
WEEK_48 = "/api/dfc/enterprises/hub-a/sale_sessions/week-48"
CARROTS_AT_A = f"{HUB_A}/offers/jean-carrots"
DAYS = 30


def hub_of(client):
    return client.application.extensions["dfc_hub"]


def buys(client, token, person, session="week-48", buyer="_:buyer") -> str:
    r = checkout_by(client, token, person, (CARROTS_AT_A, 1), session=session, buyer=buyer)
    assert r.status_code == 201, r.get_data(as_text=True)
    return main_node(r.get_json())["dfc-b:orderedBy"]


def status(client, token, person: str) -> int:
    return client.get(f"{PERSONS}/{person.rsplit('/', 1)[1]}", headers=token).status_code


def close(client, token, session: str) -> None:
    assert client.post(f"{session}/close", headers=token).status_code == 200


def test_a_customer_is_erased_the_retention_period_after_the_last_session_they_bought_in_closed():
    clock = ManualClock(MONDAY)
    client = make_app(clock=clock, person_retention_days=DAYS).test_client()
    hub = hub_of(client)
    token = token_for(client, HUB_A)
    # A second, longer session of hub A's: Zéphyrine buys in both, Barnabé in week 48 only.
    week_49 = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:SaleSession",
               "dfc-b:startDate": (MONDAY - dt.timedelta(days=1)).isoformat(),
               "dfc-b:endDate": (MONDAY + dt.timedelta(days=60)).isoformat()}
    assert client.put("/api/dfc/enterprises/hub-a/sale_sessions/week-49", headers=token, json=week_49).status_code == 201
    zephyrine = buys(client, token, ZEPHYRINE)
    buys(client, token, ZEPHYRINE, "week-49", buyer=zephyrine)
    barnabe = buys(client, token, BARNABE)
    assert erase_due(hub) == []                                         # nothing closed yet
    clock.set(MONDAY + dt.timedelta(hours=2))
    close(client, token, WEEK_48)
    closed = clock.now()
    summary = client.get(f"{WEEK_48}/summary", headers={**token, "Accept": "text/csv"}).get_data()
    clock.set(closed + dt.timedelta(days=DAYS) - dt.timedelta(seconds=1))
    assert erase_due(hub) == []
    clock.set(closed + dt.timedelta(days=DAYS))
    assert [p.value for p in erase_due(hub)] == [barnabe]              # Zéphyrine's week 49 is open
    assert (status(client, token, barnabe), status(client, token, zephyrine)) == (410, 200)
    assert stored(hub.store, BARNABE) == set() and stored(hub.store, ZEPHYRINE)   # events, closes: nothing of his
    assert client.get(f"{WEEK_48}/summary", headers={**token, "Accept": "text/csv"}).get_data() == summary
    close(client, token, "/api/dfc/enterprises/hub-a/sale_sessions/week-49")
    assert erase_due(hub) == []                                         # her last session closed just now
    clock.set(clock.now() + dt.timedelta(days=DAYS))
    assert [p.value for p in erase_due(hub)] == [zephyrine]
    assert erase_due(hub) == []                                         # once


def test_a_customer_with_no_order_left_is_erased_at_the_next_run():
    """Their only checkout deleted: no session will ever close for them, nothing keeps them."""
    clock = ManualClock(MONDAY)
    client = make_app(clock=clock, person_retention_days=DAYS).test_client()
    token = token_for(client, HUB_A)
    r = checkout_by(client, token, ZEPHYRINE, (CARROTS_AT_A, 1))
    kept = buys(client, token, BARNABE)
    gone = main_node(r.get_json())["dfc-b:orderedBy"]
    assert client.delete(r.headers["Location"].removeprefix(BASE), headers=token).status_code == 204
    assert [p.value for p in erase_due(hub_of(client))] == [gone]
    assert (status(client, token, gone), status(client, token, kept)) == (410, 200)


def test_without_a_retention_period_nobody_is_erased():
    clock = ManualClock(MONDAY)
    client = make_app(clock=clock).test_client()
    token = token_for(client, HUB_A)
    person = buys(client, token, ZEPHYRINE)
    close(client, token, WEEK_48)
    clock.set(MONDAY + dt.timedelta(days=3650))
    assert erase_due(hub_of(client)) == [] and status(client, token, person) == 200


def test_the_scheduler_inside_serve_erases_customers_due():
    clock = ManualClock(MONDAY)
    client = make_app(clock=clock, close_every_seconds=1, close_grace_seconds=0, person_retention_days=1).test_client()
    token = token_for(client, HUB_A)
    person = buys(client, token, ZEPHYRINE)
    # Past the session's end: the first round closes it; a day later a round erases her.
    clock.set(MONDAY + dt.timedelta(days=7))
    workers = workers_for(hub_of(client)).start()
    try:
        deadline = time.monotonic() + 30
        while "hub:closedAt" not in client.get(WEEK_48).get_json() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "hub:closedAt" in client.get(WEEK_48).get_json()
        assert status(client, token, person) == 200
        clock.set(MONDAY + dt.timedelta(days=8, seconds=1))
        while status(client, token, person) != 410 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status(client, token, person) == 410
    finally:
        assert workers.stop()


def test_the_cli_erases_customers_due_for_cron(tmp_path):
    store = f"oxigraph:{tmp_path / 'store'}"
    app = make_app(clock=ManualClock(MONDAY), store=store)
    client = app.test_client()
    token = token_for(client, HUB_A)
    person = buys(client, token, ZEPHYRINE)
    close(client, token, WEEK_48)                       # closed at MONDAY, the app's clock
    hub_of(client).close()                              # the CLI opens the store: serve is not running

    def cron(days: int | None, at: dt.datetime) -> subprocess.CompletedProcess:
        env = {**os.environ, "DFC_HUB_STORE": store, "PUBLIC_BASE_URL": BASE,
               "DFC_HUB_CLOCK_START": at.isoformat(), "DFC_HUB_PERSON_RETENTION_DAYS": str(days or 0)}
        run = subprocess.run([DFC_HUB, "erase-due-persons"], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return run

    assert "nobody erased" in cron(None, MONDAY + dt.timedelta(days=400)).stdout
    assert "0 person(s) erased" in cron(DAYS, MONDAY + dt.timedelta(days=DAYS - 1)).stdout
    assert cron(DAYS, MONDAY + dt.timedelta(days=DAYS, hours=1)).stdout.splitlines() == [
        f"erased {person}", "1 person(s) erased"]
    again = make_app(demo=False, store=store)
    try:
        assert status(again.test_client(), token_for(again.test_client(), HUB_A), person) == 410
    finally:
        again.extensions["dfc_hub"].close()


def test_the_cli_says_why_it_cannot_open_a_store_serve_holds(tmp_path):
    from app.store import open_store

    store = open_store(f"oxigraph:{tmp_path / 'store'}")        # as a running `serve` would
    try:
        env = {**os.environ, "DFC_HUB_STORE": f"oxigraph:{tmp_path / 'store'}", "DFC_HUB_PERSON_RETENTION_DAYS": "1"}
        r = subprocess.run([DFC_HUB, "erase-due-persons"], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "serve" in r.stderr and "Traceback" not in r.stderr
    finally:
        store.close()


def test_another_hubs_order_naming_a_customer_neither_learns_of_them_nor_keeps_them():
    """Hub B's checkout naming one of hub A's customers was stored as a customer order when the
    customer existed, and not otherwise: hub B learned whom hub A holds. And counted among the
    customer's sessions, it kept them from ever being erased while hub B's session stayed open.
    Since, a person IRI of another hub is pseudonymised as any other platform's id for a person
    is: hub B's customer order, whether or not hub A holds anyone there, names hub B's pseudonym."""
    from support.orders import HUB_B
    clock = ManualClock(MONDAY)
    client = make_app(clock=clock, person_retention_days=DAYS).test_client()
    hub = hub_of(client)
    token_a, token_b = token_for(client, HUB_A), token_for(client, HUB_B)
    barnabe = buys(client, token_a, BARNABE)
    clock.set(MONDAY + dt.timedelta(days=1))                            # hub B's week 48 is open
    answers = []
    for buyer in (barnabe, f"{HUB_A}/persons/0123456789ab"):
        doc = {"@context": "https://www.datafoodconsortium.org", "@id": "#", "@type": "dfc-b:Order",
               "dfc-b:orderedBy": {"@id": buyer}, "dfc-b:hasOrderStatus": "dfc-v:Held",
               "dfc-b:belongsTo": f"{HUB_B}/sale_sessions/week-48",
               "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                                  "dfc-b:concerns": f"{HUB_B}/offers/jean-carrots"}]}
        r = client.post("/api/dfc/enterprises/hub-b/orders", headers=token_b, json=doc)
        assert r.status_code == 201, r.get_data(as_text=True)
        from pyoxigraph import NamedNode
        order = [t for t in hub.store.graph(NamedNode(r.headers["Location"])) if t.subject.value == r.headers["Location"]]
        answers.append(sorted(t.predicate.value.rsplit("#", 1)[-1] for t in order))
        assert [t.object.value for t in order if t.predicate.value.endswith("#orderedBy")][0].startswith(f"{HUB_B}/persons/")
    assert answers[0] == answers[1] and "customerOrder" in answers[0]
    close(client, token_a, WEEK_48)
    clock.set(clock.now() + dt.timedelta(days=DAYS))
    assert [p.value for p in erase_due(hub)] == [barnabe]
