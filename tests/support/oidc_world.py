"""A hub whose partner platform accepts only tokens a real OpenID Connect provider issued.

    with oidc_world(tmp_path, ttl=2) as w:
        w.configure(w.client_credentials())      # or w.refresh_token_auth(), w.bearer(...)
        w.checkout()                             # one customer order with a line at the partner

Three parts on 127.0.0.1: the provider (tests/support/idp.py, npm oidc-provider), Jean's
producer platform (a server of ours trusting only that provider's JWTs for the hub's agent,
through DFC_HUB_JWT_ISSUERS) behind a gate that notes the bearer tokens it is shown and answers
401 to those the test revokes, and the hub platform. Used by tests/test_partner_oidc.py and
bench/partner_oidc.py.
"""
from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import requests

from app.domain.clock import ManualClock
from conftest import ADMIN, make_app
from support.orders import MONDAY, sale_week
from support.idp import identity_provider
from support.threaded_server import serving

CTX = "https://www.datafoodconsortium.org"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
JSONLD = {"Content-Type": "application/ld+json"}
SECRET = "s3cret:of+the/hub%a"       # characters RFC 6749's form-encoding of HTTP Basic is for
CLIENTS = [
    {"client_id": "hub-a", "client_secret": SECRET, "grant_types": ["client_credentials", "refresh_token",
                                                                    "authorization_code"],
     "redirect_uris": ["http://127.0.0.1/cb"], "response_types": ["code"]},
    {"client_id": "hub-a-post", "client_secret": SECRET, "token_endpoint_auth_method": "client_secret_post",
     "grant_types": ["client_credentials"], "redirect_uris": ["http://127.0.0.1/cb"], "response_types": ["code"]},
]


class Gate:
    """In front of Jean's platform: notes each bearer token shown, answers 401 to revoked ones."""

    def __init__(self, app):
        self.app, self.shown, self.revoked = app, [], set()
        self.refuse_all = False
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        header = environ.get("HTTP_AUTHORIZATION", "")
        token = header.split(" ", 1)[1] if header.startswith("Bearer ") else None
        if token and token != ADMIN:
            with self._lock:
                self.shown.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], token))
            if token in self.revoked or self.refuse_all:
                start_response("401 Unauthorized", [("Content-Type", "application/problem+json"),
                                                    ("WWW-Authenticate", 'Bearer error="invalid_token"')])
                return [b'{"title": "Unauthorized", "status": 401, "detail": "token revoked"}']
        return self.app(environ, start_response)

    def tokens(self) -> list[str]:
        with self._lock:
            return [t for _, _, t in self.shown]


class World:
    def __init__(self, idp, gate: Gate, jean_base: str, hub_base: str):
        self.idp, self.gate, self.http = idp, gate, requests.Session()
        self.jean = f"{jean_base}/api/dfc/enterprises/jean-farm"
        self.api = f"{hub_base}/api/dfc/enterprises"
        self.hub = f"{self.api}/hub-a"
        self.partner = f"{self.hub}/partners/jean"
        self.customers = 0

    def client_credentials(self, client_id="hub-a", **extra) -> dict:
        return {"kind": "client_credentials", "token_url": self.idp.token_url, "client_id": client_id,
                "client_secret": SECRET, "scope": "ReadEnterprise WriteOrders", **extra}

    def refresh_token_auth(self) -> tuple[dict, str]:
        """A refresh_token auth, and the refresh token it starts from."""
        first = self.idp.refresh_token("hub-a", "hub-a-at-jean")
        return {"kind": "refresh_token", "token_url": self.idp.token_url, "client_id": "hub-a",
                "client_secret": SECRET, "refresh_token": first}, first

    def configure(self, auth: dict | None = None, **extra) -> requests.Response:
        body = {"enterprise": self.jean, "catalog": f"{self.jean}/catalog", "orders": f"{self.jean}/orders", **extra}
        if auth is not None:
            body["auth"] = auth
        return self.http.put(self.partner, json=body, headers=ADMIN_H)

    def sync(self) -> requests.Response:
        return self.http.post(f"{self.partner}/sync", headers=ADMIN_H)

    def checkout(self) -> requests.Response:
        self.customers += 1
        doc = {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{self.hub}/sale_sessions/week-48",
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                                "dfc-b:concerns": f"{self.hub}/offers/jean-carrots"}]},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": f"Customer {self.customers}"}]}
        return self.http.post(f"{self.hub}/orders", json=doc, headers={**ADMIN_H, **JSONLD})


def put(http, iri, node):
    r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers={**ADMIN_H, **JSONLD})
    assert r.status_code in (200, 201), r.text


def jean_farm(http, ent, stock=100_000):
    put(http, ent, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Jean's farm"})
    put(http, f"{ent}/supplied_products/carrots", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Carrots"})
    put(http, f"{ent}/catalog_items/carrots", {
        "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": stock,
        "dfc-b:references": f"{ent}/supplied_products/carrots", "dfc-b:offeredThrough": f"{ent}/offers/carrots"})
    put(http, f"{ent}/offers/carrots", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{ent}/catalog_items/carrots"})


def hub_selling_jean(http, hub, jean):
    put(http, hub, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
    put(http, f"{hub}/sale_sessions/week-48", sale_week())
    put(http, f"{hub}/catalog_items/jean-carrots", {
        "@type": "dfc-b:CatalogItem", "dfc-b:references": f"{jean}/supplied_products/carrots"})
    put(http, f"{hub}/offers/jean-carrots", {"@type": "dfc-b:Offer",
                                             "dfc-b:offeredItem": f"{hub}/catalog_items/jean-carrots"})


def trust_file(folder: Path, idp, agents: list[str]) -> str:
    """DFC_HUB_JWT_ISSUERS for Jean's platform: the provider's key from its JWKS, for these agents only."""
    path = folder / "issuers.json"
    path.write_text(json.dumps({idp.issuer: {"key": idp.public_key_pem(), "agents": agents}}))
    return str(path)


@contextlib.contextmanager
def oidc_world(folder: Path, ttl: int):
    clock = ManualClock(MONDAY)
    made = {}

    def hub_app(base):
        made["hub"] = make_app(demo=False, clock=clock, store=f"oxigraph:{folder / 'hub'}", public_base_url=base,
                               webhook_allow_private=True)
        return made["hub"]

    with serving(hub_app) as hub_base:
        agent = f"{hub_base}/api/dfc/enterprises/hub-a"
        with identity_provider(folder, ttl, CLIENTS, {c["client_id"]: agent for c in CLIENTS}) as idp:
            issuers = trust_file(folder, idp, [agent])

            def jean_app(base):
                made["gate"] = Gate(make_app(demo=False, clock=clock, store=f"oxigraph:{folder / 'jean'}",
                                             public_base_url=base, jwt_issuers=issuers))
                return made["gate"]
            with serving(jean_app) as jean_base:
                w = World(idp, made["gate"], jean_base, hub_base)
                w.app = made["hub"]
                jean_farm(w.http, w.jean)
                hub_selling_jean(w.http, w.hub, w.jean)
                yield w
