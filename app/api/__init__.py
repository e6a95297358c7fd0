"""HTTP: Flask blueprints, thin — parse, authorise, call the domain, render."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from app.api.context import bearer_challenge
from app.errors import HubError

log = logging.getLogger(__name__)
# The server's HTML pages (/, /pages/…, /sparql, /conformance) load no script, image or
# stylesheet: only their own inline style. Their forms post to this server (PUBLIC_BASE_URL's
# origin, which a proxy may serve under another name than 'self').
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; "
               "form-action 'self' {}")


def init_app(app: Flask) -> None:
    """Register the blueprints, the one error handler, the headers every answer carries, the access log."""
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
    app.after_request(_guarded(app.config["SETTINGS"].public_base_url))
    app.wsgi_app = AccessLog(app.wsgi_app)


def _guarded(public_base_url: str):
    """What every answer says of itself: no other type than it says; and an HTML page may not be
    framed by another site (to steer a click onto a button) nor run a script that slipped past
    the escaping."""
    base = urlsplit(public_base_url)
    policy = PAGE_POLICY.format(f"{base.scheme}://{base.netloc}")

    def guarded(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", policy)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
    return guarded


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
