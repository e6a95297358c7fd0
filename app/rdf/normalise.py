"""Liberal reading, canonical storage: namespaces, renamed terms and literal forms.

Every DFC namespace variant becomes the canonical one (app.namespaces); known typos and
renamed terms become the current term; numbers, dates and booleans sent as strings become
typed literals. Each correction is reported as a note, so clients can learn of it.
"""
from __future__ import annotations

import re

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.rdf import vocabulary
from app.namespaces import DFC_B, FAMILIES, RDF_TYPE, XSD
from app.rdf.contexts import object_properties
from app.rdf.terms import JS_DATE, datetime_literal, decimal_literal, parse_datetime

_CANON = FAMILIES["1.x"]
# Variant namespace → canonical namespace, longest first so the most specific wins.
_VARIANTS = {}
for _family in ("2.0", "static"):
    for _prefix, _iri in FAMILIES[_family].items():
        _VARIANTS[_iri] = _CANON[_prefix]
        if _iri.startswith("http://w3id.org/"):
            _VARIANTS["https://" + _iri[len("http://"):]] = _CANON[_prefix]
# The DFC 2.0 LinkML schema (and the SHACL made from it) leaves the release out of its namespaces.
for _prefix, _path in (("dfc-b", "ontology/src/DFC_BusinessOntology.owl#"),
                       ("dfc-t", "ontology/src/DFC_TechnicalOntology.owl#"),
                       *((p, f"taxonomies/{name}.rdf#") for p, name in (
                           ("dfc-m", "measures"), ("dfc-pt", "productTypes"), ("dfc-f", "facets"),
                           ("dfc-v", "vocabulary")))):
    for _scheme in ("http://", "https://"):
        _VARIANTS[_scheme + "w3id.org/dfc/" + _path] = _CANON[_prefix]
# Releases up to 1.5 bound dfc-b to the full model file.
_VARIANTS["http://static.datafoodconsortium.org/ontologies/dfc_FullModel.owl#"] = DFC_B
_VARIANT_RE = re.compile("|".join(re.escape(k) for k in sorted(_VARIANTS, key=len, reverse=True)))
_VARIANT_HOSTS = ("http://static.datafoodconsortium.org/", "http://w3id.org/dfc/", "https://w3id.org/dfc/")

# Terms real senders use that the ontology names otherwise: (wrong local name) → right one.
RENAMED = {
    "Entreprise": ("Enterprise", "typo"),
    "QuantitiveValue": ("QuantitativeValue", "typo"),
    "hasAdress": ("hasAddress", "typo"),
    "OrderedBy": ("orderedBy", "typo"),
    "hasPaymentState": ("hasPaymentStatus", "renamed"),
    "hasOrderState": ("hasOrderStatus", "renamed"),
    "hasFulfilmentState": ("hasFulfilmentStatus", "renamed"),
    "beginDate": ("startDate", "renamed"),
    # DFC 2.0 renamed Enterprise: stored as the 1.x class, written back as 2.0's to 2.0 clients.
    "Organization": ("Enterprise", "other-version"),
}
_RENAMED_IRIS = {NamedNode(DFC_B + k): NamedNode(DFC_B + v) for k, (v, _) in RENAMED.items()}

# Typed literal terms: DFC's listed here, ours by their rdfs:range in ontology/hub.ttl.
_OURS = vocabulary.OURS
NUMERIC = {DFC_B + p for p in (
    "value", "stockLimitation", "quantity", "VATrate", "discount", "latitude", "longitude",
    "minValue", "maxValue", "cost", "fee", "marginPercent", "totalTheoriticalStock",
    "hasPercentageOfAlcoholByVolume")} | _OURS.with_range(XSD + "decimal", stored=True)
DATES = {DFC_B + p for p in (
    "startDate", "endDate", "date", "expiryDate", "bestBeforeDate", "productionDate")} \
    | _OURS.with_range(XSD + "dateTime", stored=True)
BOOLEANS = {DFC_B + p for p in ("frozen", "refrigerated")} | _OURS.with_range(XSD + "boolean", stored=True)
_TYPED = NUMERIC | DATES | BOOLEANS

_ABSOLUTE = re.compile(r"^\s*https?://[^\s<>\"{}|\\^`]+\s*$")
OBJECT_PROPERTIES = object_properties()

_HAS_PRICE, _PRICE, _VALUE = (NamedNode(DFC_B + x) for x in ("hasPrice", "Price", "value"))
# No DFC release defines dfc-b:offeredItem (the FDC apps send it, the DFC connector too): it is
# read as DFC's dfc-b:offers, or, on an offer that names its catalogue item with offers already
# (FDC's link to the product beside it), as our hub:offeredItem. What we answer is then DFC's.
_OFFERED_ITEM, _OFFERS = NamedNode(DFC_B + "offeredItem"), NamedNode(DFC_B + "offers")
_HUB_OFFERED_ITEM = NamedNode("https://w3id.org/dfc-order-hub/ns#offeredItem")
_BOOLEAN = NamedNode(XSD + "boolean")


def _as_reference(text: str) -> NamedNode | None:
    """The IRI a string names: absolute, or a prefixed name of ours (`dfc-v:Held`)."""
    text = text.strip()
    if _ABSOLUTE.match(text):
        return NamedNode(text)
    prefix, colon, local = text.partition(":")
    if colon and prefix in _CANON and local and " " not in local:
        return NamedNode(_CANON[prefix] + local)
    return None


