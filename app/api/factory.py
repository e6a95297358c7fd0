"""The Flask app factory: settings, the hub a process holds, the blueprints."""
from __future__ import annotations

import secrets
from collections.abc import Mapping

from flask import Flask

from app.config import Settings


def create_app(config: Mapping | None = None, clock=None) -> Flask:
    """Build the app: defaults, then the environment, then `config` (Settings field names).

    `clock` (anything with `now()`) replaces the system clock, for tests of sale sessions.
    """
    from app import api
    from app.api import pages
    from app.runtime.services import Services

    settings = Settings.load(config)
    app = Flask("app")          # the package: its templates folder is app/templates
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Only the pages and the /sparql query page use the session (a token kept for one browser session); a
    # strict same-site cookie never rides along on another site's request.
    app.secret_key = settings.secret_key or secrets.token_bytes(32)
    app.config.update(SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"))
    app.json.sort_keys = False
    app.extensions["dfc_hub"] = Services.open(settings, clock=clock)
    api.init_app(app)
    pages.init_app(app)
    return app
