"""Administration: issuing opaque tokens (admin only)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.api.context import agent, services
from app.domain import policy
from app.errors import BadRequest
from app.rdf import read_json

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.post("/tokens")
def create_token():
    policy.require(agent(), "admin_tokens", "create")
    body = read_json(request.get_data(cache=False), services().settings.max_json_depth)
    if not isinstance(body, dict) or "agent" not in body:
        raise BadRequest('send {"agent": "<IRI>", "scopes": [...]}', pointer="/agent")
    token = services().auth.issue(body["agent"], body.get("scopes", []))
    return jsonify({"token": token, "agent": body["agent"], "scopes": body.get("scopes", [])}), 201
