"""Offline JSON-LD contexts: every known DFC context URL maps to our own local context.

The server never fetches a context. Before parsing, every `@context` reference in a payload
is replaced by the local context it names; a remote one we do not know is refused.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from importlib import resources

from app.errors import UnknownContext
from app.namespaces import FAMILIES

DEFAULT_CONTEXT_URL = "https://www.datafoodconsortium.org"
# The form the DFC 2.0 connectors (generated from the DFC LinkML schema) write.
V2_CONTEXT_URL = "https://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.json"

# Releases whose context the w3id / wordpress URLs name (1.8.2 … 2.0.0).
KNOWN_VERSIONS = {
    "1.8.2", "1.9.0", "1.10.0", "1.11.0", "1.11.1", "1.12.0", "1.13.0",
    "1.14.0", "1.15.0", "1.16.0", "2.0.0",
}
_STATIC_EXTRA = {
    "dfc-p": "http://static.datafoodconsortium.org/ontologies/DFC_ProductOntology.owl#",
}
_WORDPRESS = re.compile(
    r"^https?://(www\.)?datafoodconsortium\.org/wp-content/plugins/wordpress-context-jsonld/"
    r"context(?:_(?P<version>[0-9.]+))?\.jsonld$")
# w3id publishes each context at …/context/context_<v>.json and, from 2.0, also under the
# release's own folder: …/v<v>/context/context_<v>.json.
_W3ID = re.compile(r"^https?://w3id\.org/dfc/ontology/(?:v(?P<folder>[0-9.]+)/)?context/"
                   r"context_(?P<version>[0-9.]+)\.json(?:ld)?$")
_HOME = re.compile(r"^https?://(www\.)?datafoodconsortium\.org/?$")
_STATIC = re.compile(r"^https?://static\.datafoodconsortium\.org/ontologies/context\.json$")


@functools.cache
def local_context(family: str = "1.x") -> dict:
    """Return our context (ontology/context.jsonld) with the prefixes of a namespace family."""
    text = resources.files("app.ontology").joinpath("context.jsonld").read_text(encoding="utf-8")
    ctx = json.loads(text)["@context"]
    if family != "1.x":
        ctx = dict(ctx)
        for prefix, iri in FAMILIES[family].items():
            ctx[prefix] = iri
        if family == "static":
            ctx.update(_STATIC_EXTRA)
    return ctx


@functools.cache
def object_properties() -> frozenset[str]:
    """Canonical IRIs of the terms our context reads as references (`"@type": "@id"`)."""
    ctx = local_context("1.x")
    out = set()
    for term, definition in ctx.items():
        if isinstance(definition, dict) and definition.get("@type") == "@id":
            prefix, _, local = term.partition(":")
            if isinstance(ctx.get(prefix), str):
                out.add(ctx[prefix] + local)
    return frozenset(out)


def family_of_version(version: str) -> str:
    """Namespace family of a DFC release: static up to 1.7, github 1.8–1.16, w3id from 2.0."""
    major, minor = (int(x) for x in version.split(".")[:2])
    if major >= 2:
        return "2.0"
    return "1.x" if minor >= 8 else "static"


def resolve(url: str, own: Mapping[str, dict] | None = None) -> tuple[dict, str | None]:
    """Return (local context, DFC version label) for a known context URL; refuse others.

    `own` maps this server's own context URLs (app.rdf.answer_context) to their contexts: they
    name no DFC version.
    """
    if own and url in own:
        return own[url], None
    if _HOME.match(url):
        return local_context("1.x"), "1.8–1.16"
    if _STATIC.match(url):
        return local_context("static"), "≤1.7"
    m = _W3ID.match(url) or _WORDPRESS.match(url)
    if m:
        version = m.group("version")
        if m.re is _W3ID and m.group("folder") not in (None, version):
            version = "mismatch"            # a release folder holds only its own context
        if version is None:
            return local_context("1.x"), "1.8–1.16"
        if version in KNOWN_VERSIONS:
            return local_context(family_of_version(version)), version
    raise UnknownContext(
        f"the @context {url!r} is not a known DFC context; the server never fetches contexts. "
        "Use https://www.datafoodconsortium.org, a https://w3id.org/dfc/ontology/context/"
        "context_<version>.json URL (1.8.2 … 2.0.0), or an inline context.",
        context=url)


def inline_contexts(doc, own: Mapping[str, dict] | None = None) -> set[str]:
    """Replace, in place, every remote @context reference in `doc`; return the versions seen."""
    versions: set[str] = set()
    for node in _nodes(doc):
        if isinstance(node, dict) and "@context" in node:
            node["@context"] = _inline(node["@context"], versions, own)
    versions.discard(None)
    return versions


def _nodes(doc):
    """Every object, array and string of a JSON document, outside its @context values."""
    stack = [doc]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(v for k, v in node.items() if k != "@context")


def trim_contexts(doc) -> None:
    """Keep, in place, only the context entries a document can use: parsing is then ~10x faster.

    An entry can matter only if the document names it (as a key, a value, or the prefix of a
    compact IRI), or if it is a keyword setting or a prefix (other definitions may use those).
    """
    used: set[str] = set()
    contexts: list[dict] = []
    for node in _nodes(doc):
        if isinstance(node, dict):
            used.update(k for k in node if k != "@context")
            if "@context" in node:
                contexts.append(node)
        elif isinstance(node, str):
            used.add(node)
    used |= {u.partition(":")[0] for u in used if ":" in u}
    for holder in contexts:
        holder["@context"] = _trimmed(holder["@context"], used)


def _trimmed(ctx, used: set[str]):
    if isinstance(ctx, list):
        return [_trimmed(c, used) for c in ctx]
    if not isinstance(ctx, dict):
        return ctx
    if len(ctx) < _LARGE:
        return {k: v for k, v in ctx.items() if k in used or k.startswith("@") or isinstance(v, str)}
    # A large context (ours, DFC's: hundreds of terms) is the same object every time: what it
    # always keeps and where each term stands are worked out once, and only the few terms the
    # document uses are looked up (0.3 ms of a 6.6 ms checkout went to walking it whole, twice).
    kept, order = _layout(ctx)
    keys = kept + [k for k in used if k in order and k not in kept]
    return {k: ctx[k] for k in sorted(keys, key=order.__getitem__)}


_LARGE = 64
_LAYOUTS: dict[int, tuple[dict, list[str], dict[str, int]]] = {}     # id → (the context, kept, order)


def _layout(ctx: dict) -> tuple[list[str], dict[str, int]]:
    """A large context's keywords and prefixes (always kept), and each key's position."""
    found = _LAYOUTS.get(id(ctx))
    if found is not None and found[0] is ctx:
        return found[1], found[2]
    kept = [k for k, v in ctx.items() if k.startswith("@") or isinstance(v, str)]
    order = {k: i for i, k in enumerate(ctx)}
    if len(_LAYOUTS) >= 16:       # contexts a client sends inline come and go: never kept long
        _LAYOUTS.clear()
    _LAYOUTS[id(ctx)] = (ctx, kept, order)     # the context held too: its id is not reused meanwhile
    return kept, order


def _inline(value, versions: set, own):
    if isinstance(value, str):
        ctx, version = resolve(value, own)
        versions.add(version)
        return ctx
    if isinstance(value, list):
        return [_inline(v, versions, own) for v in value]
    if isinstance(value, dict):
        if isinstance(value.get("@import"), str):
            imported, version = resolve(value["@import"], own)
            versions.add(version)
            value = {**imported, **{k: v for k, v in value.items() if k != "@import"}}
        # Scoped contexts inside term definitions may name remote contexts too.
        for term, definition in value.items():
            if isinstance(definition, dict) and "@context" in definition:
                definition["@context"] = _inline(definition["@context"], versions, own)
        return value
    return value
