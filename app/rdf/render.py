"""Write canonical triples as DFC JSON-LD (compacted as real platforms send it), Turtle, N-Triples or RDF/XML."""
from __future__ import annotations

import json
import re
import xml.parsers.expat
from collections import Counter, defaultdict
from typing import NoReturn

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.errors import NotAcceptable
from app.namespaces import FAMILIES, LDP, PREFIXES, RDF, XSD
from app.rdf import answer_context
from app.rdf.contexts import trim_contexts
from app.rdf.triples import quoted_triple

_NUMBER_TYPES = {XSD + "decimal", XSD + "integer"}
# Canonical (1.x) terms a later release renamed: DFC 2.0 calls an Enterprise an Organization.
_RENAMED_IN = {"2.0": {FAMILIES["1.x"]["dfc-b"] + "Enterprise": FAMILIES["1.x"]["dfc-b"] + "Organization"}}
_WHOLE = re.compile(r"^(0|-?[1-9][0-9]{0,14})$")    # canonical, and exact as a JSON (double) number
# Blank nodes embed at most this deep: two JSON levels each, well inside DFC_HUB_MAX_JSON_DEPTH.
MAX_EMBEDDING = 16
# XML 1.0 has no place for these characters (RDF/XML can carry no literal holding one).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# RDF/XML writes a predicate as an element: its IRI must end in an XML name, with no colon.
_NAME_START = ("A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
               "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_NAME_START_CHAR = re.compile(f"[{_NAME_START}]")
_NAME_CHARS = re.compile(f"[{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f\u2040]*")
# IRIs a writer remembers the compact form of: the vocabulary's terms, and room for many more;
# past it (a store of many documents' IRIs) new ones are compacted each time, nothing evicted.
COMPACTED = 20_000


class JsonLdWriter:
    """Compacts triples against our context, under the context URL of a DFC family."""

    def __init__(self, family: str = "1.x"):
        self.family = family
        ns = FAMILIES[family]
        # (namespace IRI, prefix) pairs, longest namespace first.
        pairs = {**PREFIXES, **{p: ns[p] for p in ns if p in PREFIXES}}
        self._canon_to_family = {FAMILIES["1.x"][p]: ns[p] for p in ns}
        self._prefixes = sorted(((iri, p) for p, iri in pairs.items()), key=lambda x: -len(x[0]))
        # How our answer's contexts read a term's plain values: as IRIs, or as typed literals.
        self._types = {**dict.fromkeys(answer_context.reference_terms(), "@id"), **answer_context.typed_terms()}
        self._compacted: dict[str, str] = {}

    def compact(self, iri: str) -> str:
        """Return a prefixed name for an IRI where one of our prefixes fits, else the IRI."""
        # Every answer compacts the same few dozen terms (predicates, types, units) again and again.
        found = self._compacted.get(iri)
        if found is None:
            found = self._compact(iri)
            if len(self._compacted) < COMPACTED:
                self._compacted[iri] = found
        return found

    def _compact(self, iri: str) -> str:
        iri = self.family_iri(iri)
        for ns, prefix in self._prefixes:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        return iri

    def family_iri(self, iri: str) -> str:
        """Translate a canonical IRI to this writer's namespace family (and 2.0's renamed terms)."""
        if self.family == "1.x":
            return iri
        iri = _RENAMED_IN.get(self.family, {}).get(iri, iri)
        for canon, fam in self._canon_to_family.items():
            if iri.startswith(canon):
                return fam + iri[len(canon):]
        return iri

    def _literal(self, lit: Literal, predicate: str):
        """A literal as our answer's contexts read it back exactly (app.rdf.answer_context)."""
        dtype = lit.datatype.value if lit.datatype else XSD + "string"
        coerced = self._types.get(predicate)
        if coerced == dtype:
            text = lit.value
            # Under xsd:decimal a JSON whole number is exact; a fraction would be read as a double.
            return int(text) if dtype in _NUMBER_TYPES and _WHOLE.match(text) else text
        if lit.language:
            return {"@value": lit.value, "@language": lit.language}
        if coerced is not None:
            # The term's own type or @id would change a plain value: say what it is.
            return {"@value": lit.value} if dtype == XSD + "string" else \
                {"@value": lit.value, "@type": self.compact(dtype)}
        if dtype == XSD + "string":
            return lit.value
        if dtype == XSD + "boolean" and lit.value in ("true", "false"):
            return lit.value == "true"
        if dtype == XSD + "integer" and _WHOLE.match(lit.value):
            return int(lit.value)
        return {"@value": lit.value, "@type": self.compact(dtype)}

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
                props[self.compact(p)].append(self._literal(t.object, p))
            elif t.object in embedded:
                props[self.compact(p)].append(built[t.object])
            else:
                ref = f"_:{t.object.value}" if isinstance(t.object, BlankNode) else t.object.value
                if self._types.get(p) == "@id":
                    props[self.compact(p)].append(self.compact(ref) if isinstance(t.object, NamedNode) else ref)
                else:
                    props[self.compact(p)].append({"@id": ref})
        for key in sorted(props, key=lambda k: (k != "@type", k)):
            values = props[key]
            if len(values) == 1:
                obj[key] = values[0]
            else:
                obj[key] = sorted(values, key=_sort_key) if key != "@type" else sorted(values)
        return obj

    def document(self, triples: list[Triple]) -> dict:
        """Return the compacted document: one node object, or an @graph.

        Its @context names the DFC context of this writer's family, then carries ours inline,
        trimmed to the terms the document uses: a client that has only the DFC context preloaded
        (the official connectors, Open Food Network) reads it without fetching anything.
        """
        nodes = self.node_objects(triples)
        doc = {"@context": None, **nodes[0]} if len(nodes) == 1 else {"@context": None, "@graph": nodes}
        doc["@context"] = answer_context.names(self.family)
        trim_contexts(doc)
        return doc


def _sort_key(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


_WRITERS = {f: JsonLdWriter(f) for f in ("1.x", "2.0")}


def to_jsonld(triples: list[Triple], family: str = "1.x", base_url: str | None = None) -> bytes:
    """Serialise as compacted DFC JSON-LD: the DFC context URL, then ours inline.

    `base_url` is not needed (the answer names no context of ours): every serialiser takes it.
    """
    _refuse_triple_terms(triples, "JSON-LD")
    return json.dumps(_WRITERS[family].document(triples), ensure_ascii=False).encode()


def to_turtle(triples: list[Triple], family: str = "1.x", base_url: str | None = None) -> bytes:
    """Serialise as Turtle with the DFC prefixes (those it uses)."""
    triples = _in_family(triples, _WRITERS[family])
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_used_prefixes(triples, family))


def to_ntriples(triples: list[Triple], family: str = "1.x", base_url: str | None = None) -> bytes:
    """Serialise as N-Triples."""
    return ox.serialize(_in_family(triples, _WRITERS[family]), format=ox.RdfFormat.N_TRIPLES)


def to_rdfxml(triples: list[Triple], family: str = "1.x", base_url: str | None = None) -> bytes:
    """Serialise as RDF/XML (what SPARQLWrapper and rdflib ask for by default) with the DFC
    prefixes; 406 for a graph that has no well-formed RDF/XML form."""
    _refuse_triple_terms(triples, "RDF/XML")
    triples = _in_family(triples, _WRITERS[family])
    _refuse_what_xml_cannot_write(triples)
    try:
        body = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_used_prefixes(triples, family))
    except OSError as e:                # an RDF/XML syntax term as a predicate (rdf:about, rdf:li, …)
        _no_rdfxml(str(e))
    # Whatever else pyoxigraph's writer gets wrong (a predicate in the xmlns namespace) is no 200.
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as e:
        _no_rdfxml(f"written as RDF/XML it is no well-formed XML ({e})")
    return keep_carriage_returns(body)


