"""A remote store that does not answer in time: what a unit of work then tells its caller.

The app gives up on a request to `oxigraph serve` after the store's timeout, but the server may
still carry it out: a commit whose answer never came may be written, now or later. A loopback
proxy (support/faulty_proxy.py) between the store and the server holds one request until the
test lets it go, before forwarding it (the server has not seen it when the app gives up) or
after the server answered (it was written, the answer is late). No clock decides which: the app
gives up at its timeout, and the proxy forwards when the test says.
"""
from __future__ import annotations

import contextlib
import socket
import threading

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from app.config import Settings
from app.errors import LockLost, OutcomeUnknown, StoreUnavailable
from app.runtime.services import Services
from app.store import open_store
from app.store.locks import KeyLocks
from app.store.base import LOCK_LOST_TRIES
from app.store.remote import RemoteStore
from app.store.store_lock import key_graph
from support.faulty_proxy import FaultyProxy
from support.stores import oxigraph_url  # noqa: F401 - fixture

EX = "http://example.org/timeouts/"
DOC, S, P = NamedNode(EX + "doc"), NamedNode(EX + "s"), NamedNode(EX + "p")
KEY = EX + "producer"
LATE = Literal("written late")          # only the commit carries it: the proxy holds that request
# Long enough for a loaded machine's ordinary requests; only the held one runs into it.
TIMEOUT = 4.0


@contextlib.contextmanager
def _through_proxy(url: str, timeout: float, lock_ttl: float):
    """(proxy, a store talking to `url` through it, the same server reached directly), emptied;
    whatever the proxy still holds is let go before all three close."""
    proxy = FaultyProxy()
    proxy.target = url
    proxy.start()
    store = RemoteStore(f"{proxy.url}/query", f"{proxy.url}/update", f"{proxy.url}/store",
                        timeout=timeout, lock_ttl=lock_ttl)
    direct = open_store(f"sparql:{url}")
    direct.update("DROP ALL")
    try:
        yield proxy, store, direct
    finally:
        proxy.released.set()
        proxy.settle()
        store.close()
        direct.close()
        proxy.stop()


@pytest.fixture
def proxied(oxigraph_url):  # noqa: F811 - fixture
    # A long TTL: a lock left to expire is still there when the test looks.
    with _through_proxy(oxigraph_url, TIMEOUT, lock_ttl=60) as parts:
        yield parts


def _lock_tokens(direct) -> list:
    return direct.select(f"SELECT ?t WHERE {{ GRAPH {key_graph(KEY)} {{ ?t ?p ?o }} }}")


def _fences(direct) -> list:
    return direct.select("SELECT ?t WHERE { GRAPH ?t { ?t <https://w3id.org/dfc-order-hub/ns#fences> ?lock } }")


@pytest.mark.parametrize("document", ["new", "changed"])
def test_a_commit_answered_too_late_is_found_written_and_the_unit_of_work_succeeds(proxied, document):
    # A new document and a changed one: both carry the commit's marker (and its fence).
    proxy, store, direct = proxied
    if document == "changed":
        direct.replace_graphs({DOC: [Triple(S, P, Literal("before"))]})
    proxy.hold(LATE.value.encode(), after=True)
    with store.transaction(keys=[KEY]) as tx:
        tx.graph(DOC)
        tx.put(DOC, [Triple(S, P, LATE)])
    assert direct.graph(DOC) == [Triple(S, P, LATE)]
    assert _lock_tokens(direct) == [] and _fences(direct) == [], "the locks were released as after any commit"


