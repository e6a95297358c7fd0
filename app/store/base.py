"""The one store interface, grouped by result shape; every backend implements it.

Terms are pyoxigraph's (NamedNode, BlankNode, Literal, Triple, Quad) everywhere, whatever
the backend, so the layers above never see a backend's own types. Errors too are the hub's:
a query or update the store refuses raises `app.errors.QueryError`, a store that cannot answer raises
`app.errors.StoreUnavailable`; a backend's own exceptions never escape.

Every backend runs the same text: bindings are substituted by `app.queries.bind` (never by a
backend's own mechanism), so a query that passes in memory passes against a remote server.
"""
from __future__ import annotations

import abc
import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO

from pyoxigraph import NamedNode, Quad, Triple

from app.errors import LockLost, OutcomeUnknown
from app.queries import bind
from app.store.locks import STORE_KEY, KeyLocks, MoreLocks, normalised
from app.store.transaction import Transaction, Undone
from app.store.updates import documents_query, graphs_query, replace_graphs_update

log = logging.getLogger(__name__)

Bindings = Mapping[str, object] | None
# Documents a unit of work with events writes from which it is written in two steps, its events
# numbered apart (`_commit_staged`): a write that size holds the shared commit lock too long.
STAGED_FROM = 64
# What `query_to` writes: SPARQL results formats, and N-Triples for graph results.
RESULT_FORMATS = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                  "text/tab-separated-values")
N_TRIPLES = "application/n-triples"


# Documents one read asks for at once: a board of 5,000 orders in one query would be as long as
# all their names, one request each 5,000 round trips to a remote store.
READ_AT_ONCE = 500
LOCK_LOST_TRIES = 5     # a lock lapsing under the same unit of work again and again: the store is too slow