def keep_carriage_returns(xml_body: bytes) -> bytes:
    """Escape each carriage return pyoxigraph's XML writers leave raw in a literal: a parser
    reads a raw CR, or CR LF, as one line feed (XML 1.0 §2.11), so a literal came back changed.
    They write none of their own: their lines end in LF."""
    return xml_body.replace(b"\r", b"&#13;")


# What an XML body may not hold, as UTF-8: C0 controls but tab, LF and CR; U+FFFE, U+FFFF.
_NOT_XML_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def xml_character_outside(xml_body: bytes) -> str | None:
    """The first character in an XML body that XML 1.0 cannot carry, escaped or not (as U+…), or None."""
    bad = _NOT_XML_BYTES.search(xml_body)
    return None if bad is None else f"U+{ord(bad.group().decode()):04X}"


def _refuse_what_xml_cannot_write(triples) -> None:
    """406 for a predicate that ends in no XML name, or a literal holding a character XML 1.0 lacks."""
    for predicate in {t.predicate.value for t in triples}:
        # The name characters it ends in, read backwards (a search for the suffix is quadratic).
        if not _NAME_START_CHAR.search(_NAME_CHARS.match(predicate[::-1]).group()):
            _no_rdfxml(f"the predicate <{predicate}> does not end in an XML name (a letter or _, then letters, "
                       "digits, -, . or _), and RDF/XML writes each predicate as an XML element")
    for t in triples:
        if isinstance(t.object, Literal) and (bad := _NOT_XML.search(t.object.value)):
            _no_rdfxml(f"a literal of <{t.predicate.value}> holds U+{ord(bad.group()):04X}, a character XML 1.0 "
                       "cannot carry, escaped or not")


