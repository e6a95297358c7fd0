"""A remote store that does not answer in time: what a unit of work then tells its caller.

The app gives up on a request to `oxigraph serve` after the store's timeout, but the server may
still carry it out: a commit whose answer never came may be written, now or later. A loopback
proxy (support/faulty_proxy.py) between the store and the server holds one request until the
test lets it go, before forwarding it (the server has not seen it when the app gives up) or
after the server answered (it was written, the answer is late). No clock decides which: the app
gives up at its timeout, and the proxy forwards when the test says.
"""
from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from app.errors import OutcomeUnknown
from app.store import open_store
from app.store.locks import KeyLocks
from app.store.remote import RemoteStore, _key_graph
from support.faulty_proxy import FaultyProxy
from support.stores import oxigraph_url  # noqa: F401 - fixture

EX = "http://example.org/timeouts/"
DOC, S, P = NamedNode(EX + "doc"), NamedNode(EX + "s"), NamedNode(EX + "p")
KEY = EX + "producer"
LATE = Literal("written late")          # only the commit carries it: the proxy holds that request
# Long enough for a loaded machine's ordinary requests; only the held one runs into it.
TIMEOUT = 4.0


@pytest.fixture
def proxied(oxigraph_url):  # noqa: F811 - fixture
    """(proxy, a store talking through it, the same server reached directly), emptied."""
    proxy = FaultyProxy()
    proxy.target = oxigraph_url
    proxy.start()
    # A long TTL: a lock left to expire is still there when the test looks.
    store = RemoteStore(f"{proxy.url}/query", f"{proxy.url}/update", f"{proxy.url}/store",
                        timeout=TIMEOUT, lock_ttl=60)
    direct = open_store(f"sparql:{oxigraph_url}")
    direct.update("DROP ALL")
    try:
        yield proxy, store, direct
    finally:
        proxy.released.set()
        proxy.settle()
        store.close()
        direct.close()
        proxy.stop()


def _lock_tokens(direct) -> list:
    return direct.select(f"SELECT ?t WHERE {{ GRAPH {_key_graph(KEY)} {{ ?t ?p ?o }} }}")


@pytest.mark.parametrize("document", ["new", "changed"])
def test_a_commit_answered_too_late_is_found_written_and_the_unit_of_work_succeeds(proxied, document):
    # A new document is posted as N-Quads (Graph Store Protocol), a changed one as an update:
    # both carry the commit's marker.
    proxy, store, direct = proxied
    if document == "changed":
        direct.replace_graphs({DOC: [Triple(S, P, Literal("before"))]})
    proxy.hold(LATE.value.encode(), after=True)
    with store.transaction(keys=[KEY]) as tx:
        tx.graph(DOC)
        tx.put(DOC, [Triple(S, P, LATE)])
    assert direct.graph(DOC) == [Triple(S, P, LATE)]
    assert _lock_tokens(direct) == [], "the locks were released as after any commit"


def test_a_commit_the_server_has_not_run_when_the_app_gives_up_is_reported_unknown(proxied):
    proxy, store, direct = proxied
    proxy.hold(LATE.value.encode(), after=False)
    with pytest.raises(OutcomeUnknown) as raised:
        with store.transaction(keys=[KEY]) as tx:
            tx.graph(DOC)
            tx.put(DOC, [Triple(S, P, LATE)])
    problem = raised.value.problem()
    assert problem["status"] == 503 and problem["type"].endswith("/outcome-unknown")
    assert "may have been" in problem["detail"] and "GET" in problem["detail"]
    assert direct.graph(DOC) == []
    # The locks are left to expire, not dropped: no other writer reads the document while the
    # update may still land. This process's threads are free to queue for them again.
    assert len(_lock_tokens(direct)) == 1
    assert store._keys.held() == set()
    # And it does land, after the app said it did not know: why the answer could not say "failed".
    proxy.released.set()
    proxy.settle()
    assert direct.graph(DOC) == [Triple(S, P, LATE)]


def test_a_lock_release_left_unanswered_does_not_undo_the_commits_success(proxied):
    # The commit lock's and the named lock's releases both go unanswered: the change stands,
    # and the caller hears no error for it; the tokens expire in the store.
    proxy, store, direct = proxied
    proxy.hold(b"DELETE WHERE", after=False)
    with store.transaction(keys=[KEY]) as tx:
        tx.graph(DOC)
        tx.put(DOC, [Triple(S, P, LATE)])
    assert direct.graph(DOC) == [Triple(S, P, LATE)]
    assert store._keys.held() == set()


def test_every_key_is_given_back_when_one_release_fails():
    def release(key):
        if key == "b":
            raise OSError("the store did not answer")
    locks = KeyLocks(acquire=lambda key: None, release=release)
    with pytest.raises(OSError):
        with locks.hold(["a", "b", "c"]):
            pass
    assert locks.held() == set()
