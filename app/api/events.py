"""An enterprise's event log and webhook subscriptions (API.md "Events and webhooks").

Both answer JSON (the shape webhooks deliver); a client asking for RDF gets the documents.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.context import ENT, agent, namespace, services
from app.api.negotiate import SERIALISERS, best_media_type, rdf_response
from app.api.paging import whole_number
from app.domain import policy
from app.events import outbox as events
from app.errors import BadRequest, NotAcceptable, UnsupportedMediaType, clipped, echoed
from app.rdf import read_json

bp = Blueprint("events", __name__, url_prefix="/api/dfc")

MAX_PAGE = 1000          # app/queries/events_of_party.rq reads at most this many


def _json_wanted() -> bool:
    """JSON unless the client asks for an RDF representation; 406 for anything else."""
    media = best_media_type(request.headers.get("Accept"), ["application/json", *SERIALISERS])
    if media is None:
        raise NotAcceptable("this resource is available as application/json", available=["application/json"])
    return media == "application/json"


def _types() -> list[str]:
    asked = [t for value in request.args.getlist("type") for t in value.split(",") if t.strip()]
    unknown = [t for t in asked if t not in events.TYPES]
    if unknown:
        raise BadRequest(f"unknown event type {echoed(unknown[0])}; known: {', '.join(events.TYPES)}",
                         parameter="type", value=clipped(unknown[0]))
    return asked or list(events.TYPES)


def _per_page() -> int:
    return whole_number("per_page", min(services().settings.page_size, MAX_PAGE), 1, MAX_PAGE)


@bp.get(f"/{ENT}/<eid>/events")
def list_events(ent, eid):
    """The enterprise's events after `after`, oldest first; `Link: rel="next"` while pages are full."""
    ns = namespace(eid)
    policy.require(agent(), "event", "list", owner=ns)
    after = events.sequence_of(request.args["after"]) if "after" in request.args else 0
    types, per_page = _types(), _per_page()
    as_json = _json_wanted()
    found = services().webhooks.log(ns, after, types, per_page)
    headers = {}
    if len(found) == per_page:
        query = f"after={found[-1].id}&per_page={per_page}" + "".join(f"&type={t}" for t in request.args.getlist("type"))
        headers["Link"] = f'<{services().settings.public_base_url}{request.path}?{query}>; rel="next"'
    if not as_json:
        return rdf_response(services().webhooks.documents([e.iri for e in found]), 200, headers)
    return jsonify({"events": [e.to_json() for e in found]}), 200, headers


@bp.get(f"/{ENT}/<eid>/webhooks")
def list_webhooks(ent, eid):
    ns = namespace(eid)
    policy.require(agent(), "webhook", "list", owner=ns)
    return jsonify({"webhooks": [s.to_json() for s in services().webhooks.subscriptions(ns)]})


@bp.post(f"/{ENT}/<eid>/webhooks")
def create_webhook(ent, eid):
    """Subscribe a URL to event types; the answer shows the signing secret, this once."""
    ns = namespace(eid)
    policy.require(agent(), "webhook", "create", owner=ns)
    if (request.mimetype or "") not in ("application/json", "application/ld+json"):
        raise UnsupportedMediaType('send application/json: {"url": "https://…", "events": ["procurement.order_received"]}')
    body = read_json(request.get_data(cache=False), services().settings.max_json_depth)
    sub, secret = services().webhooks.subscribe(ns, body)
    location = services().settings.public_base_url + f"{request.path.rstrip('/')}/{sub.id}"
    return jsonify({**sub.to_json(), "secret": secret}), 201, {"Location": location}


@bp.get(f"/{ENT}/<eid>/webhooks/<wid>")
def get_webhook(ent, eid, wid):
    """A subscription, its deliveries by state and its latest attempts (never its secret)."""
    ns = namespace(eid)
    policy.require(agent(), "webhook", "read", owner=ns)
    return jsonify(services().webhooks.details(ns, wid))


@bp.delete(f"/{ENT}/<eid>/webhooks/<wid>")
def delete_webhook(ent, eid, wid):
    ns = namespace(eid)
    policy.require(agent(), "webhook", "delete", owner=ns)
    services().webhooks.unsubscribe(ns, wid)
    return Response(status=204)


@bp.post(f"/{ENT}/<eid>/webhooks/<wid>/replay")
def replay_webhook(ent, eid, wid):
    """Send again every event after `after` (all of them without it) that the subscription receives."""
    ns = namespace(eid)
    policy.require(agent(), "webhook", "replay", owner=ns)
    after = events.sequence_of(request.args["after"]) if "after" in request.args else 0
    count = services().webhooks.replay(ns, wid, after)
    return jsonify({"id": wid, "after": events.event_id(after) if after else None, "replayed": count}), 202
