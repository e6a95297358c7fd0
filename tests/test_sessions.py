"""Sale sessions close once: by the hub, by the scheduler inside `serve`, or by the CLI (cron)."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.domain.clock import ManualClock
from app.runtime.workers import close_due, workers_for
from app.store import open_store
from conftest import BASE, make_app, token_for
from support.oxigraph_server import running_oxigraph
from support.orders import HUB_A, checkout, ledger, wholesale

pytestmark = pytest.mark.calendar     # reads the clock or builds dates: also run with the calendar moved

UTC = dt.timezone.utc
DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))
A_ENDS = dt.datetime(2026, 11, 27, 18, tzinfo=UTC)          # hub A's week-48 endDate


def hub_of(client):
    return client.application.extensions["dfc_hub"]


def held_app(clock, **settings):
    """The demo, with Ali's 4 kg held through hub A's session."""
    client = make_app(clock=clock, **settings).test_client()
    token = token_for(client, HUB_A)
    assert checkout(client, token, "hub-a", (f"{HUB_A}/offers/jean-carrots", 4)).status_code == 201
    return client, token


def test_a_session_closes_itself_after_its_end_and_the_grace_period():
    clock = ManualClock(dt.datetime(2026, 11, 24, 9, tzinfo=UTC))
    client, token = held_app(clock, close_grace_seconds=1800)
    hub = hub_of(client)
    clock.set(A_ENDS + dt.timedelta(minutes=29))
    assert [s.value for s in close_due(hub)] == [f"{BASE}/api/dfc/enterprises/hub-b/sale_sessions/week-48"]
    assert ledger(client)["held"] == 4                          # hub A's is not due yet
    clock.set(A_ENDS + dt.timedelta(minutes=30))
    assert [s.value for s in close_due(hub)] == [f"{HUB_A}/sale_sessions/week-48"]
    assert ledger(client) == {"available": 6, "onHand": 10, "held": 0, "committed": 4}
    [order] = wholesale(client, token)
    assert order["dfc-b:hasOrderStatus"] == "dfc-v:Complete"
    assert close_due(hub) == []                                 # once
    assert ledger(client)["committed"] == 4


def test_the_scheduler_inside_serve_closes_sessions_due():
    clock = ManualClock(A_ENDS + dt.timedelta(hours=2))
    client = make_app(clock=clock, close_every_seconds=1).test_client()
    workers = workers_for(hub_of(client)).start()
    try:
        url = "/api/dfc/enterprises/hub-a/sale_sessions/week-48"
        deadline = time.monotonic() + 30
        while "hub:closedAt" not in client.get(url).get_json() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "hub:closedAt" in client.get(url).get_json()
        # hub B's session ended earlier still: closed in the same round.
        assert "hub:closedAt" in client.get("/api/dfc/enterprises/hub-b/sale_sessions/week-48").get_json()
    finally:
        assert workers.stop()
    # DFC_HUB_CLOSE_EVERY_SECONDS=0: no periodic worker, only webhook delivery.
    assert [w.name for w in workers_for(hub_of(make_app(close_every_seconds=0).test_client())).all] \
        == ["webhook-dispatcher"]


def test_racing_closers_complete_once(tmp_path):
    clock = ManualClock(dt.datetime(2026, 11, 24, 9, tzinfo=UTC))
    client, token = held_app(clock, store=f"oxigraph:{tmp_path / 'store'}")
    book = hub_of(client).orders
    session = book.store.select("SELECT ?s WHERE { GRAPH ?s { ?s a <https://github.com/datafoodconsortium/"
                                "ontology/releases/latest/download/DFC_BusinessOntology.owl#SaleSession> } "
                                "FILTER(CONTAINS(STR(?s), 'hub-a')) }")[0]["s"]
    results, start = [], threading.Barrier(8)

    def close():
        start.wait()
        results.append(book.close_session(session))

    threads = [threading.Thread(target=close) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(closed for closed, _ in results) == [False] * 7 + [True]
    assert ledger(client) == {"available": 6, "onHand": 10, "held": 0, "committed": 4}


def _demo_with_an_ended_session(tmp_path: Path) -> Path:
    """The demo fixture, with hub A's session moved years before hub B's (the CLI's clock is set between)."""
    from app.cli import FIXTURES
    doc = json.loads((FIXTURES / "demo" / "jean-scenario.json").read_text())
    for node in doc["@graph"]:
        if node["@id"] == "enterprises/hub-a/sale_sessions/week-48":
            node["dfc-b:startDate"], node["dfc-b:endDate"] = "2020-01-06T08:00:00Z", "2020-01-10T18:00:00Z"
    path = tmp_path / "past.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_cli_closes_due_sessions_once_even_from_racing_processes(tmp_path):
    """Two cron jobs on two app hosts' worth of processes, one remote store: committed once."""
    fixture = _demo_with_an_ended_session(tmp_path)
    with running_oxigraph(tmp_path) as url:
        # The CLI's clock: a day after hub A's session ended, long before hub B's begins.
        env = {**os.environ, "DFC_HUB_STORE": f"sparql:{url}", "PUBLIC_BASE_URL": BASE,
               "DFC_HUB_CLOCK_START": "2020-01-11T20:00:00Z"}
        subprocess.run([DFC_HUB, "load", str(fixture)], env=env, check=True, capture_output=True)
        # A wholesale order held for the ended session, written as a hub would have.
        client = make_app(demo=False, store=f"sparql:{url}",
                          clock=ManualClock(dt.datetime(2020, 1, 7, tzinfo=UTC))).test_client()
        token = token_for(client, HUB_A)
        assert checkout(client, token, "hub-a", (f"{HUB_A}/offers/jean-carrots", 4)).status_code == 201
        runs = [subprocess.Popen([DFC_HUB, "close-due-sessions"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outputs = [p.communicate(timeout=60) for p in runs]
        assert all(p.returncode == 0 for p in runs), outputs
        closed = [line for out, _ in outputs for line in out.splitlines() if line.startswith("closed ")]
        assert closed == [f"closed {HUB_A}/sale_sessions/week-48"]
        again = subprocess.run([DFC_HUB, "close-due-sessions"], env=env, capture_output=True, text=True)
        assert "0 sale session(s) closed" in again.stdout
        assert ledger(client) == {"available": 6, "onHand": 10, "held": 0, "committed": 4}


def test_the_cli_says_why_it_cannot_open_a_store_serve_holds(tmp_path):
    store = open_store(f"oxigraph:{tmp_path / 'store'}")        # as a running `serve` would
    try:
        env = {**os.environ, "DFC_HUB_STORE": f"oxigraph:{tmp_path / 'store'}"}
        r = subprocess.run([DFC_HUB, "close-due-sessions"], env=env, capture_output=True, text=True)
        assert r.returncode == 2 and "serve" in r.stderr and "Traceback" not in r.stderr
    finally:
        store.close()




def test_the_clock_setting_moves_the_clock_and_lets_it_run():
    from app.domain.clock import SystemClock, clock_from
    clock = clock_from("2031-05-04T10:00:00Z")
    first = clock.now()
    assert dt.timedelta(0) <= first - dt.datetime(2031, 5, 4, 10, tzinfo=UTC) < dt.timedelta(minutes=1)
    assert clock.now() >= first
    assert isinstance(clock_from(None), SystemClock) and isinstance(clock_from(""), SystemClock)
    with pytest.raises(ValueError, match="DFC_HUB_CLOCK_START"):
        clock_from("next tuesday")


@pytest.mark.parametrize("end, kind", [("9999-12-31T23:59:59-05:00", "dateTime"), ("9999-12-31", "date")])
def test_a_session_stored_ending_at_the_edge_of_the_calendar_breaks_neither_checkouts_nor_the_closer(end, kind):
    """Issue 20, finding 3: a day after a stored end of 9999-12-31, or an hour after one just before it
    at an offset, lies past what Python's datetime holds (OverflowError: checkouts and the closer 500)."""
    from pyoxigraph import Literal, NamedNode, Triple
    from app.namespaces import XSD, T
    clock = ManualClock(dt.datetime(2026, 11, 24, 9, tzinfo=UTC))
    client, token = held_app(clock)
    hub = hub_of(client)
    session = NamedNode(f"{HUB_A}/sale_sessions/week-48")
    kept = [t for t in hub.store.graph(session) if t.predicate != T.endDate]
    hub.store.replace_graphs({session: [*kept, Triple(session, T.endDate, Literal(end, datatype=NamedNode(XSD + kind)))]})
    clock.set(A_ENDS + dt.timedelta(days=1))              # past the demo's end: the stored one decides
    assert session not in close_due(hub)
    assert checkout(client, token, "hub-a", (f"{HUB_A}/offers/jean-carrots", 1)).status_code == 201
    closed = client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=token)
    assert closed.status_code == 200, closed.get_data(as_text=True)
