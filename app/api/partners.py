"""A hub's partner platforms (API.md "Partner platforms"): configure, read, remove, sync."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.context import ENT, agent, expected, namespace, services
from app.api.negotiate import answer_type, rdf_response
from app.domain import versions
from app.domain import policy
from app.errors import UnsupportedMediaType
from app.rdf import read_json

bp = Blueprint("partners", __name__, url_prefix="/api/dfc")
PARTNER = f"/{ENT}/<eid>/partners/<slug>"


@bp.get(PARTNER)
def get_partner(ent, eid, slug):
    """The partner as the hub configured it; its token is never shown."""
    ns = namespace(eid)
    policy.require(agent(), "partner", "read", owner=ns)
    triples = services().partners.read(ns, slug)
    return rdf_response(triples, 200, {"ETag": versions.etag(triples)})


@bp.put(PARTNER)
def put_partner(ent, eid, slug):
    ns = namespace(eid)
    policy.require(agent(), "partner", "replace", owner=ns)
    answer_type()
    created, triples = services().partners.write(ns, slug, _json_body(), expected())
    return rdf_response(triples, 201 if created else 200, {"ETag": versions.etag(triples)})


@bp.delete(PARTNER)
def delete_partner(ent, eid, slug):
    ns = namespace(eid)
    policy.require(agent(), "partner", "delete", owner=ns)
    services().partners.delete(ns, slug, expected())
    return Response(status=204)


@bp.post(f"{PARTNER}/sync")
def sync_partner(ent, eid, slug):
    """Fetch the partner's configured catalogue (that URL only) and keep a copy; report what changed."""
    ns = namespace(eid)
    policy.require(agent(), "partner", "sync", owner=ns)
    return jsonify(services().partners.sync(ns, slug))


def _json_body():
    if (request.mimetype or "").lower() not in ("application/json", "application/ld+json"):
        raise UnsupportedMediaType("send the partner as application/json")
    # As every JSON body is read: nesting past the limit is a 400 (json.loads' RecursionError was a 500).
    return read_json(request.get_data(cache=False), services().settings.max_json_depth)
