"""A remote SPARQL 1.1 server (query, update, Graph Store Protocol), laid out as Oxigraph's."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
import requests
import urllib3
from pyoxigraph import NamedNode, Quad, Triple

from app.errors import InvalidQuery, LockLost, OutcomeUnknown, QueryError, QueryTimeout, StoreUnavailable
from app.queries import bind, load, to_sparql
from app.store.base import Bindings, Store
from app.store.locks import KeyLocks
from app.store.results import json_rows

log = logging.getLogger(__name__)

_NT = "application/n-triples"
_JSON = "application/sparql-results+json"
_UNAVAILABLE = {502, 503, 504}
# Seconds a killed holder's write lock outlives it (the heartbeat keeps a live holder's).
DEFAULT_LOCK_TTL = 5.0
# What `oxigraph serve --timeout-s` appends to a 200 answer it has cut short; no complete
# result in any format ends with it.
_CANCELLED = b"The SPARQL operation has been cancelled"


class RemoteStore(Store):
    """Talks SPARQL 1.1 Protocol over HTTP; one requests.Session per thread.

    Oxigraph's server runs each update request atomically but does not isolate concurrent
    writers, so a unit of work holds its named locks (app/store/locks.py) from its first read
    to its commit, each shared by every app process of the store wherever it runs: a lock
    document per key kept in the store itself (see `_StoreLock`). Its commit holds the short
    commit lock too (`write_lock`), kept alike; a lock file per machine queues this machine's
    processes first for it, so that it is contended by one process per host at most.
    """

    def __init__(self, query_url: str, update_url: str, store_url: str | None, timeout: float = 30.0,
                 lock_ttl: float = DEFAULT_LOCK_TTL):
        self.query_url, self.update_url, self.store_url = query_url, update_url, store_url
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._lock_owner: int | None = None     # the thread holding the commit lock
        self._lock_file = None
        # Several app processes may share one remote store; a lock file named after the
        # store's URL serialises their writes and read-check-write sequences on this machine.
        digest = hashlib.sha256(update_url.encode()).hexdigest()[:16]
        self._lock_path = os.path.join(tempfile.gettempdir(), f"dfc-hub-{digest}.lock")
        self._store_lock = _StoreLock(self, lock_ttl)
        # Named locks (a producer, a document): one lock document each, across processes.
        self._keys = KeyLocks(lambda key: self._store_lock.acquire(_key_graph(key)),
                              lambda key: self._store_lock.release(_key_graph(key)))

    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _post(self, url: str, body: bytes | str, content_type: str, accept: str | None = None) -> requests.Response:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        try:
            r = self._http.post(url, data=body if isinstance(body, bytes) else body.encode(),
                                headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise StoreUnavailable(f"the SPARQL server did not answer: {e}") from e
        _check(r, QueryError)
        return r

    def _query(self, query: str, bindings: Bindings, accept: str) -> bytes:
        return self._post(self.query_url, bind(query, bindings), "application/sparql-query", accept).content

    def select(self, query: str, bindings: Bindings = None) -> list[dict]:
        return json_rows(self._query(query, bindings, _JSON))

    def ask(self, query: str, bindings: Bindings = None) -> bool:
        return bool(ox.parse_query_results(self._query(query, bindings, _JSON), format=ox.QueryResultsFormat.JSON))

    def construct(self, query: str, bindings: Bindings = None) -> list[Triple]:
        data = self._query(query, bindings, _NT)
        return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]

    def query_to(self, query, default_graph, named_graphs, media_type: str, out,
                  timeout: float | None = None) -> None:
        # The protocol's graph parameters replace the query's FROM / FROM NAMED (Oxigraph's
        # server does as the protocol says; tests check it); a form body carries long lists.
        form = [("query", query), *(("default-graph-uri", g.value) for g in default_graph),
                *(("named-graph-uri", g.value) for g in named_graphs)]
        try:
            # `timeout` bounds each wait for bytes: a worker waiting on a slow server is freed.
            with self._http.post(self.query_url, data=form, headers={"Accept": media_type}, stream=True,
                                 timeout=(self.timeout, timeout or self.timeout)) as r:
                _check(r, InvalidQuery)
                tail = b""
                for chunk in r.iter_content(64 * 1024):
                    out.write(chunk)
                    tail = (tail + chunk)[-len(_CANCELLED) - 16:]
        except requests.RequestException as e:
            raise StoreUnavailable(f"the SPARQL server did not answer: {e}") from e
        if tail.rstrip().endswith(_CANCELLED):
            raise QueryTimeout("the SPARQL server stopped the query at its own timeout (oxigraph serve "
                               "--timeout-s); narrow it, or add a LIMIT")

    def _update(self, update: str) -> None:
        # No lock of its own: a unit of work's named locks keep writers to different documents,
        # and its commit holds the commit lock where it must (app/store/base.py).
        if update:
            self._post(self.update_url, update, "application/sparql-update")

    def graph(self, name: NamedNode) -> list[Triple]:
        return self.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": name})

    def add_quads(self, quads: Iterable[Quad]) -> None:
        # The Graph Store Protocol POST of N-Quads is one transaction in Oxigraph's server
        # (a syntax error loads nothing); blank nodes are fresh per request.
        data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        if not data:
            return
        if self.store_url:
            self._post(self.store_url, data, "application/n-quads")
        else:
            self._update("INSERT DATA {\n" + _as_insert_body(data.decode()) + "}")

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        # Re-entrant: only the outermost holder takes the file lock (a second flock on a new
        # descriptor would wait for the first one for ever).
        with self._thread_lock:
            if self._lock_depth == 0:
                self._lock_file = _lock_exclusive(self._lock_path)
                try:
                    self._store_lock.acquire()
                except BaseException:
                    self._lock_file.close()
                    raise
                self._lock_owner = threading.get_ident()
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    self._lock_owner = None
                    lock_file, self._lock_file = self._lock_file, None
                    try:
                        self._store_lock.release()
                    finally:
                        lock_file.close()  # closing the descriptor releases the flock

    def _commit(self, tx, bulk: bool) -> None:
        """Write what a unit of work changed, only while its locks are still its own, and find
        out whether it was written when the server's answer never comes.

        Fenced: the update ends with one operation per lock it holds that fails, and with it the
        whole update, if that lock's token was taken from it (`_StoreLock.fence`): a holder
        too slow to renew its lock, whose lock another process took over, writes nothing (LockLost).

        The commit also names itself beside the token of a lock it holds, in the same atomic
        update (app/queries/commit_marker.ru). When its answer never comes, its fences are
        dropped first, so that an update still queued at the server fails when it runs; then the
        marker, read back, says whether it was written. If not, it could still land only if the
        server was running it at that moment: the unit of work's locks are left to expire rather
        than dropped, and the caller learns that the outcome is unknown (OutcomeUnknown, 503).
        """
        graphs = [_key_graph(key) for key in sorted(tx.keys)]
        if self._lock_owner == threading.get_ident():    # the commit lock, where this thread holds it
            graphs.append(_StoreLock.GRAPH)
        fence, tokens = self._store_lock.fence(graphs)
        marker = self._store_lock.marker(_key_graph(min(tx.keys))) if tx.keys else None
        try:
            if tx.only_new and self.store_url and not fence:
                quads = tx.quads()
                if marker is not None:
                    lock, token, commit = marker
                    quads.append(Quad(token, _WROTE, commit, lock))
                self._post(self.store_url, ox.serialize(quads, format=ox.RdfFormat.N_QUADS), "application/n-quads")
            else:
                text = tx.update_text()     # new documents too, where there is no /store or a fence
                if marker is not None:
                    text += " ;\n" + bind(load("commit_marker"), dict(zip(("lock", "token", "commit"), marker)))
                self._update(text + (" ;\n" + fence if fence else ""))
        except QueryError as e:
            if _fence_failed(e, tokens):
                raise LockLost("nothing was written: this server's hold on the documents' lock lapsed "
                               "(the store answered it too slowly) and another writer took it over; "
                               "send the request again") from e
            raise
        except StoreUnavailable as e:
            if not isinstance(e.__cause__, requests.RequestException) or not _maybe_sent(e.__cause__):
                raise       # the server answered (an error status), or the request never left
            self._store_lock.unfence(tokens)
            if marker is not None and self._landed(marker):
                log.warning("a commit's answer never came, but it was written: %s", e)
                return
            self._abandon_locks(tx.keys)
            raise OutcomeUnknown(
                "the store did not answer whether the change was written: it may have been, now or a "
                "little later. Read the resource (GET) to see which before sending the change again; "
                "a retry with the same Idempotency-Key is answered as the first request was if that "
                f"one was written ({e})") from e

    def _landed(self, marker: tuple[NamedNode, NamedNode, NamedNode]) -> bool:
        try:
            return self.ask(load("commit_landed"), dict(zip(("lock", "token", "commit"), marker)))
        except StoreUnavailable:
            return False

    def _abandon_locks(self, keys) -> None:
        """Stop renewing the unit of work's lock tokens and leave them in the store to expire."""
        for key in keys:
            self._store_lock.abandon(_key_graph(key))
        if self._lock_owner == threading.get_ident():   # the commit lock, where this thread holds it
            self._store_lock.abandon()

    def close(self) -> None:
        self._store_lock.close()
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()


