"""SHACL validation of incoming DFC data against our shapes (shapes/*.ttl, shipped as package data).

The shapes are parsed and compiled into a pyshacl `ShapesGraph` once per process; each call only
converts the payload's triples to rdflib and runs the compiled shapes over them (no inference, no
ontology graph: DESIGN.md measured 80 ms per call with the ontology mixed in).

The shapes are flat property shapes, each with its own sh:targetClass, and use no sh:or: pyshacl
re-evaluates a node shape's sh:property once per focus node and every sh:or branch for every
value, which made a 10-line order six times slower.

    validator = Validator()                 # or default_validator(), shared per process
    report = validator.validate(triples)    # pyoxigraph Triples, already namespace-normalised
    report.conforms, report.violations, report.warnings, report.as_graph()
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib.resources import files

import pyoxigraph as ox
import pyshacl.shape
import rdflib
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.pytypes import SHACLExecutor
from pyshacl.shapes_graph import ShapesGraph

from app.errors import ShapeViolation
from app.namespaces import RDF, SH, XSD
from app.rdf.checks import LEXICAL
from app.validation.prescreen import Prescreen

__all__ = ["Report", "Validator", "default_validator", "load_shapes_graph"]

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


class BySeverity:
    """The results of a report by severity (a report has a `results` list of dicts)."""

    results: list[dict]

    @property
    def violations(self) -> list[dict]:
        """Return the results of severity Violation."""
        return [r for r in self.results if r["severity"] == "Violation"]

    @property
    def warnings(self) -> list[dict]:
        """Return the results of severity Warning."""
        return [r for r in self.results if r["severity"] == "Warning"]


@dataclass
class Report(BySeverity):
    """The outcome of one validation: conforms when there is no Violation."""

    conforms: bool
    results: list[dict] = field(default_factory=list)
    _raw: list = field(default_factory=list, repr=False, compare=False)

    def as_graph(self) -> list[ox.Triple]:
        """Return the report as sh:ValidationReport triples (pyoxigraph terms)."""
        report = ox.BlankNode()
        out = [
            ox.Triple(report, ox.NamedNode(RDF + "type"), ox.NamedNode(SH + "ValidationReport")),
            ox.Triple(report, ox.NamedNode(SH + "conforms"), ox.Literal(self.conforms)),
        ]
        bnodes: dict = {}
        for parts in self._raw:
            result = ox.BlankNode()
            out.append(ox.Triple(report, ox.NamedNode(SH + "result"), result))
            out.append(ox.Triple(result, ox.NamedNode(RDF + "type"), ox.NamedNode(SH + "ValidationResult")))
            for predicate, (graph, node) in parts.items():
                obj = _to_ox(node, bnodes)
                out.append(ox.Triple(result, ox.NamedNode(str(predicate)), obj))
                if predicate == _SH_PATH and isinstance(node, rdflib.BNode):
                    out.extend(_copy_bnode_tree(graph, node, bnodes))
        return out


class Validator:
    """Validate DFC triples against our SHACL shapes; safe to share between threads."""

    def __init__(self, shapes: rdflib.Graph | None = None):
        _speed_up_pyshacl()
        parsed = shapes if shapes is not None else load_shapes_graph()
        # pyshacl reads the shapes graph on every run; SimpleMemory answers those reads faster.
        graph = _Graph(store="SimpleMemory")
        for triple in parsed:
            graph.add(triple)
        for prefix, namespace in parsed.namespaces():
            graph.bind(prefix, namespace)
        self._shapes_graph = ShapesGraph(graph)
        # Harvest every shape now: the lazy harvest inside pyshacl is not thread-safe.
        shapes_found = list(self._shapes_graph.shapes)
        self._targeted = _targeted_shapes(shapes_found, graph)
        self._executor = SHACLExecutor()
        self._messages = {str(s.node): str(m) for s in shapes_found for m in s.message}
        self._paths = {
            str(s.node): _path_text(s.path(), graph) for s in shapes_found if s.is_property_shape
        }
        # pyshacl builds constraint objects from the shared shapes graph on every run and keeps
        # per-shape state; it makes no promise of re-entrancy. Validation is pure Python and holds
        # the GIL anyway, so one lock costs no throughput and rules out interleaving.
        self._lock = threading.Lock()
        self._prescreen = Prescreen(parsed)

    def surely_conforms(self, triples) -> bool:
        """True when a fast check proves no violation; False means: call `validate` for the report."""
        return self._prescreen.surely_conforms(triples)

    def require(self, triples) -> None:
        """Refuse (422, with the report's violations) triples that do not conform."""
        if self.surely_conforms(triples):
            return                  # pyshacl would find no violation (a tenth of its time)
        report = self.validate(triples)
        if not report.conforms:
            raise ShapeViolation(f"{len(report.violations)} SHACL violation(s)",
                                 violations=report.violations, warnings=report.warnings)

    def validate(self, triples) -> Report:
        """Validate `triples` (pyoxigraph Triples) and return the Report."""
        data = to_rdflib(triples)
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
        return _report(raw, self._paths, self._messages)


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


_default: Validator | None = None
_default_lock = threading.Lock()


def default_validator() -> Validator:
    """Return the process-wide Validator, compiling the shapes on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Validator()
    return _default


def load_shapes_graph() -> rdflib.Graph:
    """Parse every shapes/*.ttl shipped in the package into one rdflib Graph."""
    graph = rdflib.Graph()
    for resource in sorted(files("app.shapes").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".ttl"):
            graph.parse(data=resource.read_text(encoding="utf-8"), format="turtle")
    return graph


class _Graph(rdflib.Graph):
    """An rdflib Graph that is always truthy.

    pyshacl writes `datagraph or shapes_graph` when it describes a result, and truth-testing a
    Graph counts its triples (a full scan in SimpleMemory) once per result.
    """

    def __bool__(self) -> bool:
        return True


def to_rdflib(triples) -> rdflib.Graph:
    """Copy pyoxigraph triples into a fresh in-memory rdflib Graph."""
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




def _report(raw_results: list, paths: dict, messages: dict) -> Report:
    results, raw, seen = [], [], set()
    for triples in raw_results:
        parts = {}
        for _s, p, o in triples:
            if p == _SH_MESSAGE:
                parts.setdefault(p, (None, o))
            elif isinstance(o, tuple):
                parts[p] = o
            elif p == _SH_SEVERITY:
                parts[p] = (None, o)
        shape = str(parts[_SH_SOURCE_SHAPE][1])
        if shape in messages:  # our own sh:message rather than one from a nested shape
            parts[_SH_MESSAGE] = (None, rdflib.Literal(messages[shape]))
        result = _result(parts, paths)
        key = (result["shape"], result["focusNode"], result["path"], result["value"])
        if key in seen:  # one shape reports a bad value once, whatever number of constraints it broke
            continue
        seen.add(key)
        results.append(result)
        raw.append(parts)
    # A stable order, worst first, so that reports are easy to read and to compare.
    order = sorted(range(len(results)), key=lambda i: _sort_key(results[i]))
    results, raw = [results[i] for i in order], [raw[i] for i in order]
    conforms = not any(r["severity"] == "Violation" for r in results)
    return Report(conforms=conforms, results=results, _raw=raw)


_RANK = {"Violation": 0, "Warning": 1, "Info": 2}


def _sort_key(result: dict) -> tuple:
    return (_RANK.get(result["severity"], 3), result["focusNode"] or "", result["path"] or "",
            result["value"] or "", result["shape"])


def _result(parts: dict, paths: dict) -> dict:
    def get(p):
        return parts[p][1] if p in parts else None

    path = get(_SH_PATH)
    message = get(_SH_MESSAGE)
    shape = _text(get(_SH_SOURCE_SHAPE))
    return {
        "severity": _SEVERITIES.get(str(get(_SH_SEVERITY)), str(get(_SH_SEVERITY))),
        "focusNode": _text(get(_SH_FOCUS)),
        "path": (paths.get(shape) or _text(path)) if path is not None else None,
        "value": _text(get(_SH_VALUE)),
        "message": str(message) if message is not None else "",
        "shape": shape,
    }


def _text(node) -> str | None:
    if node is None:
        return None
    if isinstance(node, rdflib.BNode):
        return "_:" + str(node)
    return str(node)


def _path_text(path, shapes: rdflib.Graph) -> str:
    """Render a SHACL path: an IRI as itself, a sequence as `a/b`, alternatives as `a|b`."""
    if not isinstance(path, rdflib.BNode):
        return str(path)
    alternatives = shapes.value(path, rdflib.URIRef(SH + "alternativePath"))
    if alternatives is not None:
        return "|".join(_path_text(p, shapes) for p in rdflib.collection.Collection(shapes, alternatives))
    if shapes.value(path, rdflib.RDF.first) is not None:
        return "/".join(_path_text(p, shapes) for p in rdflib.collection.Collection(shapes, path))
    return "_:" + str(path)


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
