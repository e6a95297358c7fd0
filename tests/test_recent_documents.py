"""The embedded store remembers documents between reads (app/store/recent.py): exact, or absent.

Every test ends by comparing each remembered document with what the store itself holds (its own
blank nodes included): a document remembered wrong would be read wrong by every later request.
"""
from __future__ import annotations

import random
import threading

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.store.embedded import EmbeddedStore
from app.store.recent import Recent

EX = "http://example.org/recent/"
S, P, Q, R = (NamedNode(EX + n) for n in ("s", "p", "q", "r"))


def doc(n: int) -> NamedNode:
    return NamedNode(f"{EX}doc/{n}")


@pytest.fixture(params=["memory", "on-disk"])
def store(request, tmp_path):
    s = EmbeddedStore(None if request.param == "memory" else str(tmp_path / "store"))
    yield s
    exact(s)
    s.close()


def exact(store: EmbeddedStore) -> None:
    """Every remembered document is the store's, statement for statement."""
    for name, triples in list(store._recent._docs.items()):
        held = {q.triple for q in store.raw.quads_for_pattern(None, None, None, name)}
        assert set(triples) == held, f"{name} remembered wrong"


def remembered(store: EmbeddedStore, name: NamedNode) -> bool:
    return store._recent.get(name) is not None


def test_a_document_read_is_remembered_and_a_unit_of_work_leaves_it_as_written(store):
    with store.transaction() as tx:
        tx.put(doc(1), [Triple(S, P, Literal("one"))])
    assert store.graph(doc(1)) == [Triple(S, P, Literal("one"))]
    assert remembered(store, doc(1))
    with store.transaction() as tx:
        tx.put(doc(1), [*tx.graph(doc(1)), Triple(S, Q, Literal("two"))])
    assert remembered(store, doc(1))                    # as written, without reading it again
    assert set(store.graph(doc(1))) == {Triple(S, P, Literal("one")), Triple(S, Q, Literal("two"))}


def test_a_copy_is_handed_out_never_the_memory_itself(store):
    with store.transaction() as tx:
        tx.put(doc(1), [Triple(S, P, Literal("one"))])
    store.graph(doc(1)).append(Triple(S, Q, Literal("not stored")))
    assert store.graph(doc(1)) == [Triple(S, P, Literal("one"))]


def test_a_dropped_document_is_forgotten(store):
    with store.transaction() as tx:
        tx.put(doc(1), [Triple(S, P, Literal("one"))])
    store.graph(doc(1))
    with store.transaction() as tx:
        tx.drop(doc(1))
    assert store.graph(doc(1)) == []


def test_an_appended_update_and_a_write_outside_a_unit_of_work_forget_everything(store):
    with store.transaction() as tx:
        tx.put(doc(1), [Triple(S, P, Literal("one"))])
        tx.put(doc(2), [Triple(S, P, Literal("two"))])
    store.graph(doc(1)), store.graph(doc(2))
    with store.transaction() as tx:
        tx.append(f"INSERT DATA {{ GRAPH <{doc(1).value}> {{ <{S.value}> <{R.value}> 'appended' }} }}")
    assert not remembered(store, doc(1)) and not remembered(store, doc(2))
    assert Triple(S, R, Literal("appended")) in store.graph(doc(1))
    store.update(f"INSERT DATA {{ GRAPH <{doc(2).value}> {{ <{S.value}> <{R.value}> 'direct' }} }}")
    assert not remembered(store, doc(1)) and Triple(S, R, Literal("direct")) in store.graph(doc(2))


def test_a_unit_of_work_another_write_overtook_forgets_what_it_wrote(store):
    """Both wrote doc 1 by their differences: the store holds both; neither copy is the store's."""
    with store.transaction() as tx:
        tx.put(doc(1), [Triple(S, P, Literal("one"))])
    with store.transaction(keys=["a"]) as tx:
        mine = tx.graph(doc(1))
        with store.transaction(keys=["b"]) as other:       # another producer's, meanwhile
            other.put(doc(1), [*other.graph(doc(1)), Triple(S, R, Literal("theirs"))])
        tx.put(doc(1), [*mine, Triple(S, Q, Literal("mine"))])
    assert not remembered(store, doc(1))
    assert set(store.graph(doc(1))) == {Triple(S, P, Literal("one")), Triple(S, Q, Literal("mine")),
                                        Triple(S, R, Literal("theirs"))}


def test_a_blank_node_changed_in_place_is_kept_and_a_new_one_is_not(store):
    qv = BlankNode()
    with store.transaction() as tx:                         # new: the store names the node
        tx.put(doc(1), [Triple(S, Q, qv), Triple(qv, P, Literal("3"))])
    assert not remembered(store, doc(1))
    [node] = [t.object for t in store.graph(doc(1)) if t.predicate == Q]
    with store.transaction() as tx:                         # changed in place: still the store's node
        tx.put(doc(1), [t for t in tx.graph(doc(1)) if t.subject != node] + [Triple(node, P, Literal("5"))])
    assert remembered(store, doc(1))
    assert set(store.graph(doc(1))) == {Triple(S, Q, node), Triple(node, P, Literal("5"))}
    with store.transaction() as tx:                         # another new node: forgotten
        fresh = BlankNode()
        tx.put(doc(1), [*tx.graph(doc(1)), Triple(S, R, fresh), Triple(fresh, P, Literal("7"))])
    assert not remembered(store, doc(1))


def test_a_read_while_a_write_is_under_way_is_not_remembered(store):
    with store.transaction() as tx:
        tx.put(doc(1), [Triple(S, P, Literal("one"))])
    with store._recent.writing():
        store.graph(doc(1))
    assert not remembered(store, doc(1))


def test_memory_is_bounded_and_large_documents_are_not_kept():
    recent = Recent(size=3, largest=2)
    for n in range(100_000):
        recent.fill(doc(n), [Triple(S, P, Literal(str(n)))], recent.mark())
    assert len(recent._docs) == 3 and recent.get(doc(99_999)) is not None
    recent.fill(doc(-1), [Triple(S, P, Literal(str(n))) for n in range(3)], recent.mark())
    assert recent.get(doc(-1)) is None


def test_threads_writing_and_reading_at_once_leave_only_exact_memories(store):
    """Eight threads change ten documents by their differences, some under a shared key and
    some not (a keyless write may overtake the others), some with appended updates, while others
    read: afterwards every remembered document is the store's."""
    for n in range(10):
        with store.transaction() as tx:
            tx.put(doc(n), [Triple(S, P, Literal("0"))])
    errors = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for step in range(150):
                name = doc(rng.randrange(10))
                choice = rng.random()
                if choice < 0.4:
                    store.graph(name)
                elif choice < 0.9:
                    keys = None if rng.random() < 0.3 else [name.value]
                    with store.transaction(keys=keys) as tx:
                        current = tx.graph(name)
                        kept = [t for t in current if not (t.predicate == Q and t.object.value.startswith(f"{seed}-"))]
                        tx.put(name, [*kept, Triple(S, Q, Literal(f"{seed}-{step}"))])
                else:
                    with store.transaction(keys=[name.value]) as tx:
                        tx.append(f"INSERT DATA {{ GRAPH <{name.value}> {{ <{S.value}> <{R.value}> '{seed}-{step}' }} }}")
        except Exception as e:          # reported below: a thread's failure is the test's
            errors.append(e)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    exact(store)
    for n in range(10):                 # and what a read answers is what the store holds
        held = {q.triple for q in store.raw.quads_for_pattern(None, None, None, doc(n))}
        assert set(store.graph(doc(n))) == held
