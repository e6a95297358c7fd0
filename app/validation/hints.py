"""Hints: what a sender got wrong, where, and how to put it right.

Each finding is a Result (app.errors) with a hint and a hint code.
They come from what the client SENT: the corrections normalisation made (app.rdf.normalise),
the terms it used (app.validation.terms), its JSON (keys JSON-LD drops, repeated @types) and
its namespaces (the DFC release). SHACL results get a hint from the shape they broke.

What the server repairs is a Warning: it reads the payload, but other DFC platforms may not.
A term in a DFC namespace that no DFC release defines (a misspelling, an invented term) is a
Violation: the server still reads it as meant, but no other platform can, so a conformance check
fails. A term of another release stays a Warning that names the release. SHACL results get
their hints in app.validation.shape_hints.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urljoin

import pyoxigraph as ox

from app.namespaces import DFC_B, RDF
from app.rdf.contexts import family_of_version
from app.rdf.terms import decimal_literal
from app.errors import Result
from app.validation.terms import dfc_terms, is_dfc_term, short

_FAMILY_LABEL = {"static": "≤1.7", "1.x": "1.8–1.16", "2.0": "2.0"}
_FAMILY_HOSTS = (("http://static.datafoodconsortium.org/", "static"), ("http://w3id.org/dfc/", "2.0"),
                 ("https://w3id.org/dfc/", "2.0"), ("https://github.com/datafoodconsortium/", "1.x"))
_TYPE = RDF + "type"

# Literal units real senders write → the unit of the DFC measures taxonomy they mean.
UNITS = {"gbp": "PoundSterling", "£": "PoundSterling", "eur": "Euro", "€": "Euro", "usd": "USDollar",
         "$": "USDollar", "kg": "Kilogram", "g": "Gram", "l": "Litre", "piece": "Piece", "pc": "Piece"}
_NODE_EXAMPLES = {
    DFC_B + "hasQuantity": "QuantitativeValue",
    DFC_B + "hasPrice": "Price",
}
_STATES = {DFC_B + p for p in ("hasOrderStatus", "hasFulfilmentStatus", "hasPaymentStatus")}


def result(severity, focus, path, value, message, hint, code, pointer=None) -> Result:
    """Build one report result."""
    return Result(severity, focus, path, value, message, pointer=pointer, hint=hint, hint_code=code)


def text(term) -> str | None:
    """Write an RDF term as the report does: an IRI as itself, a blank node as `_:id`."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return term.value


# --- what normalisation corrected ---------------------------------------------------------------

def correction_findings(found: list[dict]) -> list[Result]:
    """Turn normalisation's per-triple corrections into Warnings with hints."""
    return [_correction(c["code"], c["triple"], c["replacement"]) for c in found]


def _correction(code: str, t: ox.Triple, replacement) -> Result:
    focus, path, value = text(t.subject), t.predicate.value, text(t.object)
    p = short(path)
    if code in ("typo-term", "renamed-term"):
        sent = t.object.value if path == _TYPE else path      # a class, or a property
        what = "a misspelling" if code == "typo-term" else "an old name"
        # No DFC release defines a misspelling: other platforms cannot read it.
        severity = "Violation" if code == "typo-term" else "Warning"
        return result(severity, focus, path, value, f"{short(sent)} is not a DFC term: it is {what} of "
                      f"{short(replacement.value)}",
                      f"Did you mean {short(replacement.value)}? This server reads {short(sent)} so, "
                      "other DFC platforms will not.", code)
    if code == "sender-term":              # a platform's own term, read as DFC's
        return result("Warning", focus, path, value, f"{p} is not a DFC term",
                      f"The DFC term is {short(replacement.value)}: this server reads {p} so, other "
                      "platforms may not.", code)
    if code == "other-version-term":       # a 2.0 term in a payload of another release
        return result("Warning", focus, path, value, f"{short(t.object.value if path == _TYPE else path)} "
                      "exists only in DFC 2.0", f"It is a term of another DFC release; DFC 1.16 says "
                      f"{short(replacement.value)}. Send the terms of the release your @context names.", code)
    if code == "number-as-string":
        return result("Warning", focus, path, value, f"{p} is the string \"{value}\", not a number",
                      f"Send the JSON number {replacement.value} without quotes: the DFC context does not "
                      "type numbers, so other platforms read a string.", code)
    if code == "js-date":
        return result("Warning", focus, path, value, f"{p} \"{value}\" is a JavaScript date string",
                      f"Send an ISO 8601 date-time: \"{replacement.value}\".", code)
    if code == "boolean-as-string":
        return result("Warning", focus, path, value, f"{p} is the string \"{value}\", not a boolean",
                      "Send the JSON literal true or false without quotes.", code)
    if code == "empty-value":
        return result("Warning", focus, path, value, f"{p} is an empty string; it was ignored",
                      "Leave the property out when there is no value: an empty string is not one.", code)
    if code == "reference-as-string":
        return result("Warning", focus, path, value, f"{p} names a resource as a plain string",
                      f"Write the reference as {{\"@id\": \"{value}\"}}: a context that does not declare "
                      f"{p} as a reference reads the string as text.", code)
    if code == "literal-price":
        return result("Warning", focus, path, value, "dfc-b:hasPrice is a bare number, not a Price",
                      f"Send a Price node: {{\"@type\": \"dfc-b:Price\", \"dfc-b:value\": {value}, "
                      "\"dfc-b:hasUnit\": {\"@id\": \"dfc-m:Euro\"}}.", code)
    raise ValueError(f"no hint for the correction {code!r}")


