"""The write locks of a remote store, kept in the store itself: correct across processes and hosts."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import random
import threading
import time
import uuid

import requests
from pyoxigraph import Literal, NamedNode

from app.errors import QueryError, StoreUnavailable
from app.queries import bind, load, operation
from app.store.sparql_http import check

log = logging.getLogger(__name__)

# Seconds a killed holder's write lock outlives it (the heartbeat keeps a live holder's).
DEFAULT_LOCK_TTL = 5.0


class StoreLock:
    """A mutual exclusion between app processes kept in the store: correct across hosts.

    One lock per graph: the commit lock's, and one per named lock (`key_graph`); each taken
    and released alike, and one heartbeat renews every token a process holds.
    To take it, a process adds its token to the lock graph, then lists the tokens there: it
    holds the lock only if its token is alone, else it takes it back and tries again after a
    random pause. Each request sees every update committed before it starts, so of two
    processes whose tokens overlap, the one that lists second sees both: at most one is ever
    alone.

    Tokens carry an expiry `ttl` ahead, so a process killed while holding the lock blocks the
    others for `ttl` at most (5 s by default): one that finds an expired token beside its own
    removes it. A live holder keeps its token: a heartbeat thread moves the expiry `ttl` ahead
    again every `ttl / 4` while the lock is held, however long the holder works; the renewal
    only rewrites a token still in the store, so it never brings back one released or expired.

    A holder that misses its renewals for a whole `ttl` (stopped, starved, or its store too
    slow to answer: seen on an overloaded CI machine) may have lost the lock while it still
    means to write. So each token also has a graph of its own, its fence, which exists while the
    token is held and goes in the same update as the token when anyone removes it; every commit
    ends with an operation per lock it holds that fails, and with it the whole update, if that
    fence is gone (`fence`). A late holder's commit then writes nothing: LockLost. What is left
    uncovered is an update the server is already running when the fence goes: Oxigraph 0.5
    runs each update on a snapshot and does not check it against updates committed meanwhile.
    Expiry is judged by each process's own clock, so hosts keep their clocks within a fraction
    of `ttl` of each other (NTP does); Oxigraph 0.5 computes no NOW() + duration in an update.
    """

    GRAPH = "<urn:x-dfc-hub:write-lock>"

    def __init__(self, store, ttl: float):
        self.store, self.ttl = store, ttl
        self.tokens: dict[str, list] = {}    # lock graph → [held token, when its expiry was last set]
        self._mutex = threading.Lock()       # tokens and stamps, between holders and heartbeat
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def acquire(self, graph: str | None = None) -> None:
        """Take the lock kept in `graph` (the commit lock's by default) for this process."""
        graph = graph or self.GRAPH
        pause = 0.001
        while True:
            token = f"<urn:x-dfc-hub:lock:{uuid.uuid4().hex}>"
            now = time.time()
            self._update(_ops("lock_take", [(graph, token)], expires=_stamp(now + self.ttl)))
            rows = self.store.select(load("lock_tokens"), {"lock": _iri(graph)})
            tokens = [str(r["t"]) for r in rows]
            if token not in tokens:     # never loop on a store that drops it, or is slower than a TTL
                raise StoreUnavailable("the write lock's token was gone before the store listed it: the store "
                                       "answers more slowly than DFC_HUB_LOCK_TTL_SECONDS, or dropped it")
            if tokens == [token]:
                with self._mutex:
                    self.tokens[graph] = [token, now]
                self._start_heartbeat()
                return
            # An expired token goes with its fence (and all it holds: a commit's marker), so
            # that its holder, if alive, can no longer write.
            expired = [str(r["t"]) for r in rows if str(r["t"]) != token and _past(r["e"], now)]
            self._drop_tokens(graph, [token, *expired])
            if not expired:
                time.sleep(random.uniform(0, pause))
                pause = min(pause * 2, 0.05)

    def release(self, graph: str | None = None) -> None:
        graph = graph or self.GRAPH
        with self._mutex:
            held = self.tokens.pop(graph, None)
        if held is not None:
            try:
                self._drop(graph, held[0])
            except StoreUnavailable as e:
                # Not the caller's failure: the release comes after the commit, which stands.
                # The token, renewed no more, expires within `ttl` and frees the lock then.
                log.warning("a lock's release went unanswered; it expires within %s s: %s", self.ttl, e)

    def abandon(self, graph: str | None = None) -> None:
        """Give up the lock kept in `graph` without dropping its token: it expires after `ttl`."""
        with self._mutex:
            self.tokens.pop(graph or self.GRAPH, None)

    def fence(self, graphs: list[str]) -> tuple[str, list[tuple[str, str]]]:
        """The operations a commit ends with so that it writes only while each lock of `graphs`
        this process holds is still its own (a DROP GRAPH fails for a graph that does not
        exist), and those locks as (graph, token). Each fence is made again at once: the lock
        is kept. Measured (bench/close.py): any operation but INSERT DATA and DELETE DATA puts
        Oxigraph's whole update on its slower path, 150 ms more for a close of 1,000 orders
        (1.3 s under the lock); no data operation can fail on what the store holds."""
        with self._mutex:
            held = [(g, self.tokens[g][0]) for g in graphs if g in self.tokens]
        return _ops("lock_fence", held), held

    def unfence(self, held: list[tuple[str, str]]) -> None:
        """Drop the fences of `held` locks: a commit of theirs the server has not started fails
        when it does. Best effort: a store that does not answer leaves them."""
        if held:
            with contextlib.suppress(StoreUnavailable, QueryError):
                self._update(_ops("lock_unfence", held))

    def refence(self, held: list[tuple[str, str]]) -> None:
        """Make the fences of `held` locks again where their tokens are still in the store (a
        unit of work written in parts goes on). Best effort: without them, its next part fails."""
        if held:
            with contextlib.suppress(StoreUnavailable, QueryError):
                self._update(_ops("lock_refence", held))

    def marker(self, graph: str) -> dict[str, NamedNode] | None:
        """The bindings of app/queries/commit_marker.ru and commit_landed.rq (the lock graph, its
        held token, a fresh commit IRI) for a commit to name itself by; None if this process
        holds no token in `graph`."""
        with self._mutex:
            held = self.tokens.get(graph)
        if held is None:
            return None
        return {"lock": _iri(graph), "token": _iri(held[0]),
                "commit": NamedNode(f"urn:x-dfc-hub:commit:{uuid.uuid4().hex}")}

    def close(self) -> None:
        """Stop the heartbeat (a token still held then expires after `ttl`)."""
        self._stop.set()

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or not self._heartbeat.is_alive() or self._stop.is_set():
            self._stop = threading.Event()
            self._heartbeat = threading.Thread(target=self._beat, args=(self._stop,),
                                               name="store-lock-heartbeat", daemon=True)
            self._heartbeat.start()

    def _beat(self, stop: threading.Event) -> None:
        # One thread per store until it closes: it renews whichever tokens are held when it wakes.
        with requests.Session() as http:
            while not stop.wait(self.ttl / 4):
                now = time.time()
                with self._mutex:
                    due = {g: t for g, (t, stamped) in self.tokens.items() if now - stamped >= self.ttl / 4}
                if due:
                    with contextlib.suppress(StoreUnavailable, QueryError):   # try again next beat
                        self._renew(http, due, now)

    def _renew(self, http: requests.Session, due: dict[str, str], now: float) -> None:
        text = _ops("lock_renew", list(due.items()), expires=_stamp(now + self.ttl))
        try:
            r = http.post(self.store.update_url, data=text.encode(), timeout=self.ttl,
                          headers={"Content-Type": "application/sparql-update"})
        except requests.RequestException as e:
            raise StoreUnavailable(f"the SPARQL server did not answer: {e}") from e
        check(r, QueryError)
        with self._mutex:
            for graph, token in due.items():
                if self.tokens.get(graph, [None])[0] == token:
                    self.tokens[graph][1] = now

    def _drop(self, graph: str, token: str) -> None:
        self._drop_tokens(graph, [token])

    def _drop_tokens(self, graph: str, tokens: list[str]) -> None:
        """Remove tokens from a lock graph, each with its fence, in one update."""
        self._update(_ops("lock_drop", [(graph, t) for t in tokens]))

    def _update(self, text: str) -> None:
        self.store._post(self.store.update_url, text, "application/sparql-update")


def fence_failed(e: QueryError, tokens: list[str]) -> bool:
    """Whether a commit was refused because the fence of one of `tokens` is gone: the server
    names the graph that does not exist (the only DROP GRAPH without SILENT we send)."""
    text = str(e)
    return "does not exist" in text and any(t in text for t in tokens)


def _past(expiry, now: float) -> bool:
    """Whether a token's expiry (an xsd:dateTime literal) is before `now` (epoch seconds)."""
    try:
        return dt.datetime.fromisoformat(expiry.value.replace("Z", "+00:00")).timestamp() < now
    except (AttributeError, ValueError):
        return True         # no readable expiry: nobody can renew it either


def key_graph(key: str) -> str:
    """The graph holding a named lock's tokens (a digest: keys are IRIs of any spelling)."""
    return f"<urn:x-dfc-hub:write-lock:{hashlib.sha256(key.encode()).hexdigest()[:32]}>"


def _ops(name: str, locks: list[tuple[str, str]], **bindings) -> str:
    """The update `name` once for each (lock graph, token) of `locks`, in one request."""
    return " ;\n".join(bind(operation(name), {"lock": _iri(g), "token": _iri(t), **bindings}) for g, t in locks)


def _iri(term: str) -> NamedNode:
    """A lock graph or token, kept as SPARQL text (`<urn:…>`), as a term to bind."""
    return NamedNode(term[1:-1])


def _stamp(seconds: float) -> Literal:
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return Literal(moment, datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
