"""Small reads and edits on lists of triples (a document in memory)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pyoxigraph import BlankNode, Literal, NamedNode, Triple


def objects(triples, subject, predicate) -> list:
    return [t.object for t in triples if t.subject == subject and t.predicate == predicate]


def first(triples, subject, predicate):
    """The first object of (subject, predicate), or None."""
    return next((t.object for t in triples if t.subject == subject and t.predicate == predicate), None)


def subjects(triples, predicate, obj) -> list:
    return list(dict.fromkeys(t.subject for t in triples if t.predicate == predicate and t.object == obj))


def subtree(triples, node) -> list[Triple]:
    """The triples about `node` and about the blank nodes it leads to (its embedded objects)."""
    return Indexed(triples).subtree(node)


class Indexed:
    """A document's triples by subject: a lookup costs its answer, not a scan of the document.

    For code that asks about every line of an order: scanning per line made a 5,000-line
    order take a minute (issue 9).
    """

    def __init__(self, triples):
        self.triples = triples
        self._about: dict = {}
        for t in triples:
            self._about.setdefault(t.subject, []).append(t)

    def about(self, subject) -> list[Triple]:
        return self._about.get(subject, [])

    def objects(self, subject, predicate) -> list:
        return [t.object for t in self.about(subject) if t.predicate == predicate]

    def first(self, subject, predicate):
        """The first object of (subject, predicate), or None."""
        return next((t.object for t in self.about(subject) if t.predicate == predicate), None)

    def has(self, triple: Triple) -> bool:
        return triple in self.about(triple.subject)

    def subtree(self, *nodes) -> list[Triple]:
        """The triples about `nodes` and the blank nodes they lead to, each triple once."""
        out, stack, seen = [], list(reversed(nodes)), set(nodes)
        while stack:
            for t in self.about(stack.pop()):
                out.append(t)
                if isinstance(t.object, BlankNode) and t.object not in seen:
                    seen.add(t.object)
                    stack.append(t.object)
        return out


def without(triples, subject, predicates) -> list[Triple]:
    """`triples` minus (subject, p, *) for each p, and the blank subtrees only those led to."""
    dropped = [t for t in triples if t.subject == subject and t.predicate in predicates]
    if not dropped:
        return list(triples)
    gone = set()
    for t in dropped:
        if isinstance(t.object, BlankNode):
            gone.update(x.subject for x in subtree(triples, t.object))
    drop = set(dropped)
    return [t for t in triples if t not in drop and t.subject not in gone]


def number(term) -> Decimal | None:
    """The decimal value of a numeric literal, None for anything else."""
    if not isinstance(term, Literal):
        return None
    try:
        value = Decimal(term.value)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def tidy(value: Decimal) -> Decimal:
    """A decimal without trailing zeros (6.000 → 6, 1E+1 → 10): documents read as people write them."""
    value = value.normalize()
    try:
        return value.quantize(Decimal(1)) if value == value.to_integral() else value
    except InvalidOperation:        # beyond the context's precision: normalised is tidy enough
        return value


def iri(term) -> str | None:
    return term.value if isinstance(term, NamedNode) else None


def quoted_triple(triples) -> Triple | None:
    """The first quoted triple (RDF 1.2 triple term) a graph holds as subject or object, or None:
    DFC data has none, and JSON-LD and RDF/XML cannot write one."""
    return next((term for t in triples for term in (t.subject, t.object) if isinstance(term, Triple)), None)
