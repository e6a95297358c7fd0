"""SHACL validation of incoming DFC data against our shapes (shapes/*.ttl, shipped as package data).

The shapes are compiled once per process (by pyshacl, app.validation._pyshacl, and into facts,
app.validation.shapes); each call only converts the payload's triples to rdflib and runs the
compiled shapes over them (no inference, no ontology graph: DESIGN.md measured 80 ms per call
with the ontology mixed in).

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

import pyoxigraph as ox
import rdflib

from app.errors import ShapeViolation
from app.validation import _pyshacl
from app.validation.prescreen import Prescreen
from app.errors import RANK, Result
from app.validation.shapes import Shapes, compile_shapes, load_shapes_graph


class BySeverity:
    """The results of a report by severity (a report has a `results` list of Results)."""

    results: list[Result]

    @property
    def violations(self) -> list[Result]:
        """Return the results of severity Violation."""
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        """Return the results of severity Warning."""
        return [r for r in self.results if r.severity == "Warning"]


@dataclass
class Report(BySeverity):
    """The outcome of one validation: conforms when there is no Violation."""

    conforms: bool
    results: list[Result] = field(default_factory=list)
    _raw: list = field(default_factory=list, repr=False, compare=False)

    def as_graph(self) -> list[ox.Triple]:
        """Return the report as sh:ValidationReport triples (pyoxigraph terms)."""
        return _pyshacl.report_graph(self.conforms, self._raw)


class Validator:
    """Validate DFC triples against our SHACL shapes; safe to share between threads."""

    def __init__(self, shapes: rdflib.Graph | None = None):
        parsed = shapes if shapes is not None else load_shapes_graph()
        self.shapes: Shapes = compile_shapes(parsed)       # the facts the prescreen and the hints read
        self._engine = _pyshacl.Engine(parsed, self.shapes)
        self._prescreen = Prescreen(self.shapes)

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
        found, seen = [], set()
        for result, raw in self._engine.run(_pyshacl.to_rdflib(triples)):
            key = (result.shape, result.focus, result.path, result.value)
            if key in seen:  # one shape reports a bad value once, whatever number of constraints it broke
                continue
            seen.add(key)
            found.append((result, raw))
        # A stable order, worst first, so that reports are easy to read and to compare.
        found.sort(key=lambda pair: _sort_key(pair[0]))
        results = [r for r, _ in found]
        conforms = not any(r.severity == "Violation" for r in results)
        return Report(conforms=conforms, results=results, _raw=[raw for _, raw in found])


def _sort_key(r: Result) -> tuple:
    return (RANK.get(r.severity, 3), r.focus or "", r.path or "", r.value or "", r.shape)


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
