"""What a payload may not carry into the store, found before anything is written (422 each).

- Ill-typed literals: a lexical form its datatype cannot hold (`"x"^^xsd:decimal`), or a value
  of another datatype than the term takes (a date as `dfc-b:quantity`). Stored, such a literal
  would break every reader that trusts the datatype.
- IRIs a JSON-LD processor would drop without a word (`"http://x/a b"`, `{"@id": "a|b"}`): the
  sender would never learn that half its order vanished.
- IRIs with dot segments (`…/offers/../../hub-a/offers/x`): once normalised they name another
  resource than the one written.
- Dates outside the days the server computes with (app.rdf.terms FIRST_DAY to LAST_DAY), and
  dates no calendar has (`2026-02-30`): a session, a contract or a delivery reads them and adds
  to them; 9999-12-31 plus a day made every reader raise.
- Literals longer than MAX_LITERAL characters, IRIs longer than MAX_IRI: documents that other
  parties read (orders, deliveries, contracts, persons) would otherwise grow without bound.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pyoxigraph import Literal, NamedNode

from app.rdf import vocabulary
from app.errors import ShapeViolation, clipped, violation
from app.namespaces import DFC_B, HUB, XSD
from app.rdf.contexts import object_properties
from app.rdf.normalise import BOOLEANS, DATES, NUMERIC
from app.rdf.terms import FIRST_DAY, LAST_DAY, day_of

_DECIMAL_RE = r"[+-]?(\d+(\.\d*)?|\.\d+)"
# A time zone as XSD writes it: Z, or an offset of at most 14 hours (+14:01 is no xsd:dateTime).
_OFFSET = r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
# Lexical forms of the XSD datatypes DFC data uses (XML Schema 1.1, ASCII digits only).
LEXICAL = {XSD + name: re.compile(pattern, re.ASCII) for name, pattern in {
    "decimal": _DECIMAL_RE,
    "integer": r"[+-]?\d+",
    "int": r"[+-]?\d+",
    "long": r"[+-]?\d+",
    "nonNegativeInteger": r"\+?\d+",
    "positiveInteger": r"\+?\d+",
    "double": rf"{_DECIMAL_RE}([eE][+-]?\d+)?|[+-]?INF|NaN",
    "float": rf"{_DECIMAL_RE}([eE][+-]?\d+)?|[+-]?INF|NaN",
    "boolean": r"true|false|1|0",
    "dateTime": r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?" + _OFFSET,
    "date": r"-?\d{4,}-\d\d-\d\d" + _OFFSET,
}.items()}
# A well-formed BCP 47 language tag, as RDF checks it (no base direction: `en--ltr` is not one).
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_NUMBERS = {XSD + n for n in ("decimal", "integer", "int", "long", "nonNegativeInteger",
                              "positiveInteger", "double", "float")}
# What each typed term takes, and how to say it. Dates may stay strings: real payloads carry
# placeholders ("date") and free text where a date goes, and no reader computes with them.
_TAKES = [(NUMERIC, _NUMBERS, "a number"), (DATES, {XSD + "dateTime", XSD + "date", XSD + "string"}, "a date"),
          (BOOLEANS, {XSD + "boolean"}, "true or false")]
# Terms whose strings are read as dates where they look like one (others are placeholders: "soon").
_DAY_TERMS = DATES | vocabulary.OURS.with_range(XSD + "date", stored=True)
_DAY_TYPES = (XSD + "date", XSD + "dateTime")
# The largest number a term the server computes with may hold. Oxigraph's decimals stop near
# 1.7e20 (18 digits after the point): a price of 1e21 was stored, and a session summary's sum
# over it failed into 0 without a word. Well below, sums of many values stay exact.
MAX_NUMBER = Decimal(10) ** 15
# A product's description runs to a few thousand characters in real catalogues; a URL to 2,048.
MAX_LITERAL, MAX_IRI = 10_000, 4096
_DOT_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(/[^?#]*)?")
_ENCODED_SLASH = re.compile(r"%2f|%5c", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def too_large(text: str) -> bool:
    """Whether a number's text is beyond MAX_NUMBER either way (a text that is no number is not)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return False
    return value.is_infinite() or (value.is_finite() and abs(value) > MAX_NUMBER)


