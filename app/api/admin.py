"""Administration: issuing opaque tokens (admin only)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.api.context import agent, hub
from app.errors import BadRequest, Forbidden, Unauthorized
from app.rdf import read_json

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.post("/tokens")
def create_token():
    who = agent()
    if who is None:
        raise Unauthorized("issuing tokens needs the admin token")
    if not who.admin:
        raise Forbidden("only the admin may issue tokens")
    body = read_json(request.get_data(cache=False), hub().settings.max_json_depth)
    if not isinstance(body, dict) or "agent" not in body:
        raise BadRequest('send {"agent": "<IRI>", "scopes": [...]}', pointer="/agent")
    token = hub().auth.issue(body["agent"], body.get("scopes", []))
    return jsonify({"token": token, "agent": body["agent"], "scopes": body.get("scopes", [])}), 201