class Store(abc.ABC):
    """A quad store holding one named graph per resource document."""

    # A number every write changes, where this process is the store's only writer (embedded
    # Oxigraph); None where other processes write too, so nothing read may be remembered.
    generation: int | None = None
    # The same, moved only by the writes that may change the catalogue: not by a unit of work
    # that declared it changes none (`Transaction.leaves_catalogue`).
    catalogue_generation: int | None = None

    @abc.abstractmethod
    def select(self, query: str, bindings: Bindings = None) -> list[dict]:
        """Run a SELECT; return one dict per solution, variable name → term (unbound ones absent)."""

    @abc.abstractmethod
    def ask(self, query: str, bindings: Bindings = None) -> bool:
        """Run an ASK."""

    @abc.abstractmethod
    def construct(self, query: str, bindings: Bindings = None) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE."""

    @abc.abstractmethod
    def query_to(self, query: str, default_graph: Sequence[NamedNode], named_graphs: Sequence[NamedNode],
                 media_type: str, out: BinaryIO, timeout: float | None = None) -> None:
        """Run a client's query over exactly this dataset, writing its results to `out`.

        The default graph is the union of `default_graph` and `GRAPH` sees only `named_graphs`,
        whatever FROM / FROM NAMED the query says (both lists replace the query's own dataset;
        pass non-empty lists: an empty one means "unrestricted" to the SPARQL protocol).
        `media_type` is a SPARQL results format for SELECT and ASK (`RESULT_FORMATS`), N-Triples
        for CONSTRUCT and DESCRIBE. A query the store cannot parse or evaluate raises InvalidQuery;
        an exception `out.write` raises stops the query and propagates.
        """

    @abc.abstractmethod
    def _update(self, update: str) -> None:
        """Run a SPARQL update whose values are already bound."""

    def read_mark(self):
        """Now, for a backend that remembers documents (embedded: app/store/recent.py); None here."""
        return None

    @abc.abstractmethod
    def graph(self, name: NamedNode) -> list[Triple]:
        """Return the triples of one named graph (empty if there is none)."""

    def graphs(self, names: Iterable[NamedNode]) -> list[Triple]:
        """Return the triples of several named graphs, a request per READ_AT_ONCE of them."""
        names = list(names)
        return [t for start in range(0, len(names), READ_AT_ONCE)
                for t in self.construct(graphs_query(names[start:start + READ_AT_ONCE]))]

    def documents(self, names: Iterable[NamedNode]) -> dict[NamedNode, list[Triple]]:
        """Return several named graphs' triples, graph by graph, a request per READ_AT_ONCE of them."""
        names = list(dict.fromkeys(names))
        out: dict[NamedNode, list[Triple]] = {name: [] for name in names}
        for start in range(0, len(names), READ_AT_ONCE):
            for row in self.select(documents_query(names[start:start + READ_AT_ONCE])):
                out[row["g"]].append(Triple(row["s"], row["p"], row["o"]))
        return out

    @abc.abstractmethod
    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads in one transaction (bulk loading; nothing is replaced)."""

    def bulk_load(self, quads: Iterable[Quad]) -> None:
        """Add many quads as fast as the backend can (loading new data; not for API writes)."""
        self.add_quads(quads)

    def update(self, update: str, bindings: Bindings = None) -> None:
        """Run a SPARQL update, all or nothing."""
        self._update(bind(update, bindings))

    def replace_graphs(self, graphs: Mapping[NamedNode, Iterable[Triple]],
                       remove: Iterable[NamedNode] = (), current: Mapping | None = None) -> None:
        """Replace each named graph by its triples and drop `remove`, all in one transaction.

        `current` may give what some graphs hold now (read under the write lock): those are
        changed by their difference only, which is much less to write.
        """
        self._update(replace_graphs_update(graphs, remove, current))

    def has_graph(self, name: NamedNode) -> bool:
        """Tell whether a named graph holds any triple."""
        return self.ask("ASK { GRAPH ?g { ?s ?p ?o } }", {"g": name})

    @contextlib.contextmanager
    def reader(self, max_bytes: int) -> Iterator["DirectReader"]:
        """A read side for a client's queries, which may run long: `select`, `query_to`, and
        `cancel()` to stop what it runs. Here the store itself, whose server bounds its queries."""
        yield DirectReader(self)

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """The commit lock: serialise the instant of writing (and numbering events) against every
        other writer of this store. Held briefly, never across a unit of work's reads."""
        yield

    def key_locks(self, keys: tuple[str, ...]) -> contextlib.AbstractContextManager:
        """Hold the named locks `keys` (sorted) against every other unit of work of this store."""
        # Each backend makes its own in __init__; one shared by processes extends them across them.
        if "_keys" not in self.__dict__:
            self._keys = KeyLocks()
        return self._keys.hold(keys)

    @contextlib.contextmanager
    def transaction(self, bulk: bool = False, keys=None) -> Iterator[Transaction]:
        """The unit of work every change goes through (app/store/transaction.py).

        Holds the named locks `keys` throughout (app/store/locks.py: the producers whose stock
        it changes, or the documents it writes; none named: the one lock every such unit of work
        shares). When the block ends without an exception, it takes the short commit lock, runs
        the commit hooks (events get their numbers) and writes what it changed in one atomic
        update (nothing when the block raises), then runs its after-commit callbacks outside
        every lock (`tx.after_commit`); a callback that fails raises OutcomeUnknown saying the
        change was written, unless it undid the change (`Undone`). `bulk` lets new documents
        take the backend's bulk path (loading files: not one transaction).
        """
        held = normalised(keys)
        with self.key_locks(held):
            tx = Transaction(self, held)
            yield tx
            self._write(tx, bulk, held)
        # After the locks: what follows a commit (a cache kept, partners told) never holds up writers.
        if tx.callbacks:
            done = tx.committed()
            try:
                for callback in tx.callbacks:
                    callback(done)
            except Undone as e:
                raise e.error from None
            except OutcomeUnknown:
                raise
            except Exception as e:
                # The change stands: any other answer (a 503 "nothing was written, send again", a
                # 404 for a partner deleted meanwhile) would have it made twice, and `attempts`
                # would run the unit of work again on a LockLost. What failed is logged, not
                # told: its own words may say "send again".
                log.warning("a change was written, but what was to follow it failed", exc_info=True)
                raise OutcomeUnknown(
                    "the change was written, but what was to follow it failed (the partner platforms "
                    "of a basket told of it, or the change undone when one refused it). Read the "
                    "resource (GET) to see where it stands before sending the change again") from e

    def attempts(self, keys, bulk: bool = False) -> Iterator[contextlib.AbstractContextManager]:
        """Units of work over `keys`, each over more keys than the last, until one is not refused
        for want of a lock (`tx.need` raises MoreLocks): `for attempt in store.attempts(keys):`
        `with attempt as tx: ...`. The keys are guessed before locking; the guess is checked under them.

        A commit refused because a lock lapsed meanwhile (LockLost: a remote store, nothing
        written) is also tried again, from its reads, up to LOCK_LOST_TRIES times in all."""
        wanted = set(normalised(keys)) - {STORE_KEY} if keys else set()
        lost = 0
        while True:
            done: list[bool] = []

            @contextlib.contextmanager
            def attempt() -> Iterator[Transaction]:
                nonlocal lost
                try:
                    with self.transaction(bulk, keys=sorted(wanted) or None) as tx:
                        yield tx
                    done.append(True)
                except MoreLocks as e:
                    wanted.update(e.keys)
                except LockLost:
                    lost += 1
                    if lost >= LOCK_LOST_TRIES:
                        raise
            yield attempt()
            if done:
                return

    def commit_part(self, tx: Transaction) -> None:
        """Write what the unit of work `tx` changed so far, with its events, and let it go on
        under the same named locks (`tx.go_on`): a large change in parts. Oxigraph makes every
        other write wait for one under way, in one process or across processes on one server: a
        checkout at another producer waited 0.5 s behind a close's one update of 1,000 orders
        (7.9 MB; bench/close_beside.py). What each part writes must stand on its own, as the
        store may be left after any of them. The after-commit callbacks wait for the end."""
        self._write(tx, False, tuple(sorted(tx.keys)), staged_from=0)
        tx.go_on()

    def _write(self, tx: Transaction, bulk: bool, held: tuple[str, ...], staged_from: int = STAGED_FROM) -> None:
        """Commit what `tx` changed, its commit hooks run under the commit lock; a large change
        (`staged_from` documents or more) in two steps (`_commit_staged`)."""
        if tx.hooks and len(tx.writes) + len(tx.drops) >= staged_from and all(s for _, s in tx.hooks):
            self._commit_staged(tx, bulk, held)
        elif tx.changed or tx.hooks:
            if not tx.only_new:
                tx.prepare()        # the documents' update built before the commit lock, not under it
            with self.write_lock():
                for hook, _ in tx.hooks:
                    hook(tx)
                if tx.changed:
                    self._commit(tx, bulk)

    def _commit_staged(self, tx: Transaction, bulk: bool, held: tuple[str, ...]) -> None:
        """A large unit of work (a close placing 1,000 orders) in two writes: its change, with its
        events staged, under its named locks only; then, under the commit lock, its events'
        numbers in a small update of their own. Writers of other producers wait for the second
        only. A crash between the two leaves staged events, numbered by `adopt_staged`."""
        for _, stage in tx.hooks:
            stage(tx)
        self._commit(tx, bulk)
        tail = Transaction(self, held)
        tail.catalogue_unchanged = tx.catalogue_unchanged
        with self.write_lock():
            for hook, _ in tx.hooks:
                hook(tail)
            if tail.changed:
                self._commit(tail, False)

    def _commit(self, tx: Transaction, bulk: bool) -> None:
        """Write what a transaction changed, all or nothing; only new documents take `add_quads`."""
        if tx.only_new:
            (self.bulk_load if bulk else self.add_quads)(tx.quads())
        else:
            self._update(tx.update_text())

    def forget_stale_copies(self) -> None:
        """Remove the copies of the store older than its last write (an erasure must not linger
        in them); here there are none: a remote server keeps no copy of ours."""

    def close(self) -> None:
        """Release what the backend holds open."""


class DirectReader:
    """Queries sent to the store itself; nothing of ours to stop (a remote server ends a query
    at its own `--timeout-s`, and the client stops waiting at its read timeout)."""

    def __init__(self, store: Store):
        self.select, self.query_to = store.select, store.query_to
        self.state = None       # the live store: nothing computed from it holds for the next query

    def cancel(self) -> None:
        """Nothing to stop here."""
