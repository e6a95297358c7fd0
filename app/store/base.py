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
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO

from pyoxigraph import BlankNode, NamedNode, Quad, Triple

from app.queries import bind, to_sparql
from app.store.transaction import Transaction

Bindings = Mapping[str, object] | None
# What `query_to` writes: SPARQL results formats, and N-Triples for graph results.
RESULT_FORMATS = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                  "text/tab-separated-values")
N_TRIPLES = "application/n-triples"


class Store(abc.ABC):
    """A quad store holding one named graph per resource document."""

    # A number every write changes, where this process is the store's only writer (embedded
    # Oxigraph); None where other processes write too, so nothing read may be remembered.
    generation: int | None = None

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

    @abc.abstractmethod
    def graph(self, name: NamedNode) -> list[Triple]:
        """Return the triples of one named graph (empty if there is none)."""

    def graphs(self, names: Iterable[NamedNode]) -> list[Triple]:
        """Return the triples of several named graphs, in one request."""
        query = graphs_query(names)
        return self.construct(query) if query else []

    def documents(self, names: Iterable[NamedNode]) -> dict[NamedNode, list[Triple]]:
        """Return several named graphs' triples, graph by graph, in one request."""
        names = list(dict.fromkeys(names))
        out: dict[NamedNode, list[Triple]] = {name: [] for name in names}
        query = documents_query(names)
        for row in self.select(query) if query else []:
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
        """Serialise a read-check-write sequence against every other writer of this store."""
        yield

    @contextlib.contextmanager
    def transaction(self, bulk: bool = False) -> Iterator[Transaction]:
        """The unit of work every change goes through (app/store/transaction.py).

        Holds the write lock throughout; when the block ends without an exception, writes what
        the transaction changed in one atomic update (nothing when the block raises). `bulk`
        lets new documents take the backend's bulk path (loading files: not one transaction).
        """
        with self.write_lock():
            tx = Transaction(self)
            yield tx
            if tx.changed:
                before = self.generation
                self._commit(tx, bulk)
                # Read under the lock: what this very commit moved the generation from and to.
                tx.generations = (before, self.generation)

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

    def cancel(self) -> None:
        """Nothing to stop here."""


def graphs_query(names: Iterable[NamedNode]) -> str:
    """Build the CONSTRUCT of several graphs' triples (names serialised by pyoxigraph)."""
    values = " ".join(map(to_sparql, names))
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}" \
        if values else ""


def documents_query(names: Iterable[NamedNode]) -> str:
    """Build the SELECT of several graphs' triples with their graph (names serialised by pyoxigraph)."""
    values = " ".join(map(to_sparql, names))
    return f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}" if values else ""


def replace_graphs_update(graphs: Mapping[NamedNode, Iterable[Triple]],
                          remove: Iterable[NamedNode] = (), current: Mapping | None = None) -> str:
    """Build the single update that drops and refills graphs (terms serialised by pyoxigraph).

    A graph whose current triples are known is changed by its difference instead. DELETE DATA
    cannot name a blank node, and INSERT DATA would make a new one where the graph meant the one
    it has: a statement about a blank node the graph holds is changed in place, the node found
    through the one statement that points at it (`<line> dfc-b:hasQuantity ?blank0`). A graph
    whose blank nodes cannot be found so (nested, shared, or pointed at twice) is replaced whole.
    """
    current = current or {}
    drops, deletes, inserts, in_place = [], {}, {}, []
    for g, triples in graphs.items():
        triples = list(triples)
        old = current.get(g)
        if old is not None:
            had = set(old)
            gone = had - set(triples)
            added = [t for t in dict.fromkeys(triples) if t not in had]
            if not any(_has_blank(t) for t in (*gone, *added)):
                deletes[g], inserts[g] = gone, added
                continue
            found = _blank_difference(g, old, gone, added)
            if found is not None:
                in_place += found[0]
                deletes[g], inserts[g] = found[1], found[2]
                continue
        drops.append(g)
        inserts[g] = triples
    ops = [f"DROP SILENT GRAPH {g}" for g in [*drops, *remove]] + in_place
    for keyword, blocks in (("DELETE DATA", deletes), ("INSERT DATA", inserts)):
        body = []
        for g, triples in blocks.items():
            lines = " .\n".join(" ".join(map(to_sparql, t)) for t in triples)
            if lines:
                body.append(f"GRAPH {g} {{\n{lines} .\n}}")
        if body:
            ops.append(keyword + " {\n" + "\n".join(body) + "\n}")
    return " ;\n".join(ops) if ops else ""


def _blank_difference(g: NamedNode, old: list[Triple], gone, added):
    """(in-place updates, statements left to delete, to insert) of a difference naming blank
    nodes; None when a blank node the graph holds has no single statement pointing at it."""
    held = {n for t in old for n in (t.subject, t.object) if isinstance(n, BlankNode)}
    pointing, per_anchor = defaultdict(list), Counter()
    for t in old:
        if isinstance(t.object, BlankNode):
            pointing[t.object].append(t)
            per_anchor[(t.subject, t.predicate)] += 1
    anchors = {b: ts[0] for b, ts in pointing.items() if len(ts) == 1 and isinstance(ts[0].subject, NamedNode)
               and per_anchor[(ts[0].subject, ts[0].predicate)] == 1}
    by_node: dict = defaultdict(lambda: ([], []))
    rest: tuple[list, list] = ([], [])
    for side, triples in enumerate((gone, added)):
        for t in triples:
            known = {n for n in (t.subject, t.object) if isinstance(n, BlankNode) and n in held}
            fresh = {n for n in (t.subject, t.object) if isinstance(n, BlankNode) and n not in held}
            if len(known) > 1 or (known and fresh) or (known and not known <= anchors.keys()):
                return None
            (by_node[known.pop()] if known else rest)[side].append(t)
    ops = []
    for i, (node, (dels, adds)) in enumerate(by_node.items()):
        var, anchor = f"?blank{i}", anchors[node]

        def block(ts):
            return " .\n".join(" ".join(var if n == node else to_sparql(n) for n in t) for t in ts) + " ."
        clauses = [f"DELETE {{ GRAPH {g} {{\n{block(dels)}\n}} }}"] if dels else []
        clauses += [f"INSERT {{ GRAPH {g} {{\n{block(adds)}\n}} }}"] if adds else []
        clauses.append(f"WHERE {{ GRAPH {g} {{ {to_sparql(anchor.subject)} {to_sparql(anchor.predicate)} {var} }} }}")
        ops.append("\n".join(clauses))
    return ops, rest[0], rest[1]


def _has_blank(t: Triple) -> bool:
    return isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode)
