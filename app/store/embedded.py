"""Oxigraph embedded in the process: on disk (`oxigraph:PATH`) or in memory (`memory:`)."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import pyoxigraph as ox
from pyoxigraph import NamedNode, Quad, Triple

from app.errors import InvalidQuery, QueryError, StoreUnavailable
from app.queries import bind
from app.store.base import N_TRIPLES, Bindings, Store
from app.store.locks import KeyLocks, SharedLock
from app.store.recent import Recent
from app.store.results import json_rows
from app.store.snapshots import SnapshotReader, Snapshots

_RESULTS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
            "application/sparql-results+xml": ox.QueryResultsFormat.XML,
            "text/csv": ox.QueryResultsFormat.CSV, "text/tab-separated-values": ox.QueryResultsFormat.TSV}


class EmbeddedStore(Store):
    """pyoxigraph.Store with every write behind one process-wide commit lock.

    On-disk Oxigraph does not isolate concurrent writers (DESIGN.md: concurrent conditional
    updates oversold every time); serialising writes in the only process that may open the
    directory makes every update exact, and a unit of work's named locks (app/store/locks.py),
    held from its first read to its commit, make its read-check-write exact.
    """

    def __init__(self, path: str | None = None):
        with _translated():
            self._store = ox.Store(path) if path else ox.Store()
        self._lock = threading.RLock()      # the commit lock: held for the instant of each commit
        self._keys = KeyLocks()             # named locks: this process is the store's only writer
        # Writes go ahead side by side (named locks keep them to different documents); a
        # snapshot waits for them all, and they for it.
        self._writes = SharedLock()
        self._snapshots = Snapshots(self, self._writes, path)
        self._recent = Recent()             # documents remembered between reads, exact or absent

    def select(self, query: str, bindings: Bindings = None) -> list[dict]:
        text = bind(query, bindings)
        with _translated():
            # All rows in one native call, read back here: iterated, pyoxigraph lets go of the
            # GIL for each row and the thread waits to take it back from the others. Measured
            # (bench/checkout.py --quick, alternating): 4.6-5.0 ms of server CPU a checkout
            # iterated, 4.5 in one call; in-process 4.7-4.9 against 4.0-4.2 ms.
            results = self._store.query(text).serialize(format=ox.QueryResultsFormat.JSON)
        return json_rows(results)

    def ask(self, query: str, bindings: Bindings = None) -> bool:
        text = bind(query, bindings)
        with _translated():
            return bool(self._store.query(text))

    def construct(self, query: str, bindings: Bindings = None) -> list[Triple]:
        text = bind(query, bindings)
        with _translated():
            return list(self._store.query(text))

    def query_to(self, query, default_graph, named_graphs, media_type: str, out: BinaryIO,
                  timeout: float | None = None) -> None:
        # The query runs in the caller's thread and cannot be interrupted: a client's query,
        # which may run for ever, goes through `reader()` instead.
        try:
            result = self._store.query(query, default_graph=list(default_graph),
                                       named_graphs=list(named_graphs))
            try:
                if isinstance(result, ox.QueryTriples) != (media_type == N_TRIPLES):
                    raise InvalidQuery(f"this query's results cannot be written as {media_type}")
                result.serialize(out, format=ox.RdfFormat.N_TRIPLES if media_type == N_TRIPLES
                                 else _RESULTS[media_type])
            finally:
                # pyoxigraph's results belong to this thread: an exception carried to another
                # thread must not keep them alive in its traceback.
                del result
        except SyntaxError as e:
            raise InvalidQuery(f"the query is not valid SPARQL: {e}") from e
        except (RuntimeError, ValueError) as e:
            raise InvalidQuery(f"the query failed: {e}") from e
        except OSError as e:
            raise StoreUnavailable(f"the embedded store failed: {e}") from e

    def _update(self, update: str) -> None:
        if update:
            with self._recent.writing(), self._writes.shared(), _translated():
                self._store.update(update)

    def _commit(self, tx, bulk: bool) -> None:
        # What the unit of work wrote is remembered as written where that is exact (recent.py).
        with self._recent.writing(lambda before: self._recent.settle(tx, before),
                                  catalogue=not tx.catalogue_unchanged):
            super()._commit(tx, bulk)

    def read_mark(self):
        return self._recent.mark()

    @property
    def generation(self) -> int:
        """Moved as each write starts and again once it has landed (this process is the store's
        only writer). Moved only at the start, a reader that saw the new generation but read the
        store before the write landed would keep the old data as current (app/catalog/links.py
        LinkCache once did). The document memory keeps the count, for the same reason."""
        return self._recent.epoch

    @property
    def catalogue_generation(self) -> int:
        """The same, moved only by the writes that may change the catalogue."""
        return self._recent.catalogue_epoch

    def replace_graphs(self, graphs, remove=(), current=None) -> None:
        """Replace graphs in one transaction; new graphs take the native path, five times faster."""
        with self._lock:
            if remove or any((current or {}).get(g) or self.has_graph(g) for g in graphs):
                super().replace_graphs(graphs, remove, current)
                return
            # Nothing to drop: one `extend` is one transaction, and no SPARQL text is built.
            with self._recent.writing(), self._writes.shared(), _translated():
                self._store.extend(Quad(t.subject, t.predicate, t.object, g)
                                   for g, triples in graphs.items() for t in triples)

    def graph(self, name: NamedNode) -> list[Triple]:
        found = self._recent.get(name)
        if found is not None:
            return found
        mark = self._recent.mark()
        triples = [q.triple for q in self._store.quads_for_pattern(None, None, None, name)]
        self._recent.fill(name, triples, mark)
        return triples

    def graphs(self, names) -> list[Triple]:
        # Pattern lookups are native calls here: cheaper than building and parsing a query.
        return [t for name in names for t in self.graph(name)]

    def documents(self, names) -> dict:
        return {name: self.graph(name) for name in dict.fromkeys(names)}

    def has_graph(self, name: NamedNode) -> bool:
        return next(iter(self._store.quads_for_pattern(None, None, None, name)), None) is not None

    def add_quads(self, quads: Iterable[Quad]) -> None:
        with self._recent.writing(), self._writes.shared(), _translated():
            self._store.extend(quads)

    def bulk_load(self, quads: Iterable[Quad]) -> None:
        # RocksDB's bulk path writes files directly: three times `extend`'s speed, but not one
        # transaction, so only loaders of new data (`dfc-hub load`) use it.
        with self._lock, self._recent.writing(), self._writes.shared(), _translated():
            self._store.bulk_extend(quads)

    @contextlib.contextmanager
    def reader(self, max_bytes: int) -> Iterator[SnapshotReader]:
        """A snapshot as of now, read in a child process: `cancel()` kills it, stopping its query."""
        with self._snapshots.reader(max_bytes) as reader:
            yield reader

    def forget_stale_copies(self) -> None:
        """Drop the analysts' snapshot if a write made it stale (at once, or when its last query ends)."""
        self._snapshots.drop_stale()

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        with self._lock:
            yield

    def close(self) -> None:
        # Dropping the last reference releases the RocksDB lock, so the directory can be
        # opened again (by this process or another); closing twice is harmless.
        self._snapshots.close()
        self._recent.clear()
        with self._lock:
            store = self.__dict__.pop("_store", None)
            if store is not None:
                with _translated():
                    store.flush()
            del store

    @property
    def raw(self) -> ox.Store:
        """The pyoxigraph store itself, for benchmarks and the bulk loader."""
        return self._store


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Map pyoxigraph's exceptions to the hub's (the one place that knows them)."""
    try:
        yield
    except (SyntaxError, RuntimeError, ValueError) as e:
        raise QueryError(f"the store refused the query: {e}") from e
    except OSError as e:
        raise StoreUnavailable(f"the embedded store failed: {e}") from e