def well_formed(literal: Literal) -> bool:
    """Whether a literal's text is valid for its datatype (datatypes we do not know pass)."""
    pattern = LEXICAL.get(literal.datatype.value) if literal.datatype else None
    return pattern is None or pattern.fullmatch(literal.value) is not None


def refuse_ill_typed(triples, own: str | None = None) -> None:
    """Refuse (422, each a violation) ill-typed literals, values of the wrong datatype, dot segments.

    IRIs under `own` (the server's API base) may not hold an encoded slash or backslash either:
    each of their segments is an id, and `%2F` would smuggle a path into one.
    """
    problems, odd = [], set()
    for t in triples:
        if len(t.predicate.value) > MAX_IRI and t.predicate not in odd:
            odd.add(t.predicate)
            problems.append(_too_long(t, t.predicate))
        for term in (t.subject, t.object):
            if not isinstance(term, NamedNode) or term in odd:
                continue
            if len(term.value) > MAX_IRI:
                odd.add(term)
                problems.append(_too_long(t, term))
            elif _has_dot_segment(term.value):
                odd.add(term)
                problems.append(violation(t.subject, t.predicate, term, f"{term.value} has a dot segment "
                                          "(. or ..); send the IRI in its normal form"))
            elif own and term.value.startswith(own) and _ENCODED_SLASH.search(term.value):
                odd.add(term)
                problems.append(violation(t.subject, t.predicate, term, f"{term.value} has an encoded slash "
                                          "(%2F or %5C) in an id of this server"))
        o = t.object
        if not isinstance(o, Literal):
            continue
        if len(o.value) > MAX_LITERAL:
            problems.append(_too_long(t, o))
            continue
        if o.direction is not None:
            problems.append(violation(t.subject, t.predicate, o, f"{o.value!r} has a base direction "
                                      f"({o.direction}): this server keeps a text with its language only"))
            continue
        if not well_formed(o):
            problems.append(violation(t.subject, t.predicate, o, f"{o.value!r} is not a valid "
                                      f"{_short(o.datatype.value)}"))
            continue
        if t.predicate.value in NUMERIC and o.datatype.value in _NUMBERS and too_large(o.value):
            problems.append(violation(t.subject, t.predicate, o, f"{o.value[:40]!r} is beyond the numbers the "
                                      f"server computes with (at most {MAX_NUMBER:,} either way)"))
            continue
        wrong_day = _day_problem(t.predicate.value, o)
        if wrong_day:
            problems.append(violation(t.subject, t.predicate, o, wrong_day))
            continue
        for terms, datatypes, what in _TAKES:
            if t.predicate.value in terms and not o.language and o.datatype.value not in datatypes:
                problems.append(violation(t.subject, t.predicate, o, f"{_short(t.predicate.value)} takes "
                                          f"{what}, not {o.value!r} ({_short(o.datatype.value)})"))
    if problems:
        raise ShapeViolation(f"{len(problems)} value(s) the server cannot store as sent",
                             violations=problems)


def _day_problem(predicate: str, o: Literal) -> str | None:
    """Why a date cannot be stored: no calendar has it, or it lies outside the days computed with."""
    datatype = o.datatype.value
    if datatype == XSD + "string" and predicate in _DAY_TERMS and not o.language:
        # A string that reads as a date was typed by normalisation; one that only looks like one is not.
        text = o.value.strip()
        looks = next((d for d in _DAY_TYPES if LEXICAL[d].fullmatch(text)), None)
        if looks is None:
            return None
        day = day_of(text, looks)
        what = "date"
    elif datatype in _DAY_TYPES:
        day, what = day_of(o.value, datatype), _short(datatype)
    else:
        return None
    if day is None:
        return f"{o.value!r} is not a valid {what}"
    if not FIRST_DAY <= day <= LAST_DAY:
        return f"{o.value} is outside the days this server computes with, from {FIRST_DAY} to {LAST_DAY}"
    return None


