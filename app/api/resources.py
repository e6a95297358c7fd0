"""Enterprises, their catalogue resources and the whole-catalogue import/export (API.md).

Reads need no token and show the public kinds only (app/domain/policy.py `PUBLIC`, asked by the
catalogue service); an owner's token shows what its public documents hide from others.
"""
from __future__ import annotations

from flask import Blueprint, Response

from app.api.context import ENT, agent, expected, namespace, request_iri, services
from app.api.negotiate import rdf_response, read_body
from app.api.paging import page_of
from app.domain import documents as docs
from app.domain import versions
from app.domain import policy
from app.domain.kinds import ENTERPRISE, SEGMENTS, Kind

bp = Blueprint("resources", __name__, url_prefix="/api/dfc")

SEG = "<any(" + ", ".join(SEGMENTS) + "):seg>"


def _catalog():
    return services().catalog


def _owner(ns: docs.Namespace) -> bool:
    """Tell whether the caller reads `ns`'s documents as their owner (or the admin)."""
    who = agent()
    return who is not None and policy.sees_all(who, ns)


def _document_response(iri, triples, status: int = 200) -> Response:
    headers = {"ETag": versions.etag(triples)}
    if status == 201:
        headers["Location"] = iri.value
    return rdf_response(triples, status, headers)


def _write(ns: docs.Namespace, kind: Kind, target: str | None, collection: str) -> Response:
    """POST (target None) or PUT one resource document."""
    policy.require(agent(), policy.of_kind(kind), "create" if target is None else "replace", owner=ns)
    payload = read_body(target or collection)
    name, triples, created = _catalog().write(ns, kind, payload.triples, target, expected())
    return _document_response(name, triples, 201 if created else 200)


@bp.get("/enterprises")
@bp.get("/Enterprises")
def list_enterprises():
    return page_of(_catalog().enterprises(), _catalog().documents)      # a profile hides nothing


@bp.get(f"/{ENT}/<eid>")
def get_enterprise(ent, eid):
    return _document_response(*_catalog().load(request_iri().value, _owner(namespace(eid))))


@bp.put(f"/{ENT}/<eid>")
def put_enterprise(ent, eid):
    ns = namespace(eid)
    return _write(ns, ENTERPRISE, request_iri().value, ns.iri)


@bp.delete(f"/{ENT}/<eid>")
def delete_enterprise(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "enterprise", "delete", owner=ns)
    _catalog().delete_enterprise(ns, request_iri().value, expected())
    return Response(status=204)


@bp.get(f"/{ENT}/<eid>/catalog")
def get_catalog(ent, eid):
    ns = namespace(eid)
    return rdf_response(_catalog().catalog(ns, _owner(ns)))


@bp.post(f"/{ENT}/<eid>/catalog")
def import_catalog(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "catalog", "import", owner=ns)
    payload = read_body(ns.iri + "/catalog")
    documents = _catalog().import_catalog(ns, docs.split_catalog(payload.triples, ns))
    return rdf_response([t for triples in documents.values() for t in triples], 200)


@bp.get(f"/{ENT}/<eid>/{SEG}")
def list_resources(ent, eid, seg):
    ns = namespace(eid)
    return page_of(_catalog().listing(ns, SEGMENTS[seg]), lambda names: _catalog().documents(names, _owner(ns)))


@bp.post(f"/{ENT}/<eid>/{SEG}")
def create_resource(ent, eid, seg):
    ns, kind = namespace(eid), SEGMENTS[seg]
    return _write(ns, kind, None, ns.collection(kind))


@bp.get(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def get_resource(ent, eid, seg, rid):
    return _document_response(*_catalog().load(request_iri().value, _owner(namespace(eid))))


@bp.put(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def put_resource(ent, eid, seg, rid):
    ns, kind = namespace(eid), SEGMENTS[seg]
    return _write(ns, kind, request_iri().value, ns.collection(kind))


@bp.delete(f"/{ENT}/<eid>/{SEG}/<path:rid>")
def delete_resource(ent, eid, seg, rid):
    policy.require(agent(), policy.of_kind(SEGMENTS[seg]), "delete", owner=namespace(eid))
    _catalog().delete(request_iri().value, expected())
    return Response(status=204)
