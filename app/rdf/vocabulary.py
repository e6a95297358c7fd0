"""Our vocabulary (ontology/hub.ttl) as the code reads it: the one place a term of ours is declared.

Besides declaring each term, hub.ttl says which terms only the server writes and in which kind
of document (`hub:serverWritten`), which of those a client's PUT of an order keeps
(`hub:keptOnPut`), which only computed answers carry (`hub:answerOnly`), and each literal
term's datatype (`rdfs:range`). The order rules' constants, the normalisation's typed terms and
our answers' context are derived from it (`OURS`); tests/test_vocabulary.py checks the rest.
"""
from __future__ import annotations

from importlib import resources

import pyoxigraph as ox
from pyoxigraph import NamedNode

from app.namespaces import HUB, RDF_TYPE, RDFS

OWL = "http://www.w3.org/2002/07/owl#"
SERVER_WRITTEN, KEPT_ON_PUT, ANSWER_ONLY = (
    NamedNode(HUB + name) for name in ("serverWritten", "keptOnPut", "answerOnly"))
_RANGE, _DOMAIN = NamedNode(RDFS + "range"), NamedNode(RDFS + "domain")


class Vocabulary:
    """What a vocabulary file states of its terms, as sets the code can use."""

    def __init__(self, quads):
        self.quads = tuple(quads)

    @classmethod
    def parse(cls, text: bytes) -> Vocabulary:
        """Read a vocabulary from Turtle."""
        return cls(ox.parse(text, format=ox.RdfFormat.TURTLE))

    def _subjects(self, predicate: NamedNode, obj=None) -> frozenset[NamedNode]:
        return frozenset(q.subject for q in self.quads if q.predicate == predicate
                         and (obj is None or q.object == obj) and isinstance(q.subject, NamedNode))

    def _flagged(self, annotation: NamedNode) -> frozenset[NamedNode]:
        return frozenset(q.subject for q in self.quads
                         if q.predicate == annotation and q.object.value in ("true", "1"))

    def declared(self, kind: str | None = None) -> frozenset[NamedNode]:
        """Our terms the file declares (`kind`: only those of that OWL type, e.g. "ObjectProperty")."""
        typed = self._subjects(RDF_TYPE, NamedNode(OWL + kind) if kind else None)
        return frozenset(t for t in typed if t.value.startswith(HUB))

    def server_written(self, document: NamedNode) -> frozenset[NamedNode]:
        """Terms only the server writes in documents of this kind (a class): a client's are not kept."""
        return self._subjects(SERVER_WRITTEN, document)

    def server_written_kinds(self) -> frozenset[NamedNode]:
        """The kinds of document in which the server writes terms of its own."""
        return frozenset(q.object for q in self.quads if q.predicate == SERVER_WRITTEN)

    def kept_on_put(self) -> frozenset[NamedNode]:
        """Server-written terms of an order that a client's PUT of the order keeps."""
        return self._flagged(KEPT_ON_PUT)

    def answer_only(self) -> frozenset[NamedNode]:
        """Terms only the server's computed answers carry (summaries, reports): never stored."""
        return self._flagged(ANSWER_ONLY)

    def range_of(self, term: NamedNode) -> str | None:
        """The IRI of the term's rdfs:range, if the file states one."""
        return next((q.object.value for q in self.quads if q.subject == term and q.predicate == _RANGE), None)

    def domain_of(self, term: NamedNode) -> str | None:
        """The IRI of the term's rdfs:domain, if the file states one."""
        return next((q.object.value for q in self.quads if q.subject == term and q.predicate == _DOMAIN), None)

    def with_range(self, datatype: str, stored: bool = False) -> frozenset[str]:
        """IRIs of our terms whose values are literals of `datatype` (stored: only those documents hold)."""
        left_out = self.answer_only() if stored else frozenset()
        return frozenset(q.subject.value for q in self.quads
                         if q.predicate == _RANGE and q.object.value == datatype
                         and q.subject.value.startswith(HUB) and q.subject not in left_out)


def load() -> Vocabulary:
    """Read ontology/hub.ttl from the package data."""
    return Vocabulary.parse(resources.files("app.ontology").joinpath("hub.ttl").read_bytes())


# Read once per process: the constants derived from it are computed at import.
OURS = load()
