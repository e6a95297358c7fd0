"""A hub's settings: how its checkouts become wholesale orders (ontology/hub.ttl)."""
from __future__ import annotations

from flask import Blueprint

from app.api.context import ENT, agent, expected, namespace, services
from app.api.negotiate import rdf_response, read_body
from app.domain import versions
from app.domain import policy
from app.catalog import hub_settings

bp = Blueprint("hub_settings", __name__, url_prefix="/api/dfc")


@bp.get(f"/{ENT}/<eid>/settings")
def get_settings(ent, eid):
    """A hub's settings are its own business: readable by the hub (and the admin) only."""
    ns = namespace(eid)
    triples = services().catalog.settings(ns)
    policy.require(agent(), "hub_settings", "read", owner=ns)
    return rdf_response(triples, 200, {"ETag": versions.etag(triples)})


@bp.put(f"/{ENT}/<eid>/settings")
def put_settings(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "hub_settings", "replace", owner=ns)
    triples = hub_settings.from_payload(read_body(ns.iri + "/settings").triples, ns)
    services().catalog.write_settings(ns, triples, expected())
    return rdf_response(triples, 200, {"ETag": versions.etag(triples)})
