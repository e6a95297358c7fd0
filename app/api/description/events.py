"""The OpenAPI description of the event log and the webhook routes (app/api/events.py)."""
from __future__ import annotations

from app.events.outbox import TYPES


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(description: str, schema: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": _ref("schemas", schema)}}}
    return {**out, **({"headers": headers} if headers else {})}


def paths(op, segment_param) -> dict:
    """The routes, built with openapi.py's `_op` and `_segment_param`."""
    ent = "/api/dfc/enterprises/{eid}"
    wid = segment_param("wid", "0123456789abcdef", "The subscription's id")
    after = {"name": "after", "in": "query", "description": "Only events after this one (its id)",
             "schema": {"type": "string", "pattern": "^evt_[0-9]{1,18}$"}, "example": "evt_0"}
    types = {"name": "type", "in": "query", "description": "Only events of these types (repeat, or separate by commas)",
             "schema": {"type": "array", "items": {"type": "string", "enum": list(TYPES)}}, "style": "form",
             "explode": True}
    per_page = {"name": "per_page", "in": "query", "description": "Events per page (DFC_HUB_PAGE_SIZE by default)",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
    link = {"Link": {"description": 'rel="next": the next page, after the last event of this one (full pages only)',
                     "schema": {"type": "string"}}}
    read = [400, 401, 403, 404, 406, 503]
    location = {"Location": {"description": "The subscription's URL", "required": True, "schema": {"type": "string"}}}
    body = {"required": True, "content": {m: {"schema": _ref("schemas", "WebhookRequest"), "example": {
        "url": "https://93.184.215.14/hooks/dfc", "events": ["procurement.order_received"]}}
        for m in ("application/json", "application/ld+json")}}
    kw = {"secured": True, "tag": "events"}
    return {
        ent + "/events": {"get": op("The enterprise's events, oldest first (Link: next page)",
                                    {200: _json("A page of events", "EventPage", link)}, read,
                                    params=["eid", after, types, per_page], **kw)},
        ent + "/webhooks": {
            "get": op("The enterprise's webhook subscriptions", {200: _json("Subscriptions", "WebhookList")},
                      read, params=["eid"], **kw),
            "post": op("Subscribe a URL to event types; the answer shows the signing secret, once "
                       "(409: the enterprise keeps the most subscriptions it may, 50)",
                       {201: _json("The subscription and its secret", "WebhookCreated", location)},
                       [400, 401, 403, 404, 406, 409, 413, 415, 422, 503], params=["eid"], body=body, **kw),
        },
        ent + "/webhooks/{wid}": {
            "get": op("A subscription, its deliveries by state and its latest attempts",
                      {200: _json("The subscription", "WebhookDetails")}, read, params=["eid", wid], **kw),
            "delete": op("Remove a subscription: nothing more is sent", {204: {"description": "Removed"}},
                         [400, 401, 403, 404, 503], params=["eid", wid], **kw),
        },
        ent + "/webhooks/{wid}/replay": {"post": op(
            "Send again every event after `after` that the subscription receives",
            {202: _json("How many events will be sent again", "Replay")}, [400, 401, 403, 404, 406, 409, 503],
            params=["eid", wid, after], **kw)},
    }


def schemas() -> dict:
    """The JSON bodies of those routes."""
    event = {"type": "object", "required": ["id", "type", "timestamp", "data"], "properties": {
        "id": {"type": "string"}, "type": {"type": "string", "enum": list(TYPES)},
        "timestamp": {"type": "string"}, "data": {"type": "object"}}}
    sub = {"id": {"type": "string"}, "url": {"type": "string"}, "active": {"type": "boolean"},
           "events": {"type": "array", "items": {"type": "string", "enum": list(TYPES)}},
           "createdAt": {"type": "string"}}
    required = ["id", "url", "events", "active", "createdAt"]
    attempt = {"type": "object", "required": ["event", "attempt", "at", "durationMs"], "properties": {
        "event": {"type": "string"}, "attempt": {"type": "integer"}, "at": {"type": "string"},
        "durationMs": {"type": "number"}, "status": {"type": "integer"}, "error": {"type": "string"}}}
    return {
        "Event": event,
        "EventPage": {"type": "object", "required": ["events"], "properties": {
            "events": {"type": "array", "items": _ref("schemas", "Event")}}},
        "WebhookRequest": {"type": "object", "required": ["url", "events"], "properties": {
            "url": {"type": "string", "format": "uri"},
            "events": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(TYPES)}}}},
        "Webhook": {"type": "object", "required": required, "properties": sub},
        "WebhookList": {"type": "object", "required": ["webhooks"], "properties": {
            "webhooks": {"type": "array", "items": _ref("schemas", "Webhook")}}},
        "WebhookCreated": {"type": "object", "required": [*required, "secret"], "properties": {
            **sub, "secret": {"type": "string", "pattern": "^whsec_"}}},
        "WebhookDetails": {"type": "object", "required": [*required, "deliveries", "attempts"], "properties": {
            **sub, "disabledAt": {"type": ["string", "null"]}, "disabledReason": {"type": ["string", "null"]},
            "deliveries": {"type": "object", "additionalProperties": {"type": "integer"}},
            "attempts": {"type": "array", "items": attempt}}},
        "Replay": {"type": "object", "required": ["id", "replayed"], "properties": {
            "id": {"type": "string"}, "after": {"type": ["string", "null"]}, "replayed": {"type": "integer"}}},
    }