class _StoreLock:
    """A mutual exclusion between app processes kept in the store: correct across hosts.

    One lock per graph: the commit lock's, and one per named lock (`_key_graph`); each taken
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
    EXPIRES = "<https://w3id.org/dfc-order-hub/ns#expires>"
    FENCES = "<https://w3id.org/dfc-order-hub/ns#fences>"

    def __init__(self, store: "RemoteStore", ttl: float):
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
            self._update(f"INSERT DATA {{ GRAPH {graph} {{ {token} {self.EXPIRES} {_stamp(now + self.ttl)} }}\n"
                         f"GRAPH {token} {{ {token} {self.FENCES} {graph} }} }}")
            rows = self.store.select(f"SELECT ?t ?e WHERE {{ GRAPH {graph} {{ ?t {self.EXPIRES} ?e }} }}")
            tokens = [str(r["t"]) for r in rows]
            if token not in tokens:     # never loop on a store that drops it
                raise StoreUnavailable("the SPARQL server did not keep the write lock's token")
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

    def fence(self, graphs: list[str]) -> tuple[str, list[str]]:
        """The operations a commit ends with so that it writes only while each lock of `graphs`
        this process holds is still its own (a DROP GRAPH fails for a graph that does not
        exist), and those locks' tokens. Each fence is made again at once: the lock is kept."""
        with self._mutex:
            held = [(g, self.tokens[g][0]) for g in graphs if g in self.tokens]
        ops = [f"DROP GRAPH {t} ;\nINSERT DATA {{ GRAPH {t} {{ {t} {self.FENCES} {g} }} }}" for g, t in held]
        return " ;\n".join(ops), [t for _, t in held]

    def unfence(self, tokens: list[str]) -> None:
        """Drop the fences of `tokens`: a commit of theirs the server has not started fails when
        it does. Best effort: a store that does not answer leaves them."""
        if tokens:
            with contextlib.suppress(StoreUnavailable, QueryError):
                self._update(" ;\n".join(f"DROP SILENT GRAPH {t}" for t in tokens))

    def marker(self, graph: str) -> tuple[NamedNode, NamedNode, NamedNode] | None:
        """(lock graph, held token, a fresh commit IRI) for a commit to name itself by; None if
        this process holds no token in `graph`."""
        with self._mutex:
            held = self.tokens.get(graph)
        if held is None:
            return None
        return (NamedNode(graph[1:-1]), NamedNode(held[0][1:-1]),
                NamedNode(f"urn:x-dfc-hub:commit:{uuid.uuid4().hex}"))

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
        text = " ;\n".join(
            f"DELETE {{ GRAPH {graph} {{ {token} {self.EXPIRES} ?e }} }} "
            f"INSERT {{ GRAPH {graph} {{ {token} {self.EXPIRES} {_stamp(now + self.ttl)} }} }} "
            f"WHERE {{ GRAPH {graph} {{ {token} {self.EXPIRES} ?e }} }}" for graph, token in due.items())
        try:
            r = http.post(self.store.update_url, data=text.encode(), timeout=self.ttl,
                          headers={"Content-Type": "application/sparql-update"})
        except requests.RequestException as e:
            raise StoreUnavailable(f"the SPARQL server did not answer: {e}") from e
        _check(r, QueryError)
        with self._mutex:
            for graph, token in due.items():
                if self.tokens.get(graph, [None])[0] == token:
                    self.tokens[graph][1] = now

    def _drop(self, graph: str, token: str) -> None:
        self._drop_tokens(graph, [token])

    def _drop_tokens(self, graph: str, tokens: list[str]) -> None:
        """Remove tokens from a lock graph, each with its fence, in one update."""
        self._update(" ;\n".join(f"DROP SILENT GRAPH {t} ;\nDELETE WHERE {{ GRAPH {graph} {{ {t} ?p ?o }} }}"
                                 for t in tokens))

    def _update(self, text: str) -> None:
        self.store._post(self.store.update_url, text, "application/sparql-update")


