"""The service itself: its index at /, /health, /version and the OpenAPI description of the API."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, make_response, request

from app import __version__
from app.api import pages
from app.api.description import openapi
from app.api.context import base_url, services
from app.api.negotiate import best_media_type

bp = Blueprint("service", __name__)
log = logging.getLogger(__name__)


@bp.get("/")
def index():
    """Where to go from here: the first thing a person or a crawler asks (a browser gets the home page)."""
    if best_media_type(request.headers.get("Accept"), ["application/json", "text/html"]) == "text/html":
        response = make_response(pages.home())
    else:
        response = _links(base_url())
    response.vary.add("Accept")
    return response


def _links(base: str):
    return jsonify({"name": "dfc-order-hub", "version": __version__, "links": {
        "enterprises": f"{base}/api/dfc/enterprises", "openapi": f"{base}/api/openapi.json",
        "pages": f"{base}/pages/enterprises", "conformance": f"{base}/conformance", "sparql": f"{base}/sparql", "health": f"{base}/health",
        "version": f"{base}/version"}})


@bp.get("/health")
def health():
    """200 when the store answers a query, else 503 (for load balancers and probes)."""
    # The background workers `serve` runs: their last run and last error (none in a bare app).
    workers = current_app.extensions.get("dfc_workers")
    background = {"workers": workers.state()} if workers is not None else {}
    try:
        services().check_store()
    except Exception:   # whatever the store raised, the answer is "not healthy"
        log.warning("health check: the store did not answer", exc_info=True)
        return _no_cache(jsonify({"status": "unavailable", "store": "unreachable", **background}), 503)
    return _no_cache(jsonify({"status": "ok", "store": "reachable", **background}), 200)


@bp.get("/version")
def version():
    return jsonify({"name": "dfc-order-hub", "version": __version__})


@bp.get("/api/openapi.json")
def openapi_description():
    return jsonify(openapi.description(base_url()))


def _no_cache(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
