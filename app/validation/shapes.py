"""Our SHACL shapes (shapes/*.ttl, package data), read once into plain facts.

    shapes = compile_shapes(load_shapes_graph())   # a Validator does it once: validator.shapes
    shapes["https://w3id.org/dfc-order-hub/shapes#OrderLine-quantity"].max_count   # 1
    shapes.by_target[DFC_B + "OrderLine"]    # the facts of every shape that targets the class

The prescreen (what a payload surely satisfies) and the hints (what the broken shape asks for)
read these facts; pyshacl (app.validation._pyshacl) reads the Turtle itself and stays the
reference for every report. A constraint the facts do not model is listed in `unsupported`, so
that a reader can step aside rather than guess.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files

import rdflib
from rdflib.collection import Collection

from app.namespaces import RDF, SH

_SH = rdflib.Namespace(SH)
# Shape predicates that say nothing a payload could break.
_DESCRIPTIVE = {SH + p for p in ("targetClass", "path", "name", "message", "severity", "description",
                                 "order", "group")} | {RDF + "type"}
_MODELLED = {SH + p for p in ("datatype", "nodeKind", "minCount", "maxCount", "minInclusive",
                              "maxInclusive", "in", "class")}


@dataclass(frozen=True)
class ShapeFacts:
    """One property shape: what it targets, the path it follows, what it asks of the values."""

    key: str                          # the shape's IRI (as pyshacl names it in sh:sourceShape)
    targets: tuple[str, ...]          # sh:targetClass IRIs
    path: tuple | None                # ("one", p) | ("alt", (p, …)) | ("seq", (p, …)); None: another path
    path_text: str                    # how reports write the path: `p`, `a/b`, `a|b`
    severity: str                     # Violation | Warning | Info (or the IRI of another severity)
    message: str | None
    min_count: int | None = None
    max_count: int | None = None
    datatype: str | None = None
    node_kind: str | None = None
    class_: str | None = None
    in_: tuple[str, ...] | None = None            # the allowed values, in the shape's order
    min_inclusive: Decimal | None = None
    max_inclusive: Decimal | None = None
    unsupported: frozenset = frozenset()          # constraint predicates these facts do not model


class Shapes(Mapping):
    """The facts of every shape, by shape IRI, and by target class."""

    def __init__(self, facts):
        self._facts = {f.key: f for f in facts}
        by_target: dict[str, list[ShapeFacts]] = {}
        for f in self._facts.values():
            for target in f.targets:
                by_target.setdefault(target, []).append(f)
        self.by_target = {cls: tuple(fs) for cls, fs in by_target.items()}

    def __getitem__(self, key: str) -> ShapeFacts:
        return self._facts[key]

    def __iter__(self):
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


def load_shapes_graph() -> rdflib.Graph:
    """Parse every shapes/*.ttl shipped in the package into one rdflib Graph."""
    graph = rdflib.Graph()
    for resource in sorted(files("app.shapes").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".ttl"):
            graph.parse(data=resource.read_text(encoding="utf-8"), format="turtle")
    return graph


def compile_shapes(graph: rdflib.Graph) -> Shapes:
    """Read the facts of every shape of a shapes graph (a subject of sh:path or sh:targetClass)."""
    nodes = set(graph.subjects(_SH.path, None)) | set(graph.subjects(_SH.targetClass, None))
    return Shapes(_facts(graph, node) for node in nodes)


def _facts(g: rdflib.Graph, node) -> ShapeFacts:
    path_node = g.value(node, _SH.path)
    path = _path(g, path_node)
    severity = g.value(node, _SH.severity)
    found: dict = {}
    unsupported = {str(p) for p in g.predicates(node, None)} - _DESCRIPTIVE - _MODELLED
    if path is None:
        unsupported.add(SH + "path")
    for name, field in (("minCount", "min_count"), ("maxCount", "max_count")):
        if (o := g.value(node, _SH[name])) is not None:
            found[field] = int(o)
    for name, field in (("minInclusive", "min_inclusive"), ("maxInclusive", "max_inclusive")):
        if (o := g.value(node, _SH[name])) is not None:
            found[field] = Decimal(str(o))
    for name, field in (("datatype", "datatype"), ("nodeKind", "node_kind"), ("class", "class_")):
        if (o := g.value(node, _SH[name])) is not None:
            found[field] = str(o)
    if (members := g.value(node, _SH["in"])) is not None:
        values = list(Collection(g, members))
        found["in_"] = tuple(str(v) for v in values)
        if not all(isinstance(v, rdflib.URIRef) for v in values):
            unsupported.add(SH + "in")            # literal members: their datatypes are not kept
    messages = list(g.objects(node, _SH.message))
    return ShapeFacts(
        key=str(node), targets=tuple(sorted(str(c) for c in g.objects(node, _SH.targetClass))),
        path=path, path_text=path_text(path_node, g) if path_node is not None else "",
        severity=_severity(severity), message=str(messages[-1]) if messages else None,
        unsupported=frozenset(unsupported), **found)


def _severity(node) -> str:
    if node is None:
        return "Violation"
    text = str(node)
    return text[len(SH):] if text in (SH + "Violation", SH + "Warning", SH + "Info") else text


def _path(g: rdflib.Graph, path) -> tuple | None:
    """A path of predicates only (one, a sequence, alternatives) as a tuple; None for any other."""
    if isinstance(path, rdflib.URIRef):
        return ("one", str(path))
    if path is None:
        return None
    alternative = g.value(path, _SH.alternativePath)
    head = alternative if alternative is not None else path
    if alternative is None and g.value(path, rdflib.RDF.first) is None:
        return None                     # an inverse, zero-or-more … path
    members = list(Collection(g, head))
    if not members or not all(isinstance(m, rdflib.URIRef) for m in members):
        return None
    return ("alt" if alternative is not None else "seq", tuple(str(m) for m in members))


def path_text(path, shapes: rdflib.Graph) -> str:
    """Render a SHACL path: an IRI as itself, a sequence as `a/b`, alternatives as `a|b`."""
    if not isinstance(path, rdflib.BNode):
        return str(path)
    alternatives = shapes.value(path, _SH.alternativePath)
    if alternatives is not None:
        return "|".join(path_text(p, shapes) for p in Collection(shapes, alternatives))
    if shapes.value(path, rdflib.RDF.first) is not None:
        return "/".join(path_text(p, shapes) for p in Collection(shapes, path))
    return "_:" + str(path)