def test_a_unit_of_work_written_in_parts_goes_on_after_a_part_answered_too_late(proxied):
    # A close writes its orders in parts under the same locks. The first part's answer comes
    # late: it is found written, and its fences (dropped to find out) are made again, so the
    # next part is not refused as if the lock were lost.
    proxy, store, direct = proxied
    other = NamedNode(EX + "other")
    proxy.hold(LATE.value.encode(), after=True)
    with store.transaction(keys=[KEY]) as tx:
        tx.graph(DOC)
        tx.put(DOC, [Triple(S, P, LATE)])
        store.commit_part(tx)
        tx.graph(other)
        tx.put(other, [Triple(S, P, Literal("the next part"))])
    assert direct.graph(DOC) == [Triple(S, P, LATE)]
    assert direct.graph(other) == [Triple(S, P, Literal("the next part"))]
    assert _lock_tokens(direct) == [] and _fences(direct) == []


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
    # The locks are left to expire, not dropped: no other writer reads the document while an
    # update the server was running may still land. This process's threads may queue again.
    assert len(_lock_tokens(direct)) == 1
    assert store._keys.held() == set()
    # The fences went before the app answered: the update, reaching the server after that,
    # fails on them and writes nothing.
    assert _fences(direct) == []
    proxy.released.set()
    proxy.settle()
    assert direct.graph(DOC) == []


def test_the_store_timeout_setting_bounds_each_wait_for_the_store():
    # A store that takes the connection and never answers: the wait ends at the configured
    # timeout, and the read answers 503 (the request names the timeout it met).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    settings = Settings.load({"store": f"sparql:{url}"}, environ={"DFC_HUB_STORE_TIMEOUT_SECONDS": "0.5"})
    try:
        with pytest.raises(StoreUnavailable, match=r"timeout=0\.5"):
            Services.open(settings)          # its first read of the store, as `serve` starts
    finally:
        silent.close()


def test_a_store_gone_after_the_commit_leaves_the_change_written_and_says_so(proxied):
    # The commit lands; then the store stops answering before what follows it (a partner told
    # of the change) could read it. The caller learns that the change was written.
    proxy, store, direct = proxied

    def follow(done):
        proxy.set("down")
        store.graph(DOC)

    with pytest.raises(OutcomeUnknown, match="the change was written"):
        with store.transaction(keys=[KEY]) as tx:
            tx.graph(DOC)
            tx.put(DOC, [Triple(S, P, LATE)])
            tx.after_commit(follow)
    assert direct.graph(DOC) == [Triple(S, P, LATE)]
    proxy.set("pass")


# --- a gateway in front of the store answers for it ------------------------------------------------

@pytest.mark.parametrize("status", [502, 503, 504, 522])
def test_a_commit_a_gateway_passed_on_then_failed_is_found_written(proxied, status):
    # A reverse proxy in front of the store gave up waiting for it (504), or lost its connection
    # (502, Envoy's 503, Cloudflare's 522), after passing the commit on: the store wrote it.
    # "Nothing was written, send again" would have a client place the order twice; the marker
    # says it was written.
    proxy, store, direct = proxied
    proxy.gateway(LATE.value.encode(), status, after=True)
    with store.transaction(keys=[KEY]) as tx:
        tx.graph(DOC)
        tx.put(DOC, [Triple(S, P, LATE)])
    assert direct.graph(DOC) == [Triple(S, P, LATE)]
    assert _lock_tokens(direct) == [] and _fences(direct) == []


@pytest.mark.parametrize("status", [502, 503])
def test_a_commit_a_gateway_failed_without_passing_it_on_is_reported_unknown(proxied, status):
    # From the app, a gateway's error before forwarding looks like one after it: the marker is not
    # there, and the update might still reach the store. Unknown, not "nothing was written"; its
    # fences are gone, so if it still comes it writes nothing.
    proxy, store, direct = proxied
    proxy.gateway(LATE.value.encode(), status, after=False)
    with pytest.raises(OutcomeUnknown):
        with store.transaction(keys=[KEY]) as tx:
            tx.graph(DOC)
            tx.put(DOC, [Triple(S, P, LATE)])
    assert direct.graph(DOC) == [] and _fences(direct) == []
    assert store._keys.held() == set()


@pytest.mark.parametrize("status", [502, 504, 522])
def test_a_read_a_gateway_fails_answers_store_unavailable(proxied, status):
    proxy, store, direct = proxied
    proxy.gateway(b"CONSTRUCT", status, after=False)
    with pytest.raises(StoreUnavailable) as raised:
        store.graph(DOC)
    assert type(raised.value) is StoreUnavailable and str(status) in raised.value.problem()["detail"]


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