def _no_rdfxml(why: str) -> NoReturn:
    raise NotAcceptable(f"this graph has no RDF/XML form: {why}; ask for text/turtle or application/n-triples",
                        available=["text/turtle", "application/n-triples"])


def _refuse_triple_terms(triples, syntax: str) -> None:
    """406 for a graph holding a triple term (RDF 1.2: an analyst's CONSTRUCT can make one), which
    `syntax` cannot write; Turtle and N-Triples can. Stored documents never hold one (app.rdf)."""
    if quoted_triple(triples) is not None:
        raise NotAcceptable(f"this graph holds a quoted triple, which {syntax} cannot carry: ask for "
                            "text/turtle or application/n-triples", available=["text/turtle", "application/n-triples"])


def _used_prefixes(triples, family: str) -> dict[str, str]:
    """Our prefixes (in a namespace family) that name at least one IRI of `triples`."""
    w = _WRITERS[family]
    wanted = {w.family_iri(iri): p for p, iri in PREFIXES.items()}
    used = {}
    for t in triples:
        for term in (t.predicate, t.object, t.subject):
            if isinstance(term, NamedNode) or (isinstance(term, Literal) and term.datatype):
                iri = term.value if isinstance(term, NamedNode) else term.datatype.value
                ns = iri[: max(iri.rfind("#"), iri.rfind("/")) + 1]
                if ns in wanted:
                    used[wanted[ns]] = ns
    return used


def _in_family(triples, w: JsonLdWriter):
    if w.family == "1.x":
        return triples

    def tr(term):
        return NamedNode(w.family_iri(term.value)) if isinstance(term, NamedNode) else term
    return [Triple(tr(t.subject), tr(t.predicate), tr(t.object)) for t in triples]


def ntriples_cells(body: bytes) -> list[list[tuple[str, str]]]:
    """Each triple of an N-Triples body as three (text, note) cells, for a results table."""
    return [[_cell(t.subject), _cell(t.predicate), _cell(t.object)]
            for t in (q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))]


def results_cells(body: bytes) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """A SELECT's or an ASK's SPARQL JSON results as a table: its column names, and each row's
    (text, note) cells (empty for an unbound variable)."""
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(results, ox.QueryBoolean):
        return ["answer"], [[("true" if results else "false", "")]]
    names = [v.value for v in results.variables]
    return names, [[("", "") if row[name] is None else _cell(row[name]) for name in names] for row in results]


def _cell(term) -> tuple[str, str]:
    """(text, note) of one RDF term: a literal notes its datatype or language; a triple term (an
    analyst's query can make one) is written as N-Triples 1.2 writes it, `<<( s p o )>>`."""
    if isinstance(term, Literal):
        note = f"@{term.language}" if term.language else term.datatype.value.rsplit("#", 1)[-1]
        return term.value, "" if note == "string" else note
    if isinstance(term, Triple):
        return f"<<( {term} )>>", "triple term"
    return (f"_:{term.value}" if isinstance(term, BlankNode) else term.value), ""


def ldp_container(here: str, members: list, triples: list) -> list:
    """A collection's triples as an LDP container at `here` listing its members first."""
    node = NamedNode(here)
    return [Triple(node, NamedNode(RDF + "type"), NamedNode(LDP + "Container")),
            *(Triple(node, NamedNode(LDP + "contains"), m) for m in members), *triples]
