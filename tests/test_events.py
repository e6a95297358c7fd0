"""Events are recorded in the unit of work of the change they report, numbered in commit order,
and kept out of the analyst dataset (app/events/outbox.py)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from conftest import BASE, DEMO_MONDAY, make_app
from pyoxigraph import Literal, NamedNode, Triple

from app.events import outbox as events
from support.stores import oxigraph_url, store  # noqa: F401 - fixtures

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
FARM = NamedNode(BASE + "/api/dfc/enterprises/jean-farm")
HUB = NamedNode(BASE + "/api/dfc/enterprises/hub-a")
ORDER = NamedNode(BASE + "/api/dfc/enterprises/jean-farm/orders/1")
DOC = NamedNode("http://example.org/changed")


def _log(store, party=FARM, after=0, types=events.TYPES, limit=1000):
    return events.log(store, [party.value], after, types, limit)


def test_an_event_is_committed_with_its_change_and_reads_back_as_recorded(store):
    with store.transaction() as tx:
        tx.put(DOC, [Triple(DOC, DOC, Literal("changed"))])
        events.record(tx, events.ORDER_RECEIVED, [FARM, HUB],
                      {"order": ORDER, "from": "draft", "to": "placed"}, NOW)
    [event] = _log(store)               # numbered when it commits: the first
    iri = events.event_named(store, 1)
    assert iri is not None and event.id == "evt_1"
    assert event.payload() == {"type": "procurement.order_received", "timestamp": "2026-03-02T10:00:00Z",
                               "data": {"order": ORDER.value, "from": "draft", "to": "placed"}}
    assert _log(store, HUB) == [event]
    assert Triple(iri, events.E.about, ORDER) in store.graph(iri)


def test_a_change_that_fails_leaves_no_event_and_uses_no_number(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.put(DOC, [Triple(DOC, DOC, Literal("changed"))])
            events.record(tx, events.ORDER_RECEIVED, [FARM], {"order": ORDER}, NOW)
            raise RuntimeError("the change is refused after its event was planned")
    assert _log(store) == [] and store.graph(DOC) == []
    with store.transaction() as tx:
        events.record(tx, events.SESSION_CLOSED, [FARM], {}, NOW)
    assert [e.id for e in _log(store)] == ["evt_1"]


def test_events_of_one_transaction_take_consecutive_numbers_and_parties_see_only_theirs(store):
    with store.transaction() as tx:
        for n in range(3):
            events.record(tx, events.ORDER_STATUS_CHANGED, [FARM] if n != 1 else [HUB], {"n": n}, NOW)
    assert [(e.sequence, e.data) for e in _log(store)] == [(1, {"n": 0}), (3, {"n": 2})]
    assert [e.sequence for e in _log(store, HUB)] == [2]
    assert [e.sequence for e in _log(store, after=1)] == [3]
    assert _log(store, types=[events.SESSION_CLOSED]) == []


def test_writers_in_many_threads_get_unique_numbers_in_commit_order(store):
    def write(n):
        for _ in range(10):
            with store.transaction() as tx:
                events.record(tx, events.ORDER_RECEIVED, [FARM], {"writer": n}, NOW)
    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.sequence for e in _log(store)] == list(range(1, 41))


def test_an_unknown_type_or_data_that_is_not_json_is_refused_before_anything_is_written(store):
    with store.transaction() as tx:
        with pytest.raises(ValueError):
            events.record(tx, "order.whatever", [FARM], {}, NOW)
        with pytest.raises(TypeError):
            events.record(tx, events.ORDER_RECEIVED, [FARM], {"x": object()}, NOW)
    assert _log(store) == []


def test_events_stay_out_of_the_analyst_dataset():
    app = make_app()
    hub = app.extensions["dfc_hub"]
    with hub.store.transaction() as tx:
        events.record(tx, events.ORDER_RECEIVED, [FARM], {"order": ORDER}, NOW)
    iri = events.event_named(hub.store, events.last_sequence(hub.store))
    allowed = hub.analytics.allowed_graphs()
    assert allowed and iri not in allowed and events.COUNTER not in allowed


@pytest.mark.parametrize("text", ["evt_x", "12x", "", "evt_-1", "evt_" + "9" * 30, "evt_１２", "evt_١٢"])
def test_an_event_id_that_is_not_one_is_a_bad_request(text):
    from app.errors import BadRequest
    with pytest.raises(BadRequest):
        events.sequence_of(text)


def test_the_log_read_by_number_near_its_end_and_by_party_further_back_gives_the_same_events(monkeypatch):
    """outbox.log answers a reader near the end window by window (by number), one further back by
    party; both must give exactly the party's events of the types asked, in order."""
    import pyoxigraph as ox
    from app.namespaces import XSD, hub
    from app.store import open_store

    log_store = open_store("memory:")
    integer = NamedNode(XSD + "integer")
    occurred = DEMO_MONDAY.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")     # data, never compared
    quads = []
    for n in range(1, 701):
        e = NamedNode(f"urn:x-dfc-hub:event:{n}")
        party = "http://hub.test/farm" if n % 3 else "http://hub.test/other"
        kind = events.ORDER_RECEIVED if n % 5 else events.ORDER_STATUS_CHANGED
        quads += [ox.Quad(e, hub("sequence"), Literal(str(n), datatype=integer), e),
                  ox.Quad(e, events.E.party, NamedNode(party), e), ox.Quad(e, events.E.eventType, Literal(kind), e),
                  ox.Quad(e, events.E.occurredAt, Literal(occurred), e),
                  ox.Quad(e, events.E.eventData, Literal('{"n": %d}' % n), e)]
    quads.append(ox.Quad(events.COUNTER, hub("sequence"), Literal("700", datatype=integer), events.COUNTER))
    log_store.raw.extend(quads)

    def wanted(after, types, limit):
        return [n for n in range(after + 1, 701) if n % 3 and
                (events.ORDER_RECEIVED if n % 5 else events.ORDER_STATUS_CHANGED) in types][:limit]

    monkeypatch.setattr(events, "WINDOW", 64)                  # many windows, most of them sparse
    for tail in (0, 10_000):                                      # by party throughout; by number throughout
        monkeypatch.setattr(events, "TAIL", tail)
        for after in (0, 1, 299, 698, 700):
            for types in ([events.ORDER_RECEIVED], [events.ORDER_RECEIVED, events.ORDER_STATUS_CHANGED]):
                for limit in (1, 50, 1000):
                    got = events.log(log_store, ["http://hub.test/farm"], after, types, limit)
                    assert [e.sequence for e in got] == wanted(after, types, limit), (tail, after, types, limit)
                    assert all(e.data == {"n": e.sequence} for e in got)
    log_store.close()
