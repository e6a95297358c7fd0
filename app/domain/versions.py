"""A document's versions: its ETag, one per representation, and what a write expects to find.

The ETag names the document's content (its statements, a blank node by what it states), so the
answer to a write and a later GET agree, and a write compares it with what the store holds. Each
representation but JSON-LD of DFC 1.x adds a mark to it (`-ttl`, `-v2`, …): an HTTP cache that
holds the JSON-LD and the Turtle of one document must be able to tell them apart when it
revalidates them (RFC 9110 §8.8.3). A write's If-Match or If-None-Match may name any of them: a
client may read Turtle and write JSON-LD.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Callable

from pyoxigraph import BlankNode, NamedNode, Triple

from app.errors import Conflict, PreconditionFailed
from app.rdf.triples import subtree

# The mark of each representation (media type, DFC family) in its ETag.
MEDIA_MARKS = {"application/ld+json": "", "application/json": "json", "text/turtle": "ttl",
               "application/n-triples": "nt", "application/rdf+xml": "rdf"}


def etag(triples: list[Triple]) -> str:
    """A strong validator of a document's content."""
    labels = _blank_labels(triples)
    lines = sorted(f"{labels.get(t.subject, t.subject)} {t.predicate} {labels.get(t.object, t.object)}"
                   for t in triples)
    return '"' + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32] + '"'


def _blank_labels(triples: list[Triple]) -> dict[BlankNode, str]:
    """A name for each blank node from what it states (nested ones by theirs), never its label: the
    store gives a blank node a new label when it is written, and a POST's ETag must still match the
    document a GET reads back. Iterative, for documents nested thousands deep."""
    about: dict = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, BlankNode):
            about[t.subject].append(t)
    labels: dict = {}
    # A blank node that only stands as an object (`{}` in JSON-LD) states nothing: it gets its
    # (empty) entry here, not while the loop below walks the dictionary.
    for t in triples:
        if isinstance(t.object, BlankNode):
            about[t.object]
    for root in about:
        stack, open_ = [(root, False)], set()
        while stack:
            node, children_done = stack.pop()
            if node in labels:
                continue
            if children_done:
                open_.discard(node)
                parts = sorted(f"{t.predicate} {labels.get(t.object, '_:loop') if isinstance(t.object, BlankNode) else t.object}"
                               for t in about[node])
                labels[node] = "_:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]
                continue
            if node in open_:
                continue
            open_.add(node)
            stack.append((node, True))
            stack += [(t.object, False) for t in about[node]
                      if isinstance(t.object, BlankNode) and t.object not in labels and t.object not in open_]
    return labels


def representation_etag(content_tag: str, media: str, family: str) -> str:
    """The ETag of one representation of a document whose content's ETag is `content_tag`."""
    mark = "-".join(m for m in (MEDIA_MARKS.get(media, ""), "v2" if family == "2.0" else "") if m)
    return f'{content_tag[:-1]}-{mark}"' if mark else content_tag


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether a GET's If-None-Match names this representation (answer 304): weak comparison."""
    if if_none_match is None:
        return False
    tags = _entity_tags(if_none_match)
    return "*" in tags or _opaque(tag, weak=True) in {_opaque(t, weak=True) for t in tags}


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a write expects to find, checked inside its unit of work: values, not a request."""
    if_match: str | None = None         # the client's If-Match (None: no check)
    if_none_match: str | None = None    # the client's If-None-Match (`*`: only if there is none)
    part: NamedNode | None = None       # the headers name this part's version (an order line)
    part_of: Callable = subtree         # the part's triples, as its GET answers them
    read_etag: str | None = None        # the document as the caller read it: 409 if it changed since

    def check(self, current: list[Triple] | None) -> None:
        """412 for a version the preconditions refuse, 409 for a document changed since it was read.

        RFC 9110 §13.2.2: If-Match first, then If-None-Match; for a write, both fail with 412.
        """
        version = (self.part_of(current, self.part) if current else None) if self.part is not None else current
        content = _opaque(etag(version), weak=False) if version else None
        if self.if_match is not None:
            tags = _entity_tags(self.if_match)
            # Strong comparison: a weak tag never names a version to write over.
            if content is None or ("*" not in tags and content not in {_content(t, weak=False) for t in tags}):
                raise PreconditionFailed("If-Match does not match the current ETag; GET the resource again",
                                         currentETag=etag(version) if version else None)
        if self.if_none_match is not None and content is not None:
            tags = _entity_tags(self.if_none_match)
            if "*" in tags:
                raise PreconditionFailed("If-None-Match: * writes only where there is nothing yet, and "
                                         "this resource exists", currentETag=etag(version))
            if content in {_content(t, weak=True) for t in tags}:
                raise PreconditionFailed("If-None-Match names the current version", currentETag=etag(version))
        if self.read_etag is not None and (current is None or etag(current) != self.read_etag):
            raise Conflict("the order changed while this line was being changed; read it again and retry")


def _entity_tags(header: str) -> set[str]:
    # Our tags hold no comma; one inside a client's quoted tag only splits a tag that never matched.
    return {t.strip() for t in header.split(",")}


def _opaque(tag: str, weak: bool) -> str | None:
    """The quoted part of an entity tag; None for a weak one where comparison is strong, or junk."""
    if tag.startswith("W/"):
        if not weak:
            return None
        tag = tag[2:]
    return tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else None


def _content(tag: str, weak: bool) -> str | None:
    """The content's part of any representation's ETag (before its mark)."""
    opaque = _opaque(tag, weak)
    return opaque.split("-", 1)[0] if opaque is not None else None