# --- the terms it used --------------------------------------------------------------------------

def term_findings(triples, version: str, family: str | None) -> list[Result]:
    """Findings on DFC terms that are not current 1.16 terms, or used as the wrong kind."""
    terms, out, seen = dfc_terms(), [], set()
    for t in triples:
        if t.predicate.value == _TYPE:
            iri, kind, path = t.object.value if isinstance(t.object, ox.NamedNode) else "", "class", _TYPE
        else:
            iri, kind, path = t.predicate.value, "property", t.predicate.value
        if not is_dfc_term(iri) or (t.subject, iri) in seen:
            continue
        seen.add((t.subject, iri))
        found = _term_finding(terms, iri, kind, version, family)
        if found:
            severity, message, hint, code = found
            out.append(result(severity, text(t.subject), path, text(t.object), message, hint, code))
    return out


def _term_finding(terms, iri: str, kind: str, version: str, family: str | None):
    name, actual = short(iri), terms.kind(iri)
    if actual is not None:
        if (actual == "class") != (kind == "class"):
            return _wrong_kind(terms, iri, kind)
        old = terms.deprecated(iri)
        if old:
            instead = f"Use {short(old['use'])} (since {old['since']})" if old["use"] else "Avoid it"
            why = f": {old['why']}" if old.get("why") else ""
            return ("Warning", f"{name} is deprecated in DFC 1.16", f"{instead}{why}.", "deprecated-term")
        return None
    other = terms.other_version(iri)
    if other:
        release = other["in"]
        if release == "2.0" and family == "2.0":
            return None                # a 2.0 term in a 2.0 payload: current for its sender
        severity = "Info" if _in_release(release, version, family) else "Warning"
        instead = f"; DFC 1.16 says {short(other['use'])}" if other["use"] else "; DFC 1.16 has no such term"
        return (severity, f"{name} exists only in DFC {release}",
                f"It is a term of another DFC release{instead}. Send the terms of the release "
                "your @context names.", "other-version-term")
    sender = terms.sender_term(iri)
    if sender:
        return ("Warning", f"{name} is not a DFC term",
                f"The DFC term is {short(sender['use'])}: {sender['why']}; other platforms may not.",
                "sender-term")
    guess = terms.suggest(iri, kind)
    hint = (f"Did you mean {short(guess)}?" if guess else
            "Check the spelling against the DFC ontology 1.16; other platforms will ignore it.")
    return ("Violation", f"{name} is not a term of any DFC release", hint, "unknown-term")


def _wrong_kind(terms, iri: str, kind: str):
    name, local = short(iri), iri.rpartition("#")[2]
    if kind == "property":          # a class used as a property: dfc-b:Price → dfc-b:hasPrice
        ns = iri[: -len(local)]
        prop = ns + "has" + local
        hint = (f"{name} is a class; the property is {short(prop)}." if terms.kind(prop) in ("object", "datatype")
                else f"{name} is a class: it goes in @type, not as a key.")
        return ("Warning", f"{name} is a class, used as a property", hint, "class-as-property")
    return ("Warning", f"{name} is a property, used as a @type",
            f"{name} is a property: use it as a key; @type takes a class.", "property-as-class")


