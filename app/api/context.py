"""Per-request access to the hub, the settings and the calling agent."""
from __future__ import annotations

from flask import current_app, g, request

from app.domain.agents import Agent
from app.errors import Unauthorized
from app.hub import Hub


def hub() -> Hub:
    return current_app.extensions["dfc_hub"]


def agent() -> Agent | None:
    """The agent of the request's bearer token, None without one; 401 for a bad one."""
    if "agent" not in g:
        header = request.headers.get("Authorization", "")
        if not header:
            g.agent = None
        else:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("use `Authorization: Bearer <token>`")
            g.agent = hub().auth.agent(token.strip())
    return g.agent