def _too_long(t, term):
    """The violation of a term longer than the server takes, quoting the start of it (and of its triple)."""
    limit, what = (MAX_LITERAL, "characters") if isinstance(term, Literal) else (MAX_IRI, "characters of IRI")
    return violation(_clip(t.subject), _clip(t.predicate), _clip(term),
                     f"{_short(t.predicate.value)[:120]} holds {len(term.value)} {what}; this server takes "
                     f"at most {limit}")


def _clip(term):
    """A term's text short enough to quote in a problem (a refused value may be megabytes)."""
    return clipped(term.value if isinstance(term, (NamedNode, Literal)) else str(term), 120)


def refuse_dropped_iris(doc, base_iri: str | None) -> None:
    """Refuse (422) JSON-LD whose IRIs a processor would drop: `@id`s, types and references."""
    references = {iri.rsplit("#", 1)[-1] for iri in object_properties()}
    problems = []
    for node, pointer, key, focus in _walk(doc):
        if isinstance(node, dict):
            here = _here(node, pointer)
            for k in ("@id", "@type"):
                v = node.get(k)
                if isinstance(v, (str, list)):
                    problems += [_bad(s, f"{pointer}/{k}", here, k, base_iri)
                                 for s in (v if isinstance(v, list) else [v]) if isinstance(s, str)]
        elif isinstance(node, str) and key is not None and _local(key) in references:
            problems.append(_bad(node, pointer, focus, key, base_iri))
    problems = [p for p in problems if p is not None]
    if problems:
        raise ShapeViolation(f"{len(problems)} IRI(s) are not valid and would be lost",
                             violations=problems)


def refuse_lost_languages(doc) -> None:
    """Refuse (422) JSON-LD values whose language is no language tag: a processor drops them."""
    problems = [violation(focus, key, node["@language"], f"{node['@language']!r} is not a language tag "
                          "(BCP 47: en, en-GB); a JSON-LD reader would drop the value silently",
                          f"{pointer}/@language")
                for node, pointer, key, focus in _walk(doc)
                if isinstance(node, dict) and isinstance(node.get("@language"), str)
                and not _LANGUAGE.fullmatch(node["@language"])]
    if problems:
        raise ShapeViolation(f"{len(problems)} language tag(s) are not valid and would be lost",
                             violations=problems)


def _walk(doc):
    """(JSON value, its pointer, its key, the @id of the node holding it) for every value of a
    JSON-LD document but contexts, a value object's parts and a node's own @id and @type
    (read by the callers from the node). Iterative: any depth."""
    stack = [(doc, "", None, None)]
    while stack:
        node, pointer, key, focus = stack.pop()
        yield node, pointer, key, focus
        if isinstance(node, list):
            stack.extend((v, f"{pointer}/{i}", key, focus) for i, v in enumerate(node))
        elif isinstance(node, dict):
            here = _here(node, pointer)
            stack.extend((v, f"{pointer}/{_escape(k)}", k, here) for k, v in node.items()
                         if k not in ("@context", "@value", "@language")
                         and not (k in ("@id", "@type") and isinstance(v, (str, list))))


def _here(node: dict, pointer: str) -> str:
    return node["@id"] if isinstance(node.get("@id"), str) else (pointer or "/")


def _bad(text: str, pointer: str, focus, key, base_iri: str | None):
    if text.startswith(("_:", "@")) or text == "":
        return None
    candidate = text if _SCHEME.match(text) or base_iri is None else base_iri + text
    try:
        NamedNode(candidate)
    except ValueError:
        return violation(focus, key, text, f"{text!r} is not a valid IRI (spaces and < > \" {{ }} | \\ ^ ` "
                         "are not allowed); a JSON-LD reader would drop it silently", pointer)
    return None


def _has_dot_segment(iri: str) -> bool:
    m = _DOT_SEGMENT.match(iri)
    path = m.group(1) if m and m.group(1) else ""
    return any(segment in (".", "..") for segment in path.split("/"))


def _local(key: str) -> str:
    return re.split(r"[#:/]", key)[-1]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _short(iri: str) -> str:
    for prefix, ns in (("xsd:", XSD), ("dfc-b:", DFC_B), ("hub:", HUB)):
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return iri
