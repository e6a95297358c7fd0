"""A remote SPARQL 1.1 server (query, update, Graph Store Protocol), laid out as Oxigraph's."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
import requests
from pyoxigraph import NamedNode, Quad, Triple

from app.errors import InvalidQuery, LockLost, OutcomeUnknown, QueryError, QueryTimeout, StoreUnavailable
from app.queries import bind, load, operation, to_sparql
from app.store.base import Bindings, Store
from app.store.locks import KeyLocks
from app.store.results import json_rows
from app.store.sparql_http import check, maybe_sent
from app.store.store_lock import DEFAULT_LOCK_TTL, StoreLock, fence_failed, key_graph

log = logging.getLogger(__name__)

_NT = "application/n-triples"
_JSON = "application/sparql-results+json"
# What `oxigraph serve --timeout-s` appends to a 200 answer it has cut short; no complete
# result in any format ends with it.
_CANCELLED = b"The SPARQL operation has been cancelled"
# Seconds waited for the store's answer to one request (DFC_HUB_STORE_TIMEOUT_SECONDS).
DEFAULT_TIMEOUT = 30.0


class RemoteStore(Store):
    """Talks SPARQL 1.1 Protocol over HTTP; one requests.Session per thread.

    Oxigraph's server runs each update request atomically but does not isolate concurrent
    writers, so a unit of work holds its named locks (app/store/locks.py) from its first read
    to its commit, each shared by every app process of the store wherever it runs: a lock
    document per key kept in the store itself (see app/store/store_lock.py). Its commit holds the short
    commit lock too (`write_lock`), kept alike; a lock file per machine queues this machine's
    processes first for it, so that it is contended by one process per host at most.
    """

    def __init__(self, query_url: str, update_url: str, store_url: str | None, timeout: float = DEFAULT_TIMEOUT,
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
        self._store_lock = StoreLock(self, lock_ttl)
        # Named locks (a producer, a document): one lock document each, across processes.
        self._keys = KeyLocks(lambda key: self._store_lock.acquire(key_graph(key)),
                              lambda key: self._store_lock.release(key_graph(key)))

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
        check(r, QueryError)
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
                check(r, InvalidQuery)
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
        whole update, if that lock's token was taken from it (`StoreLock.fence`): a holder
        too slow to renew its lock, whose lock another process took over, writes nothing (LockLost).

        The commit also names itself beside the token of a lock it holds, in the same atomic
        update (app/queries/commit_marker.ru). When its answer never comes (or a gateway in front
        of the store answers for it, having perhaps passed the update on), its fences are
        dropped first, so that an update still queued at the server fails when it runs; then the
        marker, read back, says whether it was written. If not, it could still land only if the
        server was running it at that moment: the unit of work's locks are left to expire rather
        than dropped, and the caller learns that the outcome is unknown (OutcomeUnknown, 503).

        A bulk load of new documents (`dfc-hub load`, the demo) is no transaction (Store.transaction)
        and takes the Graph Store Protocol's N-Quads path, unfenced: a fence would put it on
        Oxigraph's slower path for updates (`StoreLock.fence`).
        """
        if bulk and tx.only_new and self.store_url:
            self.add_quads(tx.quads())
            return
        text = tx.update_text()         # new documents too
        if not text:                    # documents put back as they were: nothing to write
            return
        graphs = self._lock_graphs(tx.keys)
        fence, held = self._store_lock.fence(graphs)
        marker = self._store_lock.marker(key_graph(min(tx.keys))) if tx.keys else None
        if marker is not None:
            text += " ;\n" + bind(operation("commit_marker"), marker)
        try:
            self._update(text + (" ;\n" + fence if fence else ""))
        except QueryError as e:
            if fence_failed(e, [t for _, t in held]):
                raise LockLost("nothing was written: this server's hold on the documents' lock lapsed "
                               "(the store answered it too slowly) and another writer took it over; "
                               "send the request again") from e
            raise
        except StoreUnavailable as e:
            if not maybe_sent(e):
                raise       # the store answered (an error status), or the request never left
            self._store_lock.unfence(held)
            if marker is not None and self._landed(marker):
                log.warning("a commit's answer never came, but it was written: %s", e)
                self._store_lock.refence(held)
                return
            for graph in graphs:        # left to expire, no longer renewed
                self._store_lock.abandon(graph)
            raise OutcomeUnknown(
                "the store did not answer whether the change was written: it may have been, now or a "
                "little later. Read the resource (GET) to see which before sending the change again; "
                "a retry with the same Idempotency-Key is answered as the first request was if that "
                f"one was written ({e})") from e

    def _lock_graphs(self, keys) -> list[str]:
        """The lock graphs a unit of work over `keys` holds: its named locks', and the commit
        lock's where this thread holds it."""
        graphs = [key_graph(key) for key in sorted(keys)]
        if self._lock_owner == threading.get_ident():
            graphs.append(StoreLock.GRAPH)
        return graphs

    def _landed(self, marker: dict[str, NamedNode]) -> bool:
        try:
            return self.ask(load("commit_landed"), marker)
        except StoreUnavailable:
            return False

    def close(self) -> None:
        self._store_lock.close()
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()


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