def _in_release(release: str, version: str, family: str | None) -> bool:
    """Tell whether the payload's release is one the term belongs to (≤1.7, or a range like 1.9.0–1.10.0)."""
    if release.startswith("≤"):
        return family == "static"
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        return False                   # "1.8–1.16": the context does not say which release
    low, _, high = release.partition("–")
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    return as_tuple(low) <= as_tuple(version) <= as_tuple(high or low)


# --- values of the wrong kind ----------------------------------------------------------------

def value_findings(triples, base: str) -> list[Result]:
    """References given as text (object property with a literal) and nodes given to literal properties.

    A context that reads a property as a reference turns the text "GBP" into an IRI relative to
    the payload (`base`): such an IRI that names no node of the payload was text too.
    """
    terms, out = dfc_terms(), []
    subjects = {t.subject for t in triples}
    for t in triples:
        kind, o = terms.kind(t.predicate.value), t.object
        if kind == "object" and isinstance(o, ox.NamedNode) and o.value.startswith(base) and o not in subjects:
            sent = o.value[len(base):]
        elif kind == "object" and isinstance(o, ox.Literal):
            sent = o.value
        else:
            if kind == "datatype" and not isinstance(o, ox.Literal):
                out.append(result("Warning", text(t.subject), t.predicate.value, text(o),
                                  f"{short(t.predicate.value)} takes a value, not a node",
                                  f"Send {short(t.predicate.value)} as a plain value (a number, text or date).",
                                  "node-for-literal"))
            continue
        out.append(result("Warning", text(t.subject), t.predicate.value, text(o),
                          f"{short(t.predicate.value)} links to a resource but was given the text \"{sent}\"",
                          literal_hint(t.predicate.value, sent), "literal-for-object"))
    return out


def literal_hint(path: str, value: str) -> str:
    """How to give as a reference what was sent as text."""
    p = short(path)
    if path == DFC_B + "hasUnit":
        unit = UNITS.get(value.strip().lower())
        if unit:
            return f"Give a unit of the DFC measures taxonomy as a reference: {{\"@id\": \"dfc-m:{unit}\"}}."
        return ("Give a unit of the DFC measures taxonomy as a reference, e.g. {\"@id\": \"dfc-m:Piece\"}; "
                f"\"{value}\" is not one.")
    if path in _NODE_EXAMPLES and decimal_literal(value) is not None:
        cls = _NODE_EXAMPLES[path]
        return (f"{p} takes a {cls} node: {{\"@type\": \"dfc-b:{cls}\", \"dfc-b:value\": {value}, "
                "\"dfc-b:hasUnit\": {\"@id\": \"dfc-m:…\"}}.")
    if path in _STATES:
        return "Give a state of the DFC vocabulary as a reference, e.g. {\"@id\": \"dfc-v:Held\"}."
    return f"{p} links to another resource: give its IRI as {{\"@id\": \"https://…\"}}, not text."


# --- its JSON -----------------------------------------------------------------------------------

_CONTAINERS = ("@graph", "@list", "@set", "@included", "@reverse", "@nest")


def document_findings(document, base: str | None) -> list[Result]:
    """Keys JSON-LD silently drops (no term of the @context) and repeated @types."""
    out: list[Result] = []
    if document is not None:
        _walk(document, frozenset(), "", base, out)
    return out


def _walk(node, terms: frozenset, pointer: str, base, out: list) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, terms, f"{pointer}/{i}", base, out)
        return
    if not isinstance(node, dict) or "@value" in node:
        return
    if "@context" in node:
        terms = _context_terms(node["@context"], terms)
    focus = urljoin(base or "", node["@id"]) if isinstance(node.get("@id"), str) else None
    for key, value in node.items():
        where = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
        if key == "@type" and isinstance(value, list) and len(set(map(str, value))) < len(value):
            out.append(result(
                "Warning", focus, _TYPE, ", ".join(map(str, value)), "the same @type is given more than once",
                f"Give each type once: \"@type\": {json.dumps(sorted(set(map(str, value))))}.",
                "repeated-type", pointer=where))
        elif key in _CONTAINERS:
            _walk(value, terms, where, base, out)
        elif not key.startswith("@"):
            problem = _key_problem(key, terms)
            if problem is None:
                _walk(value, terms, where, base, out)
            elif problem == "dropped-key":
                out.append(result("Warning", focus, None, key, f"the key \"{key}\" is not a term of the "
                                  "@context: JSON-LD drops it and everything under it",
                                  _dropped_hint(key), problem, pointer=where))
            else:
                prefix = key.partition(":")[0]
                out.append(result("Warning", focus, key, key, f"the prefix \"{prefix}:\" is not defined "
                                  f"in the @context: the key is read as the IRI <{key}>",
                                  f"Define \"{prefix}\" in your @context, e.g. [\"https://www.datafoodconsortium"
                                  f".org\", {{\"{prefix}\": \"https://…#\"}}], or leave the key out.",
                                  problem, pointer=where))


