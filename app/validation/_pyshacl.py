"""Every use of pyshacl, in one place: the only module that imports it (a test keeps it so).

pyshacl's public surface (`validate`, `Validator`) re-reads the shapes graph and searches the
targets on every call. We compile the shapes once and call what it runs underneath:
`ShapesGraph`, its harvested shapes, `Shape.validate(executor, data, focus=…)`, and the
constraint-parameter cache `pyshacl.shape.module.CONSTRAINT_PARAMS`. None of these is promised
across releases, so pyproject.toml pins pyshacl to the versions this module was tested with.

    engine = Engine(shapes_graph, facts)          # once per process
    found = engine.run(to_rdflib(triples))        # [(Result, raw)], raw only for report_graph
    report_graph(conforms, [raw for _, raw in found])
"""
from __future__ import annotations

import threading

import pyoxigraph as ox
import pyshacl.shape
import rdflib
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.pytypes import SHACLExecutor
from pyshacl.shapes_graph import ShapesGraph

from app.namespaces import RDF, SH, XSD
from app.rdf.checks import LEXICAL
from app.errors import Result

_SEVERITIES = {SH + "Violation": "Violation", SH + "Warning": "Warning", SH + "Info": "Info"}
_XSD_STRING = XSD + "string"
_RDF_TYPE = rdflib.RDF.type
_OTHER_TARGETS = ("targetNode", "targetSubjectsOf", "targetObjectsOf", "target")
_SH_FOCUS = rdflib.URIRef(SH + "focusNode")
_SH_PATH = rdflib.URIRef(SH + "resultPath")
_SH_VALUE = rdflib.URIRef(SH + "value")
_SH_SEVERITY = rdflib.URIRef(SH + "resultSeverity")
_SH_SOURCE_SHAPE = rdflib.URIRef(SH + "sourceShape")
_SH_MESSAGE = rdflib.URIRef(SH + "resultMessage")


class Engine:
    """The shapes compiled by pyshacl once; `run` validates a data graph; safe to share between threads."""

    def __init__(self, shapes: rdflib.Graph, facts):
        _speed_up_pyshacl()
        # pyshacl reads the shapes graph on every run; SimpleMemory answers those reads faster.
        graph = _Graph(store="SimpleMemory")
        for triple in shapes:
            graph.add(triple)
        for prefix, namespace in shapes.namespaces():
            graph.bind(prefix, namespace)
        self._shapes_graph = ShapesGraph(graph)
        # Harvest every shape now: the lazy harvest inside pyshacl is not thread-safe.
        self._targeted = _targeted_shapes(list(self._shapes_graph.shapes), graph)
        self._executor = SHACLExecutor()
        self._facts = facts
        # pyshacl builds constraint objects from the shared shapes graph on every run and keeps
        # per-shape state; it makes no promise of re-entrancy. Validation is pure Python and holds
        # the GIL anyway, so one lock costs no throughput and rules out interleaving.
        self._lock = threading.Lock()

    def run(self, data: rdflib.Graph) -> list[tuple[Result, dict]]:
        """Validate `data`; return each result with pyshacl's own parts of it (for `report_graph`)."""
        raw = []
        with self._lock:
            instances: dict = {}
            for shape, classes in self._targeted:
                focus = set()
                for cls in classes:
                    if cls not in instances:
                        instances[cls] = set(data.subjects(_RDF_TYPE, cls))
                    focus |= instances[cls]
                if not focus:
                    continue  # most shapes have nothing to check: an order holds no products
                # Passing the focus nodes skips pyshacl's own target search, which would run
                # once per shape and also walk rdfs:subClassOf in the payload.
                _conforms, reports = shape.validate(self._executor, data, focus=list(focus))
                raw.extend(parts for _text, _node, parts in reports)
        return [self._result(triples) for triples in raw]

    def _result(self, triples) -> tuple[Result, dict]:
        parts = {}
        for _s, p, o in triples:
            if p == _SH_MESSAGE:
                parts.setdefault(p, (None, o))
            elif isinstance(o, tuple):
                parts[p] = o
            elif p == _SH_SEVERITY:
                parts[p] = (None, o)
        facts = self._facts.get(str(parts[_SH_SOURCE_SHAPE][1]))
        if facts is not None and facts.message is not None:
            # Our own sh:message rather than one from a nested shape.
            parts[_SH_MESSAGE] = (None, rdflib.Literal(facts.message))

        def get(p):
            return parts[p][1] if p in parts else None

        path, message, shape = get(_SH_PATH), get(_SH_MESSAGE), _text(get(_SH_SOURCE_SHAPE))
        written = self._facts.get(shape)
        severity = str(get(_SH_SEVERITY))
        return Result(
            severity=_SEVERITIES.get(severity, severity), focus=_text(get(_SH_FOCUS)),
            path=((written.path_text if written else None) or _text(path)) if path is not None else None,
            value=_text(get(_SH_VALUE)), message=str(message) if message is not None else "",
            shape=shape), parts


def _targeted_shapes(shapes, graph: rdflib.Graph) -> list:
    """Pair each top-level shape with its sh:targetClass classes; refuse other target kinds."""
    targeted = []
    for shape in shapes:
        if any((shape.node, rdflib.URIRef(SH + kind), None) in graph for kind in _OTHER_TARGETS):
            raise ValueError(f"shape {shape.node} uses a target other than sh:targetClass")
        classes = list(shape.target_classes())
        if classes:
            targeted.append((shape, classes))
    return targeted


