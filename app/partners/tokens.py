"""Access tokens for partner platforms: got at the identity provider, kept while usable, renewed.

The OAuth 2.0 protocol (RFC 6749: the client_credentials and refresh_token grants, client
authentication, the token response and its errors) is Authlib's `OAuth2Client` — but for the
token's lifetime, which `_kept` reads from the answer as the provider sent it; only its HTTP
goes through our one outbound adapter (PartnerClient.token_request: the URL checked and pinned,
the partner deadline and cap), by the small session below, since Authlib's own sessions are
requests' or httpx's and would bypass it.

Where the access token lives: in the partner's private graph, with the time it stops being
usable (a margin before `expires_in`, credentials.margin), so every process of the hub shares
it. A fresh one is got under the store's write lock, in the unit of work that keeps what the
answer taught: the access token, and the refresh token the provider rotated to. So two
processes never spend one refresh token (the second finds the first one's token when it gets
the lock), and the new refresh token is stored in the very commit that records the old one's
use. What this cannot help: a crash between the provider's answer and that commit leaves the
retired refresh token here; the provider then answers `invalid_grant`, and the partner is
marked as needing new credentials, which a person gives by PUT.

The cost of the lock: while a token request is under way (at most
DFC_HUB_PARTNER_TIMEOUT_SECONDS, once per token lifetime and partner) the writes of that
partner's configuration wait (desk.partner_keys); no other write does.
"""
from __future__ import annotations

import base64
import dataclasses
import time
from urllib.parse import quote, quote_plus, urlencode

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.client import OAuth2Client
from pyoxigraph import NamedNode

from app.errors import CredentialsRefused, PartnerError
from app.partners import credentials as creds
from app.partners.desk import check_origin, partner_keys, token_graph
from app.partners.client import Reply

# What an identity provider answers when what the hub holds will never work again: a person
# must give new credentials (RFC 6749 §5.2).
REFUSALS = ("invalid_grant", "invalid_client", "unauthorized_client")


class PartnerTokens:
    """The bearer token for each call to a partner; a fresh one after a 401."""

    def __init__(self, store, client, wall=time.time):
        # `client` (app/partners/client.py PartnerClient) is the network, given, never imported here.
        self.store, self.client, self.wall = store, client, wall

    def current(self, partner: NamedNode, url: str) -> str | None:
        """The token to send to `url` now: the kept one while usable, else a fresh one (503 if refused)."""
        found = creds.read(self.store.graph(token_graph(partner)), partner)
        if found is None:
            return None
        check_origin(found, url)
        token = found.usable(self.wall())
        return token if token is not None else self.renew(partner, url, stale=None)

    def renew(self, partner: NamedNode, url: str, stale: str | None) -> str | None:
        """A token other than `stale` (refused by the partner): another process's, else a fresh one.

        A static bearer token is what it is: it comes back unchanged.
        """
        refusal, graph = None, token_graph(partner)
        # This partner's documents only: a provider that does not answer holds up no other write.
        with self.store.transaction(keys=partner_keys(partner)) as tx:
            found = creds.read(tx.graph(graph), partner)
            if found is None:
                return None
            check_origin(found, url)
            if not found.issued:
                return found.token
            why = creds.refused(tx.graph(partner), partner)
            if why is not None:
                raise _refused(partner, why)
            kept = found.usable(self.wall())
            if kept is not None and kept != stale:
                return kept
            try:
                answer = self._request(found)
            except OAuth2Error as e:
                if e.error not in REFUSALS:
                    code = _without(e.error, found)[:100]     # the provider's words, its code too
                    raise PartnerError(f"the partner's identity provider at {found.token_url} refused a token "
                                       f"request ({code})", url=found.token_url, oauthError=code) from None
                refusal = f"{e.error}: {_without(e.description, found) or 'the identity provider refused them'}"
                tx.put(partner, creds.with_refusal(tx.graph(partner), partner, refusal))
            else:
                # Kept even when the answer holds no usable access token: the refresh token it
                # rotated to is the only one the provider still takes.
                fresh = _kept(found, answer, self.wall())
                tx.put(graph, creds.document(partner, fresh))
        if refusal is not None:
            raise _refused(partner, refusal)
        if fresh.access_token is None:
            raise PartnerError(f"the identity provider at {found.token_url} answered no bearer access token",
                               url=found.token_url)
        return fresh.access_token

    def _request(self, found: creds.Credentials) -> dict:
        """One token request by Authlib, sent through our adapter: the token response as a dict."""
        session = _AdapterSession(self.client)
        oauth = OAuth2Client(session, client_id=found.client_id, client_secret=found.client_secret,
                             token_endpoint_auth_method=_auth_method(found), scope=found.scope)
        try:
            if found.kind == creds.CLIENT_CREDENTIALS:
                oauth.fetch_token(found.token_url, grant_type="client_credentials")
            else:
                oauth.refresh_token(found.token_url, refresh_token=found.refresh_token)
        except ValueError:      # Authlib: the answer is not a JSON object
            raise PartnerError(f"the partner's identity provider at {found.token_url} answered no token",
                               url=found.token_url) from None
        return session.answer   # as the provider sent it, its lifetime too: _kept reads it