_WROTE = NamedNode("https://w3id.org/dfc-order-hub/ns#wrote")


def _fence_failed(e: QueryError, tokens: list[str]) -> bool:
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


def _maybe_sent(e: requests.RequestException) -> bool:
    """Whether a request that failed may have reached the server (only a failed connect did not)."""
    if isinstance(e, requests.ConnectTimeout):
        return False
    reason = getattr(e.args[0], "reason", None) if e.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


def _key_graph(key: str) -> str:
    """The graph holding a named lock's tokens (a digest: keys are IRIs of any spelling)."""
    return f"<urn:x-dfc-hub:write-lock:{hashlib.sha256(key.encode()).hexdigest()[:32]}>"


def _stamp(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return f'"{moment}"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
def _check(r: requests.Response, refused: type) -> None:
    """Raise for an error status: 503 for a server that cannot answer, `refused` for the rest."""
    if r.status_code in _UNAVAILABLE:
        raise StoreUnavailable(f"the SPARQL server answered {r.status_code}: {r.text[:500]}")
    if r.status_code >= 400:
        # Oxigraph answers 400 to bad syntax and 500 to an operation that failed.
        raise refused(f"the SPARQL server answered {r.status_code}: {r.text[:500]}")


def _lock_exclusive(path: str):
    f = open(path, "a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX)
    except BaseException:
        f.close()
        raise
    return f


def _as_insert_body(nquads: str) -> str:
    """Turn N-Quads into the body of INSERT DATA (GRAPH blocks per quad)."""
    out = []
    for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        t = " ".join(map(to_sparql, q.triple)) + " ."
        out.append(t if isinstance(q.graph_name, ox.DefaultGraph) else f"GRAPH {q.graph_name} {{ {t} }}")
    return "\n".join(out) + "\n"
