"""The unit of work: one lock, one atomic update, and no stale copy written over someone's change."""
from __future__ import annotations

import multiprocessing
import threading

import pytest
import requests
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.errors import LockLost, NotFound, OutcomeUnknown, QueryError, Shortage, StoreUnavailable
from app.store import Undone, open_store
from support.stores import oxigraph_url  # noqa: F401 - a fixture

EX = "http://example.org/uow/"
G, H = NamedNode(EX + "doc"), NamedNode(EX + "other")
S, P, Q, R = (NamedNode(EX + n) for n in ("s", "p", "q", "r"))
KEY = EX + "producer"


@pytest.fixture(params=["memory", "oxigraph", "sparql"])
def store(request, tmp_path):
    if request.param == "sparql":
        s = open_store(f"sparql:{request.getfixturevalue('oxigraph_url')}")
    else:
        s = open_store("memory:" if request.param == "memory" else f"oxigraph:{tmp_path / 'store'}")
    s.update("DROP ALL")
    s.replace_graphs({G: [Triple(S, P, Literal("mine")), Triple(S, Q, Literal("old"))]})
    yield s
    s.close()


def test_a_transaction_writes_what_it_changed_in_one_update(store):
    with store.transaction() as tx:
        doc = tx.graph(G)
        tx.put(G, [t for t in doc if t.predicate != Q] + [Triple(S, Q, Literal("new"))])
        tx.create(H, [Triple(S, P, Literal("fresh"))])
        assert tx.graph(G) == tx.writes[G]        # it reads its own writes
    assert set(store.graph(G)) == {Triple(S, P, Literal("mine")), Triple(S, Q, Literal("new"))}
    assert store.graph(H) == [Triple(S, P, Literal("fresh"))]


def test_a_transaction_that_raises_writes_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.drop(G)
            tx.append("INSERT DATA { GRAPH ?h { ?s ?p 'extra' } }", {"h": H, "s": S, "p": P})
            raise RuntimeError("refused half-way")
    assert len(store.graph(G)) == 2 and store.graph(H) == []


def test_the_last_of_put_and_drop_wins(store):
    """What a DELETE of an order relies on: its planned documents are put, then the order dropped."""
    with store.transaction() as tx:
        tx.put(G, [Triple(S, P, Literal("rewritten"))])
        tx.drop(G)
        tx.drop(H)
        tx.put(H, [Triple(S, P, Literal("back"))])
    assert store.graph(G) == [] and store.graph(H) == [Triple(S, P, Literal("back"))]


def test_appended_updates_ride_in_the_same_atomic_update(store):
    """The hook events will use: written with the documents, or not at all."""
    with store.transaction() as tx:
        tx.put(G, [])
        tx.append("INSERT DATA { GRAPH ?h { ?s ?p ?o } }", {"h": H, "s": S, "p": P, "o": "event"})
    assert store.graph(G) == [] and store.graph(H) == [Triple(S, P, Literal("event"))]
    with pytest.raises(QueryError):
        with store.transaction() as tx:
            tx.put(G, [Triple(S, P, Literal("lost"))])
            tx.append("INSERT DATA { GRAPH <urn:x> { this is not sparql } }")
    assert store.graph(G) == []        # the failing companion took the document's write with it


def test_appended_update_files_declare_their_prefixes_after_a_document_write(store):
    """Update files start with comments and PREFIX lines; riding after a write, they still commit."""
    riding = "# a comment\nPREFIX ex: <http://example.org/uow/>\nINSERT DATA { GRAPH ex:other { ex:s ex:p ?o } }"
    with store.transaction() as tx:
        tx.put(G, [Triple(S, P, Literal("new"))])
        tx.append(riding, {"o": "one"})
        tx.append("PREFIX ex: <http://example.org/uow/>\nINSERT DATA { GRAPH ex:other { ex:s ex:q ?o } }", {"o": "two"})
    assert store.graph(G) == [Triple(S, P, Literal("new"))]
    assert sorted(t.object.value for t in store.graph(H)) == ["one", "two"]
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            tx.put(G, [])
            tx.append("PREFIX ex: <urn:elsewhere:>\nINSERT DATA { GRAPH ex:x { ex:s ex:p 1 } }")
            tx.append(riding, {"o": "three"})
    assert store.graph(G) == [Triple(S, P, Literal("new"))]


def _change_behind_the_lock(store, url: str | None) -> None:
    """Another path adds a statement to G: a write that takes no lock of ours (embedded: through
    the store, the only way to write the directory it holds open, in a thread of its own)."""
    text = f"INSERT DATA {{ GRAPH <{G.value}> {{ <{S.value}> <{R.value}> 'theirs' }} }}"
    if url is None:
        thread = threading.Thread(target=store._update, args=(text,))
        thread.start()
        thread.join()
    else:
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(target=_post_update, args=(url + "/update", text))
        proc.start()
        proc.join(30)
        assert proc.exitcode == 0


def _post_update(url: str, text: str) -> None:
    requests.post(url, data=text.encode(), headers={"Content-Type": "application/sparql-update"},
                  timeout=30).raise_for_status()


def test_a_change_made_between_read_and_commit_is_not_lost(store, request):
    """The commit writes its difference against what it read, never its stale copy."""
    url = request.getfixturevalue("oxigraph_url") if hasattr(store, "update_url") else None
    with store.transaction() as tx:
        doc = tx.graph(G)
        _change_behind_the_lock(store, url)             # a thread (embedded), a process (remote)
        tx.put(G, [t for t in doc if t.predicate != Q] + [Triple(S, Q, Literal("new"))])
    assert set(store.graph(G)) == {Triple(S, P, Literal("mine")), Triple(S, Q, Literal("new")),
                                   Triple(S, R, Literal("theirs"))}


