"""Enterprises, their catalogue resources and the whole-catalogue import/export (API.md)."""
from __future__ import annotations

from flask import Blueprint, Response
from pyoxigraph import NamedNode

from app.api.context import ENT, agent, base_url, check_if_match, hub, namespace, request_iri
from app.api.negotiate import rdf_response, read_body
from app.api.paging import page_of
from app.domain import documents as docs
from app.domain import policy
from app.domain.kinds import ENTERPRISE, SEGMENTS, Kind
from app.domain.server_state import carry_over, check_deletable, check_kind
from app.errors import Conflict, NotFound

bp = Blueprint("resources", __name__, url_prefix="/api/dfc")

SEG = "<any(" + ", ".join(SEGMENTS) + "):seg>"


def _load(iri: NamedNode):
    """Load the document at an IRI (any spelling) or 404."""
    found = docs.find(hub().store, iri.value, base_url())
    if found is None:
        raise NotFound(f"no resource at {iri.value}")
    return found


def _document_response(iri: NamedNode, triples, status: int = 200) -> Response:
    headers = {"ETag": docs.etag(triples)}
    if status == 201:
        headers["Location"] = iri.value
    return rdf_response(triples, status, headers)


def _write(ns: docs.Namespace, kind: Kind, target: NamedNode | None, collection: str) -> Response:
    """POST (target None) or PUT one resource document."""
    policy.require(agent(), policy.of_kind(kind), "create" if target is None else "replace", owner=ns)
    payload = read_body((target or NamedNode(collection)).value)
    iri, triples = docs.single_document(payload.triples, kind, target, collection, base_url())
    check_kind(triples, iri, kind)
    docs.check_owned(ns, triples)
    store = hub().store
    with store.write_lock():
        found = docs.find(store, iri.value, base_url())
        if target is not None:
            check_if_match(found[1] if found else None)
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
    namespace(eid)
    return _document_response(*_load(request_iri()))


@bp.put(f"/{ENT}/<eid>")
def put_enterprise(ent, eid):
    ns = namespace(eid)
    return _write(ns, ENTERPRISE, request_iri(), ns.iri)


@bp.delete(f"/{ENT}/<eid>")
def delete_enterprise(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "enterprise", "delete", owner=ns)
    store = hub().store
    with store.write_lock():
        name, triples = _load(request_iri())
        check_if_match(triples)
        if docs.has_documents(store, ns):
            raise Conflict(f"enterprise {eid} still has resources; delete them first")
        store.replace_graphs({}, remove=[name])
    return Response(status=204)


@bp.get(f"/{ENT}/<eid>/catalog")
def get_catalog(ent, eid):
    return rdf_response(docs.catalog(hub().store, namespace(eid)))


@bp.post(f"/{ENT}/<eid>/catalog")
def import_catalog(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "catalog", "import", owner=ns)
    payload = read_body(ns.iri + "/catalog")
    documents = docs.split_catalog(payload.triples, ns)
    store = hub().store
    with store.write_lock():
        documents = carry_over({n: store.graph(n) for n in documents}, documents)
        store.replace_graphs(documents)
    return rdf_response([t for triples in documents.values() for t in triples], 200)


@bp.get(f"/{ENT}/<eid>/{SEG}")
def list_resources(ent, eid, seg):
    ns, kind = namespace(eid), SEGMENTS[seg]
    iris = docs.list_documents(hub().store, ns, kind)
    return page_of(iris, hub().store.graphs)


@bp.post(f"/{ENT}/<eid>/{SEG}")
def create_resource(ent, eid, seg):
    ns, kind = namespace(eid), SEGMENTS[seg]
    return _write(ns, kind, None, ns.collection(kind))


@bp.get(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def get_resource(ent, eid, seg, rid):
    namespace(eid)
    return _document_response(*_load(request_iri()))


@bp.put(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def put_resource(ent, eid, seg, rid):
    ns, kind = namespace(eid), SEGMENTS[seg]
    return _write(ns, kind, request_iri(), ns.collection(kind))


@bp.delete(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def delete_resource(ent, eid, seg, rid):
    policy.require(agent(), policy.of_kind(SEGMENTS[seg]), "delete", owner=namespace(eid))
    store = hub().store
    with store.write_lock():
        name, triples = _load(request_iri())
        check_if_match(triples)
        check_deletable(name, triples)
        store.replace_graphs({}, remove=[name])
    return Response(status=204)
