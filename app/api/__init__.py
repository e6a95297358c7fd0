"""HTTP: Flask blueprints, thin — parse, authorise, call the domain, render."""
from __future__ import annotations

import logging

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from app.api.context import bearer_challenge
from app.errors import HubError

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the blueprints, the one error handler and the access log."""
    from app.api import (admin, conformance, contexts, contracts, events, hub_settings, lifecycle, orders,
                         partners, persons, resources, service, sparql)
    from app.api.access_log import AccessLog
    from app.api.context import check_ids

    # Every id in a path is checked once, before any view: none can build an invalid IRI.
    app.url_value_preprocessor(check_ids)

    app.register_blueprint(orders.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(hub_settings.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(contracts.bp)
    app.register_blueprint(persons.bp)
    app.register_blueprint(partners.bp)
    app.register_blueprint(resources.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(conformance.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(contexts.bp)
    app.register_blueprint(service.bp)
    app.register_error_handler(HubError, _hub_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.wsgi_app = AccessLog(app.wsgi_app)


def problem(body: dict, headers: dict | None = None) -> Response:
    """Render an RFC 9457 problem document."""
    return Response(json.dumps(body), status=body["status"], headers=headers,
                    mimetype="application/problem+json")


def _hub_error(e: HubError) -> Response:
    return problem(e.problem(), bearer_challenge() if e.status == 401 else None)


def _http_error(e: HTTPException) -> Response:
    slug = (e.name or "error").lower().replace(" ", "-")
    detail = e.description or e.name
    if e.code == 413:
        detail = "the body is larger than this server accepts (DFC_HUB_MAX_BODY_BYTES)"
    headers = dict(e.get_headers()) if e.code == 405 else None
    if headers:
        headers.pop("Content-Type", None)
    return problem({"type": f"https://w3id.org/dfc-order-hub/problems/{slug}", "title": e.name,
                    "status": e.code, "detail": detail}, headers)


def _unexpected(e: Exception) -> Response:
    log.exception("unexpected error")
    return problem({"type": "https://w3id.org/dfc-order-hub/problems/internal-error",
                    "title": "Internal error", "status": 500,
                    "detail": "the server failed; this is a bug, please report it"})
