"""A hub's customers: read, export and erase a person's data (API.md "Personal data")."""
from __future__ import annotations

from flask import Blueprint, Response

from app.api.context import ENT, agent, namespace, services
from app.api.negotiate import rdf_response
from app.domain import versions
from app.domain import policy

bp = Blueprint("persons", __name__, url_prefix="/api/dfc")


def _persons():
    return services().persons


@bp.get(f"/{ENT}/<eid>/persons/<pid>")
def get_person(ent, eid, pid):
    """The person's own document (410 once erased)."""
    ns = namespace(eid)
    policy.require(agent(), "person", "read", owner=ns)
    _, triples = _persons().read(ns, pid)
    return rdf_response(triples, 200, {"ETag": versions.etag(triples)})


@bp.get(f"/{ENT}/<eid>/persons/<pid>/export")
def export_person(ent, eid, pid):
    """Everything the hub holds of a person: their document and every order they placed."""
    ns = namespace(eid)
    policy.require(agent(), "person", "export", owner=ns)
    return rdf_response(_persons().export(ns, pid))


@bp.delete(f"/{ENT}/<eid>/persons/<pid>")
def erase_person(ent, eid, pid):
    """Erase the person's personal data everywhere; their orders stay under a fresh pseudonym."""
    ns = namespace(eid)
    policy.require(agent(), "person", "erase", owner=ns)
    _persons().erase(ns, pid)
    return Response(status=204)
