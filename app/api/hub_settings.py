"""A hub's settings: how its checkouts become wholesale orders (ontology/hub.ttl)."""
from __future__ import annotations

from flask import Blueprint
from pyoxigraph import NamedNode

from app.api.context import ENT, agent, check_if_match, hub, namespace
from app.api.negotiate import rdf_response, read_body
from app.domain import documents as docs
from app.domain import hub_settings, policy
from app.errors import NotFound

bp = Blueprint("hub_settings", __name__, url_prefix="/api/dfc")


def _current(ns):
    if not hub().store.has_graph(NamedNode(ns.iri)):
        raise NotFound(f"no enterprise at {ns.iri}")
    return hub_settings.document(ns, hub_settings.read(hub().store, ns))


@bp.get(f"/{ENT}/<eid>/settings")
def get_settings(ent, eid):
    """A hub's settings are its own business: readable by the hub (and the admin) only."""
    ns = namespace(eid)
    triples = _current(ns)
    policy.require(agent(), "hub_settings", "read", owner=ns)
    return rdf_response(triples, 200, {"ETag": docs.etag(triples)})


@bp.put(f"/{ENT}/<eid>/settings")
def put_settings(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "hub_settings", "replace", owner=ns)
    triples = hub_settings.from_payload(read_body(ns.iri + "/settings").triples, ns)
    store = hub().store
    with store.write_lock():
        check_if_match(_current(ns))
        store.replace_graphs({hub_settings.iri(ns): triples})
    return rdf_response(triples, 200, {"ETag": docs.etag(triples)})
