"""Pages for the people who run a food network (API.md "Pages"): boards, a session, an order; HTML forms.

A blueprint of its own beside the API's routes, in the HTTP room (app/api): the pages parse a form, ask the same policy
table and call the same services as the API's routes, and render a Jinja template. They hold no
path of their own to the store. Every form carries a CSRF token (Flask-WTF's CSRFProtect, checked
for the pages' POSTs only: the API's clients send bearer tokens, never a cookie).
"""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Register the pages and their CSRF check (the API's routes are not forms: they are left alone)."""
    from app.api.pages import charts, views

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # The token lives as long as the signed session that holds it, not an hour: a board left open
    # over lunch still closes its session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.add_template_global(charts.show, "show")     # macros see globals, not a blueprint's context
    app.register_blueprint(views.bp)


def home():
    """`GET /` for a browser: what this server is, the sign-in form or who is signed in, the links."""
    from app.api.pages import views
    return views.home()
