"""Content negotiation in one place: media type → serialiser, and reading request bodies."""
from __future__ import annotations

import re

from flask import Response, request

from app.api.context import base_url, services
from app.domain import versions
from app.errors import NotAcceptable, UnsupportedMediaType
from app.rdf import ACCEPTED_TYPES, Payload, read_payload
from app.rdf.answer_context import own_contexts
from app.rdf.render import to_jsonld, to_ntriples, to_rdfxml, to_turtle

# Every resource in each of these (JSON-LD first: what a client asking for anything gets).
SERIALISERS = {
    "application/ld+json": to_jsonld,
    "application/json": to_jsonld,
    "text/turtle": to_turtle,
    "application/n-triples": to_ntriples,
    "application/rdf+xml": to_rdfxml,
}
_V2_PROFILE = re.compile(r'profile="?[^",;]*(dfc-v2|context_2\.|/v2)', re.I)


def family() -> str:
    """The DFC namespace family the client asked for (a dfc-v2 profile selects 2.0)."""
    return "2.0" if _V2_PROFILE.search(request.headers.get("Accept", "")) else "1.x"


def best_media_type(accept: str | None, offered: list[str]) -> str | None:
    """Pick the offered media type the Accept header prefers (parameters like profile ignored)."""
    if not accept or not accept.strip():
        return offered[0]
    best, best_q = None, 0.0
    for position, entry in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in entry.split(";")]
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        for candidate in offered:
            if media in (candidate, "*/*") or (media.endswith("/*") and candidate.startswith(media[:-1])):
                # Earlier entries win ties; an exact match beats a wildcard of the same q.
                score = q - position * 1e-6 - (1e-3 if "*" in media else 0)
                if q > 0 and score > best_q:
                    best, best_q = candidate, score
                break
    return best


def answer_type() -> str:
    """The media type of the answer the Accept header allows; 406 where none fits.

    Writes call it before they write (read_body does): a 406 after the write would leave a
    change behind a request that failed. (A graph with no form in that type is found only once
    it is written: rdf_response then answers in the default type.)
    """
    media = best_media_type(request.headers.get("Accept"), list(SERIALISERS))
    if media is None:
        raise NotAcceptable(f"this resource is available as {', '.join(SERIALISERS)}",
                            available=list(SERIALISERS))
    return media


def rdf_response(triples, status: int = 200, headers: dict | None = None) -> Response:
    """Render triples in the representation the request's Accept header prefers.

    An ETag in `headers` is the content's: the answer carries the representation's (versions.py),
    and a GET whose If-None-Match names it gets 304, without the document rendered again.
    """
    media, fam = answer_type(), family()
    headers = dict(headers or {})
    content_etag = headers.get("ETag")
    if "ETag" in headers:
        headers["ETag"] = versions.representation_etag(content_etag, media, fam)
        if status == 200 and request.method in ("GET", "HEAD") \
                and versions.none_match(request.headers.get("If-None-Match"), headers["ETag"]):
            response = Response(status=304, headers={"ETag": headers["ETag"]})
            response.vary.add("Accept")
            return response
    try:
        body = SERIALISERS[media](triples, fam, base_url())
    except NotAcceptable:
        if request.method in ("GET", "HEAD"):
            raise
        # The write is done: a 406 now would report a change as failed. What was written has no
        # form in the type asked for (RDF/XML cannot write every graph), so the answer disregards
        # Accept, as RFC 9110 §12.5.1 lets a server do, and comes in the default type.
        media = next(iter(SERIALISERS))
        if "ETag" in headers:
            headers["ETag"] = versions.representation_etag(content_etag, media, fam)
        body = SERIALISERS[media](triples, fam, base_url())
    response = Response(body, status=status, headers=headers, mimetype=media)
    response.vary.add("Accept")
    return response


def body_type() -> str:
    """The media type of the request body, one the hub reads as RDF; 415 otherwise."""
    media = (request.mimetype or "").lower()
    if media not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(f"send one of {', '.join(ACCEPTED_TYPES)}"
                                   + (f", not {media}" if media else " with a Content-Type"))
    return media


def read_body(base_iri: str, screen=None) -> Payload:
    """Read the request body as RDF, validate it against the shapes, refuse violations (422).

    `screen`, given the triples, may refuse them first (a size limit, before validation's cost).
    """
    answer_type()
    media = body_type()
    h = services()
    payload = read_payload(request.get_data(cache=False), media, base_iri, h.settings.max_json_depth,
                           own_contexts(h.settings.public_base_url), h.settings.public_base_url + "/api/dfc/")
    if screen is not None:
        screen(payload.triples)
    h.validator.require(payload.triples)
    return payload