# --- a holder too slow to renew its lock writes nothing once another took the lock over ---------

@pytest.fixture
def lapsing(oxigraph_url):  # noqa: F811 - fixture
    """(proxy, store A through it, store B direct): DOC holds "1", and A's lock renewals, and only
    those, are held by the proxy (an overloaded store, a paused process) until it is released.
    A's TTL is one second: once it has passed, B can take A's lock."""
    with _through_proxy(oxigraph_url, timeout=30, lock_ttl=1) as (proxy, a, b):
        b.replace_graphs({DOC: [Triple(S, P, Literal("1"))]})
        proxy.hold(b"#expires> ?e } }\nINSERT", after=False)      # the renewals (app/queries/lock_renew.ru)
        yield proxy, a, b


def _take_over_and_write(store, value) -> None:
    """What B does while A holds the lock: waits for A's token to lapse, takes it, writes."""
    def write():
        with store.transaction(keys=[KEY]) as tx:
            tx.graph(DOC)
            tx.put(DOC, [Triple(S, P, value)])
    taker = threading.Thread(target=write)
    taker.start()
    taker.join(60)
    assert not taker.is_alive()


def test_a_holder_whose_lock_lapsed_and_was_taken_over_writes_nothing(lapsing):
    # A reads under the producer's lock; its token lapses and B takes the lock and writes. A's
    # commit, coming after, must not overwrite what B wrote on what A read before: it fails on
    # its fence, and A's caller learns nothing was written.
    proxy, a, b = lapsing
    with pytest.raises(LockLost) as lost:
        with a.transaction(keys=[KEY]) as tx:
            seen = tx.graph(DOC)
            _take_over_and_write(b, Literal("2 (B, after A's lock lapsed)"))
            tx.put(DOC, [Triple(S, P, Literal(f"{seen[0].object.value} + 1 (A)"))])
    assert lost.value.problem()["type"].endswith("/store-unavailable")
    assert "nothing was written" in lost.value.problem()["detail"]
    assert b.graph(DOC) == [Triple(S, P, Literal("2 (B, after A's lock lapsed)"))]
    assert a._keys.held() == set() and _lock_tokens(b) == [] and _fences(b) == []


def test_a_unit_of_work_whose_lock_lapsed_is_tried_again_from_its_reads(lapsing):
    # store.attempts (order writes, the start-up steps) runs a unit of work again when its
    # commit met a lost lock: nothing was written, so it reads again and decides again.
    proxy, a, b = lapsing
    runs = []
    for attempt in a.attempts([KEY]):
        with attempt as tx:
            seen = tx.graph(DOC)[0].object.value
            runs.append(seen)
            if len(runs) == 1:          # the first run's lock lapses and B writes meanwhile
                _take_over_and_write(b, Literal("2"))
            else:
                proxy.released.set()    # the renewals go through again
            tx.put(DOC, [Triple(S, P, Literal(f"{seen} + 1"))])
    assert runs == ["1", "2"]
    assert b.graph(DOC) == [Triple(S, P, Literal("2 + 1"))]


def test_a_unit_of_work_whose_lock_lapses_every_time_gives_up_after_a_few_tries(lapsing):
    # A store too slow for the TTL each time: the caller gets the 503 at last, not a loop.
    proxy, a, b = lapsing
    runs = []
    with pytest.raises(LockLost):
        for attempt in a.attempts([KEY]):
            with attempt as tx:
                runs.append(tx.graph(DOC)[0].object.value)
                _take_over_and_write(b, Literal(f"B's {len(runs)}"))
                tx.put(DOC, [Triple(S, P, Literal("A's"))])
    assert len(runs) == LOCK_LOST_TRIES
    assert b.graph(DOC) == [Triple(S, P, Literal(f"B's {LOCK_LOST_TRIES}"))]
