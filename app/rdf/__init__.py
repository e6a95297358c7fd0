"""RDF in and out: read any accepted payload into canonical triples; write them back.

    read_payload(body, media_type, base_iri) -> Payload   JSON-LD, Turtle or N-Triples
    parse_body(body, media_type, base_iri) -> raw triples, context versions, decoded JSON
    render(triples, media_type, ...) -> bytes             see app.rdf.render
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pyoxigraph as ox
from pyoxigraph import Triple

from app.errors import BadRequest, UnsupportedMediaType
from app.rdf.checks import refuse_dropped_iris, refuse_ill_typed, refuse_lost_languages
from app.rdf.contexts import inline_contexts, trim_contexts
from app.rdf.normalise import normalise
from app.rdf.triples import quoted_triple

JSONLD_TYPES = ("application/ld+json", "application/json")
TURTLE_TYPES = ("text/turtle", "application/x-turtle")
NTRIPLES_TYPES = ("application/n-triples",)
ACCEPTED_TYPES = JSONLD_TYPES + TURTLE_TYPES + NTRIPLES_TYPES


@dataclasses.dataclass
class Payload:
    """A request body read into canonical triples."""
    triples: list[Triple]
    versions: set[str]                  # DFC versions named by its contexts
    notes: list[dict]                   # what normalisation corrected
    document: object = None             # the decoded JSON, for JSON-LD bodies


def read_json(body: bytes, max_depth: int = 64):
    """Decode a JSON body, refusing what is not JSON or nests deeper than `max_depth`."""
    try:
        doc = json.loads(body)
    except RecursionError:
        raise BadRequest(f"the JSON nests deeper than {max_depth} levels", pointer="/") from None
    except (UnicodeDecodeError, ValueError) as e:
        where = {"line": e.lineno, "column": e.colno} if isinstance(e, json.JSONDecodeError) else {}
        raise BadRequest(f"the body is not JSON: {e}", **where) from None
    _check_depth(doc, max_depth)
    return doc


def _check_depth(doc, max_depth: int) -> None:
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise BadRequest(f"the JSON nests deeper than {max_depth} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def no_triples(document=None) -> BadRequest:
    """The error of a body that states nothing in RDF; `document`, a JSON body's, or None for Turtle or N-Triples."""
    if document is None:
        return BadRequest("the body states no triples")
    nodes = document if isinstance(document, list) else [document]
    if not any(isinstance(n, dict) and "@context" in n for n in nodes):
        return BadRequest("the body is JSON but not JSON-LD: it has no @context and states no "
                          "triples (keys must be terms of a context or absolute IRIs)")
    if isinstance(document, dict) and document.get("@graph") == []:
        return BadRequest("the body states no triples: its @graph is empty", pointer="/@graph")
    return BadRequest("the body states no triples: no node in it has a @type or a property that its "
                      "@context defines (keys must be terms of the context or absolute IRIs)")


def parse_jsonld(doc, base_iri: str | None, allow_empty: bool = False,
                 own: Mapping[str, dict] | None = None) -> tuple[list[Triple], set[str]]:
    """Parse decoded JSON-LD offline into raw (not yet normalised) triples.

    `own`: this server's own context URLs and their contexts (app.rdf.answer_context.own_contexts).
    """
    if not isinstance(doc, (dict, list)):
        raise BadRequest("the body is JSON but not JSON-LD: expected an object or an array")
    versions = inline_contexts(doc, own)
    trim_contexts(doc)
    try:
        quads = ox.parse(json.dumps(doc), format=ox.RdfFormat.JSON_LD, base_iri=base_iri,
                         rename_blank_nodes=True)
        triples = [q.triple for q in quads]
    except SyntaxError as e:
        raise BadRequest(f"the body is not valid JSON-LD: {e}") from None
    if not triples and not allow_empty:
        raise no_triples(doc)
    return triples, versions


def parse_body(body: bytes, media_type: str, base_iri: str | None, max_depth: int = 64,
               allow_empty: bool = False, own: Mapping[str, dict] | None = None,
               ) -> tuple[list[Triple], set[str], object]:
    """Parse a body of an accepted media type into raw triples, context versions and its JSON.

    `allow_empty` lets a JSON-LD body that yields no triple through (the validator explains why);
    `own`: this server's own context URLs (see parse_jsonld).
    """
    media_type = (media_type or "application/ld+json").split(";")[0].strip().lower()
    if media_type in JSONLD_TYPES:
        document = read_json(body, max_depth)
        raw, versions = parse_jsonld(document, base_iri, allow_empty, own)
        return raw, versions, document
    if media_type in TURTLE_TYPES + NTRIPLES_TYPES:
        fmt = ox.RdfFormat.TURTLE if media_type in TURTLE_TYPES else ox.RdfFormat.N_TRIPLES
        try:
            raw = [q.triple for q in ox.parse(body, format=fmt, base_iri=base_iri,
                                              rename_blank_nodes=True)]
        except SyntaxError as e:
            raise BadRequest(f"the body is not valid {media_type}: {e}") from None
        _refuse_triple_terms(raw)
        return raw, set(), None
    raise UnsupportedMediaType(f"send one of {', '.join(ACCEPTED_TYPES)}, not {media_type}")


def _refuse_triple_terms(triples: list[Triple]) -> None:
    """Refuse (400) a quoted triple (RDF 1.2 `<<( … )>>`, RDF-star `<< … >>`): DFC data has none,
    and nothing the server writes (JSON-LD, RDF/XML, its checks) can carry one."""
    if (term := quoted_triple(triples)) is not None:
        raise BadRequest(f"the body holds a quoted triple ({term}): DFC data has no use for one, "
                         "and this server does not store them")


def read_payload(body: bytes, media_type: str, base_iri: str | None, max_depth: int = 64,
                 own: Mapping[str, dict] | None = None, api_base: str | None = None) -> Payload:
    """Read a request body of an accepted media type into a normalised Payload.

    `own`: this server's own context URLs (see parse_jsonld). Refuses (422) what the store must
    not keep: IRIs a JSON-LD reader would drop, ill-typed literals, dot segments, encoded
    slashes in IRIs under `api_base` (app.rdf.checks).
    """
    raw, versions, document = parse_body(body, media_type, base_iri, max_depth, own=own)
    if document is not None:
        refuse_dropped_iris(document, base_iri)
        refuse_lost_languages(document)
    triples, notes = normalise(raw)
    refuse_ill_typed(triples, api_base)
    return Payload(triples, versions, notes, document)
