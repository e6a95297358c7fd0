"""The SPARQL a store builds itself: reading several documents at once, and the one update that
rewrites documents by their difference (terms serialised by pyoxigraph, never pasted)."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from pyoxigraph import BlankNode, NamedNode, Triple

from app.queries import to_sparql


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
                          remove: Iterable[NamedNode] = (), current: Mapping | None = None,
                          replaced: set | None = None) -> str:
    """Build the single update that drops and refills graphs (terms serialised by pyoxigraph).

    A graph whose current triples are known is changed by its difference instead. DELETE DATA
    cannot name a blank node, and INSERT DATA would make a new one where the graph meant the one
    it has: a statement about a blank node the graph holds is changed in place, the node found
    through the one statement that points at it (`<line> dfc-b:hasQuantity ?blank0`). A graph
    whose blank nodes cannot be found so (nested, shared, or pointed at twice) is replaced whole
    (and added to `replaced`, if given: the store names its blank nodes anew).
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
        if replaced is not None:
            replaced.add(g)
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
