"""Locks per producer: units of work about different producers go ahead at once, in one process
and across processes sharing one `oxigraph serve`; events are numbered in commit order."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import threading

from pyoxigraph import Literal, NamedNode, Triple

from app import queries
from app.events import outbox as events
from app.store import open_store
from app.store.locks import STORE_KEY, normalised
from support.stores import oxigraph_url, store  # noqa: F401 - fixtures

EX = "http://example.org/locks/"
P1, P2 = EX + "producer-1", EX + "producer-2"
S, P = NamedNode(EX + "s"), NamedNode(EX + "p")
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)


def _write(tx, producer: str) -> None:
    """What a checkout at `producer` does, in small: change its document, record an event."""
    doc = NamedNode(producer + "/doc")
    tx.put(doc, [*tx.graph(doc), Triple(S, P, Literal(producer))])
    events.record(tx, events.ORDER_RECEIVED, [NamedNode(producer)], {"order": producer + "/doc"}, NOW)


def _event_parties(store) -> list[str]:
    """Each event's party, by event number."""
    out = []
    for n in range(1, events.last_sequence(store) + 1):
        out += [t.object.value for t in store.graph(events.event_named(store, n)) if t.predicate == events.E.party]
    return out


def test_keys_are_taken_in_one_order_and_no_key_means_the_shared_one():
    assert normalised([NamedNode(P2), P1, P2]) == (P1, P2)
    assert normalised(None) == normalised([]) == (STORE_KEY,)


def test_two_producers_write_at_once_and_events_follow_commit_order(store):
    """While one unit of work holds producer 1, another for producer 2 commits: it never waits
    for the first (were it to, this test would stop at the `join`), and its event is numbered first."""
    with store.transaction(keys=[P1]) as tx:
        _write(tx, P1)
        other = threading.Thread(target=lambda: _in_transaction(store, P2))
        other.start()
        other.join(60)
        assert not other.is_alive()
        assert store.graph(NamedNode(P2 + "/doc"))        # committed while producer 1 is held
    assert _event_parties(store) == [P2, P1]


def _in_transaction(store, producer: str) -> None:
    with store.transaction(keys=[producer]) as tx:
        _write(tx, producer)


def test_one_producer_is_written_by_one_unit_of_work_at_a_time(store):
    """Eight threads add to one producer's document: each reads what the others committed."""
    start = threading.Barrier(8)

    def add(i):
        start.wait()
        with store.transaction(keys=[P1]) as tx:
            doc = NamedNode(P1 + "/doc")
            tx.put(doc, [*tx.graph(doc), Triple(S, P, Literal(str(i)))])
            events.record(tx, events.ORDER_RECEIVED, [NamedNode(P1)], {"n": str(i)}, NOW)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {t.object.value for t in store.graph(NamedNode(P1 + "/doc"))} == {str(i) for i in range(8)}
    assert events.last_sequence(store) == 8 and _event_parties(store) == [P1] * 8


def test_a_unit_of_work_needing_more_locks_runs_again_over_them(store):
    runs = []
    for attempt in store.attempts([P1]):
        with attempt as tx:
            runs.append(set(tx.keys))
            tx.put(NamedNode(P2 + "/doc"), [Triple(S, P, Literal("x"))])
            tx.need([P1, P2])
    assert runs == [{P1}, {P1, P2}]
    assert store.graph(NamedNode(P2 + "/doc"))


def _hold_in_another_process(spec: str, holding, go) -> None:
    store = open_store(spec)
    try:
        with store.transaction(keys=[P2]) as tx:
            _write(tx, P2)
            holding.set()
            assert go.wait(120)
    finally:
        store.close()


def test_two_processes_write_for_two_producers_at_once(oxigraph_url):
    """Another process holds producer 2's lock until this one has committed for producer 1:
    with one store-wide lock, neither could finish. Its event commits after ours, numbered so."""
    spec = f"sparql:{oxigraph_url}"
    store = open_store(spec)
    store.update("DROP ALL")
    ctx = multiprocessing.get_context("spawn")
    holding, go = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_in_another_process, args=(spec, holding, go))
    other.start()
    try:
        assert holding.wait(120)
        _in_transaction(store, P1)              # producer 2 is held meanwhile, by the other process
        assert store.graph(NamedNode(P1 + "/doc"))
    finally:
        go.set()
        other.join(120)
    assert other.exitcode == 0
    assert _event_parties(store) == [P1, P2]
    store.close()


def test_a_large_unit_of_work_stages_its_events_and_numbers_them_apart(store):
    """A close-sized write is committed under its named locks, its events numbered after, alone."""
    from app.store.base import STAGED_FROM
    with store.transaction(keys=[P1]) as tx:
        for n in range(STAGED_FROM):
            tx.create(NamedNode(f"{P1}/doc-{n}"), [Triple(S, P, Literal(str(n)))])
        events.record(tx, events.SESSION_CLOSED, [NamedNode(P1)], {"session": P1 + "/session"}, NOW)
    [event] = events.log(store, [P1], 0, events.TYPES, 10)
    assert event.id == "evt_1" and event.data == {"session": P1 + "/session"}
    assert store.select(queries.load("staged_events")) == []
    # Numbered in place: its graph keeps its name, and holds its number only.
    assert [t.object.value for t in store.graph(event.iri) if t.predicate == events.E.sequence] == ["1"]


def test_events_a_dead_writer_staged_are_numbered_once_at_start(store):
    from app.events.outbox import _Pending
    with store.transaction(keys=[P1]) as tx:       # a writer's first write, and then it died
        pending = _Pending()
        pending.events.append((events.ORDER_RECEIVED, [NamedNode(P1)], {"order": P1 + "/doc"}, NOW))
        pending.stage(tx)
    assert events.log(store, [P1], 0, events.TYPES, 10) == []        # no reader sees it unnumbered
    assert events.adopt_staged(store) == 1 and events.adopt_staged(store) == 0
    [event] = events.log(store, [P1], 0, events.TYPES, 10)
    assert event.id == "evt_1" and event.data == {"order": P1 + "/doc"}
