"""Enterprises, their catalogue resources and the whole-catalogue import/export (API.md)."""
from __future__ import annotations

import re

from flask import Blueprint, Response, request
from pyoxigraph import NamedNode

from app.api.context import agent, hub
from app.api.negotiate import rdf_response, read_body
from app.api.paging import page_of
from app.domain import documents as docs
from app.domain.agents import require_writer
from app.domain.kinds import ENTERPRISE, SEGMENTS, Kind
from app.domain.server_state import carry_over, check_deletable
from app.errors import BadRequest, Conflict, NotFound, PreconditionFailed

bp = Blueprint("resources", __name__, url_prefix="/api/dfc")

ENT = "<any(enterprises, Enterprises):ent>"
SEG = "<any(" + ", ".join(SEGMENTS) + "):seg>"
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")


def _base() -> str:
    return hub().settings.public_base_url


def _iri() -> NamedNode:
    """The IRI of the resource the request names (PUBLIC_BASE_URL + path)."""
    return NamedNode(_base() + request.path.rstrip("/"))


def _ns(eid: str) -> docs.Namespace:
    if not _SLUG.match(eid):
        raise BadRequest(f"{eid!r} is not a valid enterprise id (letters, digits, . _ ~ -)")
    return docs.Namespace(_base(), eid)


def _load(iri: NamedNode):
    """Load the document at an IRI (any spelling) or 404."""
    found = docs.find(hub().store, iri.value, _base())
    if found is None:
        raise NotFound(f"no resource at {iri.value}")
    return found


def _check_if_match(current: list | None) -> None:
    """412 when If-Match names another version than the current one."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    tags = {t.strip() for t in wanted.split(",")}
    if current is None or ("*" not in tags and docs.etag(current) not in tags):
        raise PreconditionFailed("If-Match does not match the current ETag; GET the resource again",
                                 currentETag=docs.etag(current) if current else None)


def _document_response(iri: NamedNode, triples, status: int = 200) -> Response:
    headers = {"ETag": docs.etag(triples)}
    if status == 201:
        headers["Location"] = iri.value
    return rdf_response(triples, status, headers)


def _write(ns: docs.Namespace, kind: Kind, target: NamedNode | None, collection: str) -> Response:
    """POST (target None) or PUT one resource document."""
    require_writer(agent(), ns, kind.write_scope)
    payload = read_body((target or NamedNode(collection)).value)
    iri, triples = docs.single_document(payload.triples, kind, target, collection, _base())
    docs.check_owned(ns, triples)
    store = hub().store
    with store.write_lock():
        found = docs.find(store, iri.value, _base())
        if target is not None:
            _check_if_match(found[1] if found else None)
        elif found:
            raise Conflict(f"{iri.value} exists already; PUT it to replace it", iri=iri.value)
        name = found[0] if found else iri
        triples = docs.rename(triples, {iri: name}) if name != iri else triples
        documents = carry_over({name: found[1]} if found else {}, {name: triples})
        store.replace_graphs(documents)
    return _document_response(name, documents[name], 200 if found else 201)


@bp.get("/enterprises")
@bp.get("/Enterprises")
def list_enterprises():
    iris = docs.list_enterprises(hub().store)
    return page_of(iris, hub().store.graphs)


@bp.get(f"/{ENT}/<eid>")
def get_enterprise(ent, eid):
    _ns(eid)
    return _document_response(*_load(_iri()))


@bp.put(f"/{ENT}/<eid>")
def put_enterprise(ent, eid):
    ns = _ns(eid)
    return _write(ns, ENTERPRISE, _iri(), ns.iri)


@bp.delete(f"/{ENT}/<eid>")
def delete_enterprise(ent, eid):
    ns = _ns(eid)
    require_writer(agent(), ns, ENTERPRISE.write_scope)
    store = hub().store
    with store.write_lock():
        name, triples = _load(_iri())
        _check_if_match(triples)
        if docs.has_documents(store, ns):
            raise Conflict(f"enterprise {eid} still has resources; delete them first")
        store.replace_graphs({}, remove=[name])
    return Response(status=204)


@bp.get(f"/{ENT}/<eid>/catalog")
def get_catalog(ent, eid):
    return rdf_response(docs.catalog(hub().store, _ns(eid)))


@bp.post(f"/{ENT}/<eid>/catalog")
def import_catalog(ent, eid):
    ns = _ns(eid)
    require_writer(agent(), ns, "WriteProducts")
    payload = read_body(ns.iri + "/catalog")
    documents = docs.split_catalog(payload.triples, ns)
    store = hub().store
    with store.write_lock():
        documents = carry_over({n: store.graph(n) for n in documents}, documents)
        store.replace_graphs(documents)
    return rdf_response([t for triples in documents.values() for t in triples], 200)


@bp.get(f"/{ENT}/<eid>/{SEG}")
def list_resources(ent, eid, seg):
    ns, kind = _ns(eid), SEGMENTS[seg]
    iris = docs.list_documents(hub().store, ns, kind)
    return page_of(iris, hub().store.graphs)


@bp.post(f"/{ENT}/<eid>/{SEG}")
def create_resource(ent, eid, seg):
    ns, kind = _ns(eid), SEGMENTS[seg]
    return _write(ns, kind, None, ns.collection(kind))


@bp.get(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def get_resource(ent, eid, seg, rid):
    _ns(eid)
    return _document_response(*_load(_iri()))


@bp.put(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def put_resource(ent, eid, seg, rid):
    ns, kind = _ns(eid), SEGMENTS[seg]
    return _write(ns, kind, _iri(), ns.collection(kind))


@bp.delete(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def delete_resource(ent, eid, seg, rid):
    require_writer(agent(), _ns(eid), SEGMENTS[seg].write_scope)
    store = hub().store
    with store.write_lock():
        name, triples = _load(_iri())
        _check_if_match(triples)
        check_deletable(name, triples)
        store.replace_graphs({}, remove=[name])
    return Response(status=204)