class _ParameterList(list):
    """pyshacl's list of constraint parameters with a hashed membership test.

    For every shape on every run pyshacl tests each predicate of the shape with
    `p in CONSTRAINT_PARAMETERS`, a linear scan of ~30 rdflib terms: a third of the time of a
    10-line order. pyshacl caches that list as `pyshacl.shape.CONSTRAINT_PARAMS`; we seed the
    cache with this list, which behaves identically (same items, same order, `.copy()` is a
    plain list) but answers `in` from a set.
    """

    def __init__(self, items):
        super().__init__(items)
        self._set = frozenset(items)

    def __contains__(self, item) -> bool:
        return item in self._set


def _speed_up_pyshacl() -> None:
    params = getattr(pyshacl.shape.module, "CONSTRAINT_PARAMS", None)
    if params is None or not isinstance(params[0], _ParameterList):
        pyshacl.shape.module.CONSTRAINT_PARAMS = (
            _ParameterList(ALL_CONSTRAINT_PARAMETERS),
            CONSTRAINT_PARAMETERS_MAP,
        )


class _Graph(rdflib.Graph):
    """An rdflib Graph that is always truthy.

    pyshacl writes `datagraph or shapes_graph` when it describes a result, and truth-testing a
    Graph counts its triples (a full scan in SimpleMemory) once per result.
    """

    def __bool__(self) -> bool:
        return True


def to_rdflib(triples) -> rdflib.Graph:
    """Copy pyoxigraph triples into a fresh in-memory rdflib Graph, as pyshacl reads it fastest."""
    # SimpleMemory has no named-graph bookkeeping: adding to and querying it is several times
    # faster than rdflib's default Memory store, and validation needs no named graphs.
    # No prefixes: pyshacl's result descriptions would otherwise bind rdflib's ~30 defaults.
    graph = _Graph(store="SimpleMemory", bind_namespaces="none")
    add = graph.store.add
    terms: dict = {}
    for t in triples:
        converted = []
        for term in (t.subject, t.predicate, t.object):
            if term not in terms:
                terms[term] = _term(term)
            converted.append(terms[term])
        add(tuple(converted), graph)
    return graph


def _term(t):
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if isinstance(t, ox.Literal):
        return _literal(t)
    raise TypeError(f"cannot validate an RDF term of type {type(t).__name__}")


def _literal(t: ox.Literal) -> rdflib.Literal:
    if t.language:
        return rdflib.Literal(t.value, lang=t.language)
    datatype = t.datatype.value
    if datatype == _XSD_STRING:
        return rdflib.Literal(t.value)
    lexical = LEXICAL.get(datatype)
    if lexical is not None and not lexical.fullmatch(t.value):
        # An ill-typed literal ("lots"^^xsd:decimal): rdflib would log a traceback or warn while
        # converting it. As a plain string it still fails sh:datatype with the same lexical value.
        return rdflib.Literal(t.value)
    return rdflib.Literal(t.value, datatype=rdflib.URIRef(datatype), normalize=False)


def _text(node) -> str | None:
    if node is None:
        return None
    if isinstance(node, rdflib.BNode):
        return "_:" + str(node)
    return str(node)


def report_graph(conforms: bool, raw: list) -> list[ox.Triple]:
    """Write results as sh:ValidationReport triples (pyoxigraph terms), as pyshacl described them."""
    report = ox.BlankNode()
    out = [
        ox.Triple(report, ox.NamedNode(RDF + "type"), ox.NamedNode(SH + "ValidationReport")),
        ox.Triple(report, ox.NamedNode(SH + "conforms"), ox.Literal(conforms)),
    ]
    bnodes: dict = {}
    for parts in raw:
        result = ox.BlankNode()
        out.append(ox.Triple(report, ox.NamedNode(SH + "result"), result))
        out.append(ox.Triple(result, ox.NamedNode(RDF + "type"), ox.NamedNode(SH + "ValidationResult")))
        for predicate, (graph, node) in parts.items():
            out.append(ox.Triple(result, ox.NamedNode(str(predicate)), _to_ox(node, bnodes)))
            if predicate == _SH_PATH and isinstance(node, rdflib.BNode):
                out.extend(_copy_bnode_tree(graph, node, bnodes))
    return out


def _to_ox(node, bnodes: dict):
    if isinstance(node, rdflib.URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, rdflib.BNode):
        if node not in bnodes:
            bnodes[node] = ox.BlankNode(str(node))
        return bnodes[node]
    if node.language:
        return ox.Literal(str(node), language=node.language)
    datatype = ox.NamedNode(str(node.datatype)) if node.datatype else None
    return ox.Literal(str(node), datatype=datatype)


def _copy_bnode_tree(graph, node, bnodes: dict) -> list:
    """Copy a blank-node structure (a complex sh:resultPath) from the shapes graph."""
    out, todo, done = [], [node], set()
    while todo:
        current = todo.pop()
        if current in done:
            continue
        done.add(current)
        for p, o in graph.predicate_objects(current):
            out.append(ox.Triple(_to_ox(current, bnodes), ox.NamedNode(str(p)), _to_ox(o, bnodes)))
            if isinstance(o, rdflib.BNode):
                todo.append(o)
    return out
