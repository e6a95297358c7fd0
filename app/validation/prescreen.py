"""A fast, conservative check that a payload has no SHACL violation, before pyshacl is asked.

Our shapes use a small part of SHACL Core: property shapes with sh:targetClass, a path that is
a predicate, a sequence or an alternative of predicates, and the constraints below, read from
the facts the shapes were compiled into (app.validation.shapes). Checking those in plain Python over the payload's triples takes a tenth of pyshacl's time. The check
only ever answers "surely conforms" or "ask pyshacl": any doubt (an unusual literal, a
subclass axiom in the payload, a constraint it does not know) sends the payload to pyshacl,
which stays the reference and writes every report. A test holds the two to agreement on the
real corpus and on broken variants of it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation

from pyoxigraph import BlankNode, Literal, NamedNode

from app.namespaces import RDF, RDFS, SH, XSD
from app.validation.shapes import ShapeFacts

_RDF_TYPE = NamedNode(RDF + "type")
_SUBCLASS = NamedNode(RDFS + "subClassOf")


@dataclasses.dataclass(frozen=True)
class _Shape:
    targets: frozenset
    path: tuple          # ("one", p) | ("alt", (p, …)) | ("seq", (p, …)), pyoxigraph terms
    checks: dict


class Prescreen:
    def __init__(self, shapes):
        """Read the facts of `shapes` (app.validation.shapes) as checks over pyoxigraph terms."""
        self.shapes: list[_Shape] | None = []
        for facts in shapes.values():
            if not facts.targets or facts.severity != "Violation":
                continue                # warnings never make a payload fail
            if facts.unsupported:
                self.shapes = None      # a shape it cannot follow: always ask pyshacl
                return
            self.shapes.append(_compile(facts))

    def surely_conforms(self, triples) -> bool:
        """True only if pyshacl would find no violation; False means: ask pyshacl."""
        if self.shapes is None:
            return False
        about: dict = {}
        types: dict = {}
        for t in triples:
            if t.predicate == _SUBCLASS:
                return False            # class hierarchies in the payload: pyshacl's business
            about.setdefault(t.subject, {}).setdefault(t.predicate, []).append(t.object)
            if t.predicate == _RDF_TYPE:
                types.setdefault(t.object, []).append(t.subject)
        for shape in self.shapes:
            for cls in shape.targets:
                for focus in types.get(cls, ()):
                    if not _conforms(shape, _values(about, focus, shape.path), about):
                        return False
        return True


def _compile(f: ShapeFacts) -> _Shape:
    checks: dict = {}
    for name, value in (("minCount", f.min_count), ("maxCount", f.max_count),
                        ("minInclusive", f.min_inclusive), ("maxInclusive", f.max_inclusive)):
        if value is not None:
            checks[name] = value
    for name, value in (("datatype", f.datatype), ("nodeKind", f.node_kind), ("class", f.class_)):
        if value is not None:
            checks[name] = NamedNode(value)
    if f.in_ is not None:
        checks["in"] = frozenset(NamedNode(m) for m in f.in_)
    kind, step = f.path
    path = (kind, NamedNode(step) if kind == "one" else tuple(NamedNode(p) for p in step))
    return _Shape(frozenset(NamedNode(c) for c in f.targets), path, checks)


def _values(about: dict, focus, path: tuple) -> set:
    kind, step = path
    if kind == "one":
        return set(about.get(focus, {}).get(step, ()))
    if kind == "alt":
        return {v for p in step for v in about.get(focus, {}).get(p, ())}
    nodes = {focus}
    for p in step:
        nodes = {v for n in nodes for v in about.get(n, {}).get(p, ())}
    return nodes


def _conforms(shape: _Shape, values: set, about: dict) -> bool:
    checks = shape.checks
    if len(values) < checks.get("minCount", 0) or len(values) > checks.get("maxCount", len(values)):
        return False
    for value in values:
        if "datatype" in checks and not (isinstance(value, Literal) and value.datatype == checks["datatype"]
                                         and _well_formed(value)):
            return False
        kind = checks.get("nodeKind")
        if kind is not None and not (isinstance(value, NamedNode) or
                                     (kind.value == SH + "BlankNodeOrIRI" and isinstance(value, BlankNode))):
            return False
        if "in" in checks and value not in checks["in"]:
            return False
        if "class" in checks and checks["class"] not in about.get(value, {}).get(_RDF_TYPE, ()):
            return False
        if "minInclusive" in checks or "maxInclusive" in checks:
            number = _number(value)
            if number is None or number < checks.get("minInclusive", number) \
                    or number > checks.get("maxInclusive", number):
                return False
    return True


def _number(value) -> Decimal | None:
    if not isinstance(value, Literal) or value.datatype.value not in (XSD + "decimal", XSD + "integer"):
        return None                     # doubles, dates…: pyshacl decides
    try:
        return Decimal(value.value)
    except InvalidOperation:
        return None


def _well_formed(value: Literal) -> bool:
    """Whether a literal's text is valid for its datatype, for the datatypes we can tell."""
    kind = value.datatype.value[len(XSD):] if value.datatype.value.startswith(XSD) else None
    text = value.value
    try:
        if kind == "string":
            return True
        if kind in ("decimal", "integer"):
            number = Decimal(text)
            return number.is_finite() and (kind == "decimal" or "." not in text and "e" not in text.lower())
        if kind == "boolean":
            return text in ("true", "false", "1", "0")
        if kind == "dateTime":
            return "T" in text and dt.datetime.fromisoformat(text.replace("Z", "+00:00")) is not None
    except (InvalidOperation, ValueError):
        return False
    return False                        # other datatypes: pyshacl decides
