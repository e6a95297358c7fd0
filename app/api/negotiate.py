"""Content negotiation in one place: media type → serialiser, and reading request bodies."""
from __future__ import annotations

import re

from flask import Response, request

from app.api.context import hub
from app.errors import NotAcceptable, ShapeViolation, UnsupportedMediaType
from app.rdf import ACCEPTED_TYPES, Payload, read_payload
from app.rdf.render import to_jsonld, to_ntriples, to_turtle

SERIALISERS = {
    "application/ld+json": to_jsonld,
    "application/json": to_jsonld,
    "text/turtle": to_turtle,
    "application/n-triples": to_ntriples,
}
_V2_PROFILE = re.compile(r'profile="?[^",;]*(dfc-v2|context_2\.|/v2)', re.I)


def family() -> str:
    """The DFC namespace family the client asked for (a dfc-v2 profile selects 2.0)."""
    return "2.0" if _V2_PROFILE.search(request.headers.get("Accept", "")) else "1.x"


def rdf_response(triples, status: int = 200, headers: dict | None = None) -> Response:
    """Render triples in the representation the request's Accept header prefers."""
    if not request.accept_mimetypes or request.accept_mimetypes.best == "*/*":
        media = "application/ld+json"
    else:
        media = request.accept_mimetypes.best_match(list(SERIALISERS))
    if media is None:
        raise NotAcceptable(f"this resource is available as {', '.join(SERIALISERS)}",
                            available=list(SERIALISERS))
    body = SERIALISERS[media](triples, family())
    response = Response(body, status=status, headers=headers, mimetype=media)
    response.vary.add("Accept")
    return response


def read_body(base_iri: str) -> Payload:
    """Read the request body as RDF, validate it against the shapes, refuse violations (422)."""
    media = (request.mimetype or "").lower()
    if media not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(f"send one of {', '.join(ACCEPTED_TYPES)}"
                                   + (f", not {media}" if media else " with a Content-Type"))
    h = hub()
    payload = read_payload(request.get_data(cache=False), media, base_iri, h.settings.max_json_depth)
    report = h.validator.validate(payload.triples)
    if not report.conforms:
        raise ShapeViolation(f"{len(report.violations)} SHACL violation(s)",
                             violations=report.violations, warnings=report.warnings)
    return payload
