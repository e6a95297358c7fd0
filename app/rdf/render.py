"""Write canonical triples as DFC JSON-LD (compacted as real platforms send it), Turtle or N-Triples."""
from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.namespaces import FAMILIES, PREFIXES, RDF, XSD
from app.rdf.contexts import DEFAULT_CONTEXT_URL, V2_CONTEXT_URL, object_properties

_NUMBER_TYPES = {XSD + "decimal", XSD + "integer", XSD + "double", XSD + "float"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
# Blank nodes embed at most this deep: two JSON levels each, well inside DFC_HUB_MAX_JSON_DEPTH.
MAX_EMBEDDING = 16


class JsonLdWriter:
    """Compacts triples against our context, under the context URL of a DFC family."""

    def __init__(self, family: str = "1.x"):
        self.family = family
        self.context_url = V2_CONTEXT_URL if family == "2.0" else DEFAULT_CONTEXT_URL
        ns = FAMILIES[family]
        # (namespace IRI, prefix) pairs, longest namespace first.
        pairs = {**PREFIXES, **{p: ns[p] for p in ns if p in PREFIXES}}
        self._canon_to_family = {FAMILIES["1.x"][p]: ns[p] for p in ns}
        self._prefixes = sorted(((iri, p) for p, iri in pairs.items()), key=lambda x: -len(x[0]))
        # Values of these are written as plain strings: our context reads them back as IRIs.
        self._coerced = object_properties()

    def compact(self, iri: str) -> str:
        """Return a prefixed name for an IRI where one of our prefixes fits, else the IRI."""
        iri = self.family_iri(iri)
        for ns, prefix in self._prefixes:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        return iri

    def family_iri(self, iri: str) -> str:
        """Translate a canonical IRI to this writer's namespace family."""
        if self.family == "1.x":
            return iri
        for canon, fam in self._canon_to_family.items():
            if iri.startswith(canon):
                return fam + iri[len(canon):]
        return iri

    def _literal(self, lit: Literal):
        """The JSON-LD value of a literal; never fails, whatever a stored literal holds."""
        dtype = lit.datatype.value if lit.datatype else None
        if lit.language:
            return {"@value": lit.value, "@language": lit.language}
        text = lit.value
        if dtype in _NUMBER_TYPES:
            # DFC platforms send numbers as JSON numbers or strings; numbers keep their meaning.
            # An ill-typed or huge one (JSON has no NaN, Python no 5,000-digit int) stays typed.
            try:
                if _INTEGER.fullmatch(text):
                    return int(text)
                if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
                    return float(text)
            except ValueError:
                pass
            return {"@value": text, "@type": self.compact(dtype)}
        if dtype == XSD + "boolean" and text in _BOOLEANS:
            return _BOOLEANS[text]
        if dtype in (None, XSD + "string", XSD + "dateTime", XSD + "date"):
            # Dates travel as strings in the DFC ecosystem; readers re-type them (normalise.py).
            return text
        return {"@value": text, "@type": self.compact(dtype)}

    def node_objects(self, triples: list[Triple]) -> list[dict]:
        """Return node objects, blank nodes used once embedded where they are used.

        Built without recursion, and blank nodes are embedded at most MAX_EMBEDDING levels
        deep (deeper ones are written beside the others, by id): a payload nesting blank
        nodes thousands deep renders like any other, as JSON our own readers accept.
        """
        by_subject: dict = defaultdict(list)
        for t in triples:
            by_subject[t.subject].append(t)
        uses = Counter(t.object for t in triples if isinstance(t.object, BlankNode))
        embeddable = {b for b, n in uses.items() if n == 1 and b in by_subject}
        tops = sorted((s for s in by_subject if s not in embeddable),
                      key=lambda s: (isinstance(s, BlankNode), s.value))
        order, embedded = self._layout(by_subject, embeddable, tops)
        built: dict = {}
        for subject in reversed(order):         # children before the nodes that embed them
            built[subject] = self._node(subject, by_subject[subject], embedded, built)
        return [built[s] for s in order if s not in embedded]

    def _layout(self, by_subject, embeddable, tops) -> tuple[list, set]:
        """Visit order (parents first) and the blank nodes embedded in their one user."""
        order, embedded = [], set()
        roots, seen = list(tops), set(tops)
        # Blank nodes used once but unreachable from a top (a cycle of them) become tops too.
        leftovers = iter(sorted(embeddable, key=lambda b: b.value))
        i = 0
        while True:
            if i < len(roots):
                root, i = roots[i], i + 1
            else:
                root = next((b for b in leftovers if b not in seen), None)
                if root is None:
                    return order, embedded
                seen.add(root)
            stack = [(root, 0)]
            while stack:
                subject, depth = stack.pop()
                order.append(subject)
                for t in by_subject.get(subject, ()):
                    child = t.object
                    if child in embeddable and child not in seen:
                        seen.add(child)
                        if depth < MAX_EMBEDDING:
                            embedded.add(child)
                            stack.append((child, depth + 1))
                        else:
                            roots.append(child)

    def _node(self, subject, about, embedded, built) -> dict:
        obj: dict = {} if subject in embedded else \
            {"@id": f"_:{subject.value}" if isinstance(subject, BlankNode) else subject.value}
        props: dict = defaultdict(list)
        for t in about:
            p = t.predicate.value
            if p == RDF + "type":
                props["@type"].append(self.compact(t.object.value))
            elif isinstance(t.object, Literal):
                props[self.compact(p)].append(self._literal(t.object))
            elif t.object in embedded:
                props[self.compact(p)].append(built[t.object])
            else:
                ref = f"_:{t.object.value}" if isinstance(t.object, BlankNode) else t.object.value
                if p in self._coerced:
                    props[self.compact(p)].append(self.compact(ref) if isinstance(t.object, NamedNode) else ref)
                else:
                    props[self.compact(p)].append({"@id": ref})
        for key in sorted(props, key=lambda k: (k != "@type", k)):
            values = sorted(props[key], key=_sort_key) if key != "@type" else sorted(props[key])
            obj[key] = values[0] if len(values) == 1 else values
        return obj

    def document(self, triples: list[Triple]) -> dict:
        """Return the compacted document: one node object, or an @graph."""
        nodes = self.node_objects(triples)
        if len(nodes) == 1:
            return {"@context": self.context_url, **nodes[0]}
        return {"@context": self.context_url, "@graph": nodes}


def _sort_key(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


_WRITERS = {f: JsonLdWriter(f) for f in ("1.x", "2.0")}


def to_jsonld(triples: list[Triple], family: str = "1.x") -> bytes:
    """Serialise as compacted DFC JSON-LD."""
    return json.dumps(_WRITERS[family].document(triples), ensure_ascii=False).encode()


def to_turtle(triples: list[Triple], family: str = "1.x") -> bytes:
    """Serialise as Turtle with the DFC prefixes."""
    w = _WRITERS[family]
    prefixes = {p: w.family_iri(iri) for p, iri in PREFIXES.items()}
    return ox.serialize(_in_family(triples, w), format=ox.RdfFormat.TURTLE, prefixes=prefixes)


def to_ntriples(triples: list[Triple], family: str = "1.x") -> bytes:
    """Serialise as N-Triples."""
    return ox.serialize(_in_family(triples, _WRITERS[family]), format=ox.RdfFormat.N_TRIPLES)


def _in_family(triples, w: JsonLdWriter):
    if w.family == "1.x":
        return triples

    def tr(term):
        return NamedNode(w.family_iri(term.value)) if isinstance(term, NamedNode) else term
    return [Triple(tr(t.subject), tr(t.predicate), tr(t.object)) for t in triples]
