"""Our JSON-LD contexts, served where our answers name them (app.rdf.answer_context)."""
from __future__ import annotations

from flask import Blueprint, Response, json

from app.errors import NotFound
from app.rdf.answer_context import PATHS, served

bp = Blueprint("contexts", __name__)
_FAMILIES = {path.rsplit("/", 1)[1]: family for family, path in PATHS.items()}


@bp.get("/api/contexts/<name>")
def context(name: str) -> Response:
    """One of our contexts, public and cacheable: any JSON-LD processor may fetch it."""
    if name not in _FAMILIES:
        raise NotFound(f"no context {name!r}; ours are {', '.join(sorted(_FAMILIES))}")
    body = json.dumps({"@context": served(_FAMILIES[name])}, indent=1)
    response = Response(body, mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
