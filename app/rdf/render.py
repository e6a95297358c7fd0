"""Write canonical triples as DFC JSON-LD (compacted as real platforms send it), Turtle or N-Triples."""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.namespaces import FAMILIES, PREFIXES, RDF, XSD
from app.rdf.contexts import DEFAULT_CONTEXT_URL, V2_CONTEXT_URL, object_properties

_NUMBER_TYPES = {XSD + "decimal", XSD + "integer", XSD + "double", XSD + "float"}


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
        dtype = lit.datatype.value if lit.datatype else None
        if lit.language:
            return {"@value": lit.value, "@language": lit.language}
        if dtype in _NUMBER_TYPES:
            # DFC platforms send numbers as JSON numbers or strings; numbers keep their meaning.
            text = lit.value
            if text.lstrip("-").isdigit():
                return int(text)
            number = float(text)
            if math.isfinite(number):
                return number
            # JSON has no NaN or infinity: keep the typed literal.
            return {"@value": text, "@type": self.compact(dtype)}
        if dtype == XSD + "boolean":
            return lit.value == "true"
        if dtype in (None, XSD + "string", XSD + "dateTime", XSD + "date"):
            # Dates travel as strings in the DFC ecosystem; readers re-type them (normalise.py).
            return lit.value
        return {"@value": lit.value, "@type": self.compact(dtype)}

    def node_objects(self, triples: list[Triple]) -> list[dict]:
        """Return node objects, blank nodes used once embedded where they are used."""
        by_subject: dict = defaultdict(list)
        for t in triples:
            by_subject[t.subject].append(t)
        uses = Counter(t.object for t in triples if isinstance(t.object, BlankNode))
        embeddable = {b for b, n in uses.items() if n == 1 and b in by_subject}

        def node(subject, seen=()) -> dict:
            obj: dict = {"@id": f"_:{subject.value}" if isinstance(subject, BlankNode) else subject.value}
            if isinstance(subject, BlankNode) and subject in embeddable:
                del obj["@id"]
            props: dict = defaultdict(list)
            for t in by_subject.get(subject, ()):
                p = t.predicate.value
                if p == RDF + "type":
                    props["@type"].append(self.compact(t.object.value))
                elif isinstance(t.object, Literal):
                    props[self.compact(p)].append(self._literal(t.object))
                elif isinstance(t.object, BlankNode) and t.object in embeddable and t.object not in seen:
                    props[self.compact(p)].append(node(t.object, (*seen, subject)))
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

        tops = [s for s in by_subject if s not in embeddable]
        tops.sort(key=lambda s: (isinstance(s, BlankNode), s.value))
        return [node(s) for s in tops]

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