def _kept(found: creds.Credentials, answer: dict, now: float) -> creds.Credentials:
    """The credentials once a token response is kept (pure): its access token, the rotated refresh token."""
    access = answer.get("access_token")
    if not isinstance(access, str) or not creds.BEARER_TOKEN.fullmatch(access) \
            or str(answer.get("token_type") or "bearer").lower() != "bearer":
        access = None       # nothing a partner would take as a bearer token (DPoP, none at all, not header-safe)
    until = None
    try:        # a number of seconds; some providers send it as a string
        lifetime = float(answer["expires_in"]) if not isinstance(answer.get("expires_in"), bool) else None
    except (KeyError, TypeError, ValueError, OverflowError):     # OverflowError: an integer of 400 digits
        lifetime = None
    if lifetime is not None and 0 < lifetime < 10**9:
        until = now + lifetime - creds.margin(lifetime)
    rotated = answer.get("refresh_token") if found.kind == creds.REFRESH_TOKEN else None
    return dataclasses.replace(found, access_token=access, usable_until=until, refreshes=found.refreshes + 1,
                               refresh_token=rotated if isinstance(rotated, str) and rotated else found.refresh_token)


def _without(text: str | None, found: creds.Credentials) -> str:
    """An identity provider's words, any secret of ours it echoed blanked out, shortened."""
    text = str(text or "")
    for spelling in sorted(_spellings(found), key=len, reverse=True):
        text = text.replace(spelling, "…")
    return text[:300]


def _spellings(found: creds.Credentials) -> set[str]:
    """Each secret as a provider may echo it: as is, form- or URL-encoded (as the request body
    carried it), in base64 (as a Basic Authorization header carried it, with the client id)."""
    raw = {s for s in (found.client_secret, found.refresh_token, found.access_token) if s}
    out = set()
    for secret in raw:
        out |= {quote_plus(secret), quote(secret, safe=""), _b64(secret)}
    if found.client_secret:
        basic = f"{quote(found.client_id or '', safe='')}:{quote(found.client_secret, safe='')}"
        out |= {_b64(basic), _b64(f"{found.client_id or ''}:{found.client_secret}")}
    return raw | out


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _refused(partner: NamedNode, why: str) -> CredentialsRefused:
    return CredentialsRefused(f"the partner {partner.value} needs new credentials: its identity provider "
                              f"refused those the hub holds ({why}); PUT the partner with new `auth`",
                              partner=partner.value, needsCredentials=True)


def _auth_method(found: creds.Credentials):
    if not found.client_secret:
        return "none"
    if found.token_endpoint_auth_method == "client_secret_post":
        return "client_secret_post"
    return _basic


def _basic(client, method, uri, headers, body):
    """HTTP Basic as RFC 6749 §2.3.1 says: id and secret form-encoded first (Authlib sends them raw,
    so a client id holding `:` or a secret holding `%` would be read otherwise)."""
    pair = f"{quote_plus(client.client_id)}:{quote_plus(client.client_secret)}"
    headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return uri, headers, body


class _AdapterSession:
    """What Authlib's OAuth2Client asks of a session (`post`), sent through PartnerClient.token_request.

    `answer`: the last token response's JSON object, whole.
    """

    def __init__(self, client):
        self.client, self.answer = client, None

    def post(self, url, data=None, headers=None, auth=None, **_):
        body = urlencode(data or {})
        headers = dict(headers or {})
        if auth is not None:
            url, headers, body = auth.prepare("POST", url, headers, body)
        return _Response(self.client.token_request(url, body.encode(), headers), self)


# Read by _kept, never by Authlib: its int() of them raised on "3600.5", [60] or 1e400 (a 500, or
# a ValueError that lost the refresh token the same answer rotated to).
LIFETIME = ("expires_in", "expires_at")


class _Response:
    """A PartnerClient Reply as Authlib reads a response."""

    def __init__(self, reply: Reply, session: _AdapterSession):
        self.reply, self.status_code, self.session = reply, reply.status, session

    def json(self):
        found = self.reply.json()
        if not isinstance(found, dict):
            return found
        self.session.answer = found
        return {k: v for k, v in found.items() if k not in LIFETIME}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise PartnerError(f"the identity provider answered {self.status_code} without an OAuth error",
                               partnerStatus=self.status_code)