def _context_terms(context, terms: frozenset) -> frozenset:
    if context is None:
        return frozenset()
    if isinstance(context, list):
        for c in context:
            terms = _context_terms(c, terms)
        return terms
    if isinstance(context, dict):
        return terms | {k for k in context if not k.startswith("@") or k == "@vocab"}
    return terms


def _key_problem(key: str, terms: frozenset) -> str | None:
    """None for a key JSON-LD reads as meant; else why not."""
    if key in terms or "@vocab" in terms:
        return None
    prefix, colon, rest = key.partition(":")
    if not colon:
        return "dropped-key"
    if prefix in terms or rest.startswith("//") or prefix in ("urn", "_", "http", "https"):
        return None
    return "undefined-prefix"        # read as an absolute IRI whose scheme is the prefix


def _dropped_hint(key: str) -> str:
    terms = dfc_terms()
    candidate = DFC_B + key.rpartition(":")[2]
    if terms.kind(candidate):
        return f"Did you mean \"{short(candidate)}\"? Keys need the dfc-b: prefix."
    guess = terms.suggest(candidate, "class" if key[:1].isupper() else "property")
    if guess:
        return f"Did you mean \"{short(guess)}\"? Keys need a prefix of the @context, such as dfc-b:."
    return "Prefix it with a prefix of the @context (dfc-b:…) or leave it out."


# --- the DFC release ----------------------------------------------------------------------------

def detect_version(raw, versions: set[str]) -> tuple[str, str | None, list[Result]]:
    """Return (version label, namespace family, findings) from the @context URLs and namespaces.

    The release the @context names wins; without one, the namespaces most terms use. IRIs of
    another release's namespaces are reported, one example each.
    """
    seen: dict[str, list] = {}          # family → [count, an example IRI]
    for t in raw:
        for term in (t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                family = _family_of_iri(term.value)
                if family:
                    seen.setdefault(family, [0, term.value])[0] += 1
    exact = {v for v in versions if re.fullmatch(r"\d+\.\d+\.\d+", v)}
    named = {family_of_version(v) for v in exact} | {f for f, label in _FAMILY_LABEL.items() if label in versions}
    if len(named) == 1:
        family = next(iter(named))
    elif seen:
        family = max(seen, key=lambda f: seen[f][0])
    else:
        return "unknown", None, []
    mine = {v for v in exact if family_of_version(v) == family}
    label = mine.pop() if len(mine) == 1 else _FAMILY_LABEL[family]
    findings = [result("Warning", None, None, example, f"{short(example)} is an IRI of DFC "
                       f"{_FAMILY_LABEL[other]}, in a DFC {label} payload",
                       "Use one @context and the namespaces of its release only"
                       + ("; the 1.8+ units are in the measures taxonomy (dfc-m:)." if "units.rdf" in example
                          else "."), "mixed-versions")
                for other, (_count, example) in sorted(seen.items()) if other != family]
    if family == "static":
        findings.append(result(
            "Info", None, None, "http://static.datafoodconsortium.org/", "the payload uses the DFC ≤1.7 "
            "namespaces (static.datafoodconsortium.org)",
            "DFC 1.8 moved to new namespaces: use the @context https://www.datafoodconsortium.org. "
            "This server reads ≤1.7 terms as their 1.16 equivalents.", "legacy-version"))
    return label, family, findings


def _family_of_iri(iri: str) -> str | None:
    for host, family in _FAMILY_HOSTS:
        if iri.startswith(host):
            return family
    return None


__all__ = ["correction_findings", "term_findings", "value_findings", "document_findings",
           "detect_version", "literal_hint", "result", "text", "UNITS"]