def test_a_change_to_a_blank_node_keeps_what_another_path_wrote_meanwhile(store, request):
    """A quantity node (`<line> hasQuantity [ value 3 ]`) changed in place: the rest is not rewritten."""
    url = request.getfixturevalue("oxigraph_url") if hasattr(store, "update_url") else None
    qv = BlankNode()
    store.replace_graphs({G: [Triple(S, P, Literal("mine")), Triple(S, Q, qv), Triple(qv, P, Literal("3"))]})
    with store.transaction() as tx:
        doc = tx.graph(G)
        node = next(t.object for t in doc if t.predicate == Q)
        _change_behind_the_lock(store, url)
        tx.put(G, [t for t in doc if t.subject != node] + [Triple(node, P, Literal("5"))])
    after = store.graph(G)
    node = next(t.object for t in after if t.predicate == Q)
    assert isinstance(node, BlankNode)
    assert set(after) == {Triple(S, P, Literal("mine")), Triple(S, Q, node), Triple(node, P, Literal("5")),
                          Triple(S, R, Literal("theirs"))}


def _add_in_transaction(spec: str, ready, value: str) -> None:
    store = open_store(spec)
    try:
        ready.set()
        with store.transaction() as tx:
            tx.put(G, [*tx.graph(G), Triple(S, R, Literal(value))])
    finally:
        store.close()


def test_transactions_of_two_processes_on_a_remote_store_both_count(oxigraph_url):
    """The second waits for the first's lock, then reads what the first wrote."""
    store = open_store(f"sparql:{oxigraph_url}")
    store.update("DROP ALL")
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    with store.transaction() as tx:
        doc = tx.graph(G)
        other = ctx.Process(target=_add_in_transaction, args=(f"sparql:{oxigraph_url}", ready, "second"))
        other.start()
        assert ready.wait(60)
        tx.put(G, [*doc, Triple(S, R, Literal("first"))])
    other.join(60)
    assert other.exitcode == 0
    assert {t.object.value for t in store.graph(G) if t.predicate == R} == {"first", "second"}
    store.close()


def test_transactions_of_threads_on_an_embedded_store_both_count(tmp_path):
    store = open_store(f"oxigraph:{tmp_path / 'store'}")
    start = threading.Barrier(8)

    def add(i):
        start.wait()
        with store.transaction() as tx:
            tx.put(G, [*tx.graph(G), Triple(S, R, Literal(str(i)))])

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {t.object.value for t in store.graph(G)} == {str(i) for i in range(8)}
    store.close()


def test_after_commit_callbacks_see_what_was_committed_once_the_lock_is_free(store):
    """What follows a commit (a cache kept, partners told) runs after it, outside the lock."""
    seen = []

    def callback(done):
        # Another unit of work can start: the lock was released before the callbacks ran.
        with store.transaction() as other:
            other.graph(H)
        seen.append((dict(done.writes), done.read[G]))

    with store.transaction() as tx:
        tx.after_commit(callback)
        doc = tx.graph(G)
        tx.put(G, [*doc, Triple(S, R, Literal("new"))])
    assert len(seen) == 1
    writes, read = seen[0]
    assert Triple(S, R, Literal("new")) in writes[G] and Triple(S, R, Literal("new")) not in read


@pytest.mark.parametrize("failure", [
    StoreUnavailable("the SPARQL server did not answer: send the request again"),
    LockLost("nothing was written: the lock lapsed; send the request again"),
    NotFound("no partner platform at …"),          # deleted between the commit and the forward
    RuntimeError("a bug of ours")])
def test_a_callback_that_fails_after_the_commit_says_the_change_was_written(store, failure):
    # A partner told of the change, or the change undone when one refused it, fails: the change
    # stands, so the caller must not hear "nothing was written, send again" (nor the failure's own
    # words, which may say it), and a unit of work run through `attempts` must not run again.
    runs = []

    def follow(done):
        raise failure

    with pytest.raises(OutcomeUnknown) as raised:
        for attempt in store.attempts([KEY]):
            with attempt as tx:
                runs.append(1)
                tx.after_commit(follow)
                tx.put(G, [*tx.graph(G), Triple(S, R, Literal("new"))])
    assert runs == [1]
    assert Triple(S, R, Literal("new")) in store.graph(G)
    problem = raised.value.problem()
    assert "the change was written" in problem["detail"]
    assert "nothing was written" not in problem["detail"] and "send the request again" not in problem["detail"]
    assert problem["type"].endswith("/outcome-unknown")


def test_a_callback_that_undid_the_change_or_does_not_know_says_so_itself(store):
    unknown = OutcomeUnknown("the store did not answer whether the undo was written")
    refused = Shortage("a partner platform has not enough stock; nothing was reserved", shortages=[])
    for error, raised in ((Undone(refused), refused), (unknown, unknown)):
        def follow(done, error=error):
            raise error
        with pytest.raises(type(raised)) as caught:
            with store.transaction() as tx:
                tx.after_commit(follow)
                tx.put(G, [*tx.graph(G), Triple(S, R, Literal("new"))])
        assert caught.value is raised


def test_after_commit_callbacks_do_not_run_when_the_unit_of_work_raises(store):
    seen = []
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.after_commit(seen.append)
            tx.put(G, [])
            raise RuntimeError("refused")
    assert seen == [] and store.graph(G)