def canonical_iri(node):
    """Return the canonical form of an IRI term (other terms unchanged)."""
    if not isinstance(node, NamedNode):
        return node
    value = node.value
    if value.startswith(_VARIANT_HOSTS):
        m = _VARIANT_RE.match(value)
        if m:
            node = NamedNode(_VARIANTS[m.group(0)] + value[m.end():])
    return _RENAMED_IRIS.get(node, node)


def _literal(predicate: str, obj: Literal) -> Literal | None:
    """Canonical literal for a typed DFC property; None drops an empty value."""
    if obj.language or obj.datatype.value not in (XSD + "string", XSD + "integer", XSD + "double",
                                                   XSD + "decimal", XSD + "float", XSD + "boolean",
                                                   XSD + "dateTime", XSD + "date"):
        return obj
    if obj.value.strip() == "":
        return None
    if predicate in NUMERIC:
        read = decimal_literal(obj.value)
        # Read generously (JSON-LD writes the number 1.2 under a decimal coercion as "1.2E0"), but
        # a number typed as an integer must be whole: 5.5 stays as sent, and checks.py refuses it.
        if read is not None and "." in read.value and obj.datatype.value == XSD + "integer":
            return obj
        return read or obj
    if predicate in DATES:
        when = parse_datetime(obj.value)
        return datetime_literal(when) if when else obj
    if predicate in BOOLEANS and obj.value.lower() in ("true", "false", "1", "0"):
        return Literal("true" if obj.value.lower() in ("true", "1") else "false", datatype=_BOOLEAN)
    return obj


def normalise(triples, found: list | None = None) -> tuple[list[Triple], list[dict]]:
    """Return canonical triples (duplicates removed) and notes on what was corrected.

    With a `found` list, every correction is also appended to it, triple by triple, as
    {code, triple (as sent), replacement}: the conformance report tells the sender where.
    """
    out: dict[Triple, None] = {}
    notes: dict[str, dict] = {}
    report = found.append if found is not None else None
    triples = list(triples)
    with_offers = {canonical_iri(t.subject) for t in triples if canonical_iri(t.predicate) == _OFFERS}
    for t in triples:
        s, p, o = canonical_iri(t.subject), canonical_iri(t.predicate), t.object
        if p == _OFFERED_ITEM:
            p = _HUB_OFFERED_ITEM if s in with_offers else _OFFERS
            if isinstance(o, Literal) and _as_reference(o.value):
                o = _as_reference(o.value)      # a reference the sender's context left a string
            if report:
                report({"code": "sender-term", "triple": t, "replacement": p})
        if isinstance(o, NamedNode):
            o = canonical_iri(o)
        elif isinstance(o, Literal) and p.value in OBJECT_PROPERTIES and _as_reference(o.value):
            # A reference sent as a plain string where no context made it an IRI.
            o = canonical_iri(_as_reference(o.value))
            if report:
                report({"code": "reference-as-string", "triple": t, "replacement": o})
        elif isinstance(o, Literal) and p.value in _TYPED:
            sent, o = o, _literal(p.value, o)
            if o is None:
                notes.setdefault("empty:" + p.value, {
                    "code": "empty-value", "term": p.value,
                    "message": f"empty value of {_short(p.value)} ignored"})
                if report:
                    report({"code": "empty-value", "triple": t, "replacement": None})
                continue
            if report and o != sent and sent.datatype.value == XSD + "string":
                code = _string_code(p.value, sent.value)
                if code:
                    report({"code": code, "triple": t, "replacement": o})
        for before, after in ((t.predicate, p), (t.object, o)):
            if isinstance(before, NamedNode) and before != after and before.value.startswith(DFC_B) \
                    and before.value[len(DFC_B):] in RENAMED:
                local = before.value[len(DFC_B):]
                notes.setdefault("renamed:" + local, {
                    "code": f"{RENAMED[local][1]}-term", "term": before.value,
                    "message": f"dfc-b:{local} read as {_short(after.value)}"})
                if report:
                    report({"code": f"{RENAMED[local][1]}-term", "triple": t, "replacement": after})
        if p == _HAS_PRICE and isinstance(o, Literal) and decimal_literal(o.value) is not None:
            # OFN's offers API takes a bare number as the price: make it the Price node DFC expects.
            price = BlankNode()
            for extra in ((s, p, price), (price, RDF_TYPE, _PRICE), (price, _VALUE, decimal_literal(o.value))):
                out[Triple(*extra)] = None
            notes.setdefault("price:" + p.value, {
                "code": "literal-price", "term": p.value,
                "message": "a number given as dfc-b:hasPrice was read as a dfc-b:Price with that value"})
            if report:
                report({"code": "literal-price", "triple": t, "replacement": price})
            continue
        out[Triple(s, p, o)] = None
    return list(out), list(notes.values())


def _string_code(predicate: str, text: str) -> str | None:
    """Name the kind of typed value a sender wrote as a string (None: the usual way to write it)."""
    if predicate in NUMERIC:
        return "number-as-string"
    if predicate in DATES:
        # ISO 8601 strings are how DFC JSON-LD writes dates (its context types none): not a finding.
        return "js-date" if JS_DATE.match(text.strip()) else None
    return "boolean-as-string"


def _short(iri: str) -> str:
    return "dfc-b:" + iri[len(DFC_B):] if iri.startswith(DFC_B) else iri


__all__ = ["normalise", "canonical_iri", "RENAMED", "NUMERIC", "DATES", "BOOLEANS"]
