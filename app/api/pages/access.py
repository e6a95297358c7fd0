"""Who a page acts for, and how a page refuses: the token in the signed cookie, the API's problems.

A page acts as the agent of the token its visitor signed in with (kept sealed in Flask's signed,
HttpOnly, SameSite=Strict session cookie, as the /sparql page keeps its own), or of a bearer
token a program sends; the API's policy table and services then decide, as for any request.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import Response, current_app, json, render_template, request, session

from app.api.context import agent, bearer_challenge, services
from app.api.negotiate import best_media_type
from app.domain.agents import Agent
from app.errors import HubError, Unauthorized

TOKEN = "page_token"


def _fernet() -> Fernet:
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"dfc-hub: tokens a session keeps\0" + secret).digest()))


def seal(token: str) -> str:
    """`token` as a session keeps it: Flask signs its cookie but anyone who sees it reads it, and a
    token read there would open the whole API, past the browser session and its sign-out."""
    return _fernet().encrypt(token.encode()).decode()


def unseal(kept: str) -> str:
    """The token `seal` kept; 401 for what it did not seal (a cookie of before, or of another key)."""
    try:
        return _fernet().decrypt(kept.encode()).decode()
    except (InvalidToken, UnicodeError, AttributeError):
        raise Unauthorized("the token kept for this browser is unreadable: sign in again") from None


def visitor() -> Agent | None:
    """The agent of the request's bearer token, else of the token signed in with; None for neither."""
    who = agent()
    if who is None and TOKEN in session:
        try:
            who = services().auth.agent(unseal(session[TOKEN]))
        except Unauthorized:
            session.pop(TOKEN, None)      # a token revoked since: sign in again
            raise
    return who


def sign_in(token: str) -> Agent:
    """Keep `token` for this browser once the server knows it (401 otherwise)."""
    who = services().auth.agent(token)
    # A session of its own: no form token shown before (to another agent, or to a forger who
    # planted the cookie) posts for this one.
    session.clear()
    session[TOKEN] = seal(token)
    return who


def sign_out() -> None:
    """Forget everything this browser kept: the token, the /sparql page's, and the forms' CSRF secret."""
    session.clear()


def wants_html() -> bool:
    """A browser's request: it takes HTML at least as gladly as a problem document."""
    best = best_media_type(request.headers.get("Accept"), ["text/html", "application/problem+json",
                                                            "application/json"])
    return best == "text/html"


def refusal(e: HubError):
    """The API's problem: as a page for a browser (the sign-in form for a 401), else as problem+json."""
    headers = bearer_challenge() if e.status == 401 else None
    if not wants_html():
        # As app/api's error handler renders it (not imported: that package's face registers these pages).
        return Response(json.dumps(e.problem()), status=e.status, headers=headers, mimetype="application/problem+json")
    body = render_template("pages/refused.html", problem=e.problem(), signed_in=TOKEN in session)
    return body, e.status, headers or {}
