"""The contexts our JSON-LD answers name: the DFC context first, then ours.

The official DFC context does not define our `hub:` prefix, reads some references as plain
strings (`dfc-b:offeredItem`) and types no number or date. Our context, second and inline (an
object, trimmed to the terms the answer uses), completes it, so that a JSON-LD processor that has
only the DFC context preloaded expands an answer, fetching nothing, to the graph our Turtle answer
gives. The same context stays served at `{PUBLIC_BASE_URL}/api/contexts/hub.jsonld`
(`hub-2.0.jsonld` for the 2.0 profile) for clients that name it. It restates every DFC prefix too: an answer means the same
whichever DFC release a client resolves `https://www.datafoodconsortium.org` to. A client that
sends it back has it resolved offline, like the DFC contexts.

Numbers (docs/jsonld.md): our context types every numeric term `xsd:decimal`. Whole numbers are
written as JSON numbers (under that type, `6` is exactly `"6"^^xsd:decimal`); other numbers as
strings holding the exact decimal (`"18.85"`), because every JSON-LD processor reads a JSON
fraction as an `xsd:double`. DFC platforms already send and read numbers both ways.
"""
from __future__ import annotations

import functools

from app.rdf import vocabulary
from app.namespaces import LDP, PREFIXES, SH, XSD
from app.rdf.contexts import DEFAULT_CONTEXT_URL, V2_CONTEXT_URL, local_context, object_properties
from app.rdf.normalise import DATES, NUMERIC

PATHS = {"1.x": "/api/contexts/hub.jsonld", "2.0": "/api/contexts/hub-2.0.jsonld"}
DFC_URLS = {"1.x": DEFAULT_CONTEXT_URL, "2.0": V2_CONTEXT_URL}
_TYPED_RANGES = (XSD + "decimal", XSD + "dateTime", XSD + "date")


def url(base_url: str, family: str = "1.x") -> str:
    """The URL of our context for a namespace family, under this server's PUBLIC_BASE_URL."""
    return base_url.rstrip("/") + PATHS[family]


def names(family: str = "1.x") -> list:
    """The `@context` of an answer: the DFC context URL first, then ours inline.

    Ours is the shared object, not a copy: the writer trims it into a new dict
    (app/rdf/contexts.py trim_contexts), which finds its layout remembered by identity."""
    return [DFC_URLS[family], served(family)]


@functools.cache
def reference_terms() -> frozenset[str]:
    """Canonical IRIs of the terms our context reads as references (`"@type": "@id"`)."""
    return object_properties() | {LDP + "contains"}


def own_contexts(base_url: str) -> dict[str, dict]:
    """Our context URLs on this server → the context each names (resolved offline when sent back)."""
    return {url(base_url, f): served(f) for f in PATHS}


@functools.cache
def typed_terms() -> dict[str, str]:
    """Canonical IRIs of the literal terms our context types → their datatype IRI."""
    out = {iri: XSD + "decimal" for iri in NUMERIC} | {iri: XSD + "dateTime" for iri in DATES}
    # Ours by their rdfs:range, those only answers carry (summaries) too.
    for datatype in _TYPED_RANGES:
        out |= dict.fromkeys(vocabulary.OURS.with_range(datatype), datatype)
    return out


@functools.cache
def served(family: str = "1.x") -> dict:
    """Our context for a namespace family: prefixes, references (`@id`) and typed literals."""
    # Prefixes of our own answers only (reports, containers): payloads that use them without
    # defining them name other IRIs, and the validator must still say so.
    ctx = {**local_context(family), "sh": SH, "ldp": LDP, "ldp:contains": {"@type": "@id"}}
    for iri, datatype in sorted(typed_terms().items()):
        ctx[_compact(iri)] = {"@type": _compact(datatype)}
    return ctx


def _compact(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri
