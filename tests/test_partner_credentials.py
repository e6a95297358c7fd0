"""A partner's credentials go only to the origin they were given for (issue 20, finding 4).

Three servers of ours on 127.0.0.1, each noting the Authorization headers it receives: Jean's
producer platform, another platform (run by whoever holds a scoped WriteEnterprise token of the
hub, or the platform Jean moves to) and the hub platform. A PUT that moves the partner's
catalogue or orders to another origin must give the token again; a token given for one origin is
never sent to another, not even to an order IRI the old platform gave.
"""
from __future__ import annotations

import contextlib

import pytest
import requests

from app.domain.clock import ManualClock
from conftest import ADMIN, make_app
from support.orders import MONDAY, sale_week
from support.threaded_server import serving

pytestmark = pytest.mark.calendar

CTX = "https://www.datafoodconsortium.org"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
JSONLD = {"Content-Type": "application/ld+json"}


class Heard:
    """A server of ours, noting every Authorization header it receives (but the test's own, as admin)."""

    def __init__(self, app):
        self.app, self.authorizations = app, []

    def __call__(self, environ, start_response):
        if environ.get("HTTP_AUTHORIZATION") not in (None, ADMIN_H["Authorization"]):
            self.authorizations.append(environ["HTTP_AUTHORIZATION"])
        return self.app(environ, start_response)

    def heard(self, token: str) -> bool:
        return f"Bearer {token}" in self.authorizations


def _put(http, iri, node):
    r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers={**ADMIN_H, **JSONLD})
    assert r.status_code in (200, 201), r.text


def _farm(http, ent):
    _put(http, ent, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Jean's farm"})
    _put(http, f"{ent}/supplied_products/carrots", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Carrots"})
    _put(http, f"{ent}/catalog_items/carrots", {
        "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10,
        "dfc-b:references": f"{ent}/supplied_products/carrots", "dfc-b:offeredThrough": f"{ent}/offers/carrots"})
    _put(http, f"{ent}/offers/carrots", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{ent}/catalog_items/carrots"})


class World:
    def __init__(self, jean, elsewhere, jean_base, else_base, hub_base):
        self.http = requests.Session()
        self.jean, self.elsewhere = jean, elsewhere          # the two platforms' recorders
        self.jean_ent = f"{jean_base}/api/dfc/enterprises/jean-farm"
        self.else_ent = f"{else_base}/api/dfc/enterprises/jean-farm"
        self.api = f"{hub_base}/api/dfc/enterprises"
        self.partner = f"{self.api}/hub-a/partners/jean"
        self.hub = self._token(hub_base, f"{self.api}/hub-a")
        # Someone the hub gave a token that may write its enterprise, and no more.
        self.writer = self._token(hub_base, f"{self.api}/hub-a", ["WriteEnterprise"])
        # What each platform issued the hub: the secrets that must not travel.
        self.secret = self._token(jean_base, f"{self.api}/hub-a")["Authorization"].split(" ", 1)[1]
        self.new = self._token(else_base, f"{self.api}/hub-a")["Authorization"].split(" ", 1)[1]

    def _token(self, base, agent, scopes=()):
        r = self.http.post(f"{base}/api/admin/tokens", json={"agent": agent, "scopes": list(scopes)}, headers=ADMIN_H)
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def body(self, ent, **extra):
        return {"enterprise": ent, "catalog": f"{ent}/catalog", "orders": f"{ent}/orders", **extra}

    def put(self, body, who=None):
        return self.http.put(self.partner, json=body, headers=who or self.hub)

    def sync(self):
        return self.http.post(f"{self.partner}/sync", headers=self.hub)

    def checkout(self, status="dfc-v:Held", order=None):
        doc = {"@context": CTX, "@graph": [
            {"@id": order or "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": status,
             "dfc-b:belongsTo": f"{self.api}/hub-a/sale_sessions/week-48",
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                                "dfc-b:concerns": f"{self.api}/hub-a/offers/jean-carrots"}]},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
        headers = {**self.hub, **JSONLD}
        if order:
            return self.http.put(order, json=doc, headers=headers)
        return self.http.post(f"{self.api}/hub-a/orders", json=doc, headers=headers)


@contextlib.contextmanager
def world_of(tmp_path):
    clock = ManualClock(MONDAY)
    heard = {}

    def platform(name):
        def make(base):
            heard[name] = Heard(make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / name}",
                                         public_base_url=base, webhook_allow_private=True))
            return heard[name]
        return make
    with serving(platform("jean")) as jean_base, serving(platform("elsewhere")) as else_base, \
            serving(platform("hub")) as hub_base:
        w = World(heard["jean"], heard["elsewhere"], jean_base, else_base, hub_base)
        for ent in (w.jean_ent, w.else_ent):
            _farm(w.http, ent)
        hub = f"{w.api}/hub-a"
        _put(w.http, hub, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
        _put(w.http, f"{hub}/sale_sessions/week-48", sale_week())
        _put(w.http, f"{hub}/catalog_items/jean-carrots", {
            "@type": "dfc-b:CatalogItem", "dfc-b:references": f"{w.jean_ent}/supplied_products/carrots"})
        _put(w.http, f"{hub}/offers/jean-carrots", {"@type": "dfc-b:Offer",
                                                    "dfc-b:offeredItem": f"{hub}/catalog_items/jean-carrots"})
        assert w.put(w.body(w.jean_ent, token=w.secret)).status_code == 201
        assert w.sync().status_code == 200
        assert w.jean.heard(w.secret)
        yield w


@pytest.mark.parametrize("moved", [("catalog",), ("orders",), ("enterprise", "catalog", "orders")])
def test_moving_a_partner_url_to_another_origin_without_the_token_is_a_422_naming_it(tmp_path, moved):
    with world_of(tmp_path) as w:
        before = w.http.get(w.partner, headers=w.hub).text
        body = {**w.body(w.jean_ent), **{k: v for k, v in w.body(w.else_ent).items() if k in moved}}
        for who in (w.writer, w.hub):
            r = w.put(body, who)
            assert r.status_code == 422, r.text
            problem = r.json()
            assert problem["field"] == ("catalog" if "catalog" in moved else "orders"), problem
            assert problem["required"] == ["token"], problem
        assert w.http.get(w.partner, headers=w.hub).text == before
        w.sync()
        assert not w.elsewhere.authorizations


def test_a_partner_url_moved_on_its_own_origin_keeps_the_token(tmp_path):
    with world_of(tmp_path) as w:
        r = w.put({**w.body(w.jean_ent), "catalog": f"{w.jean_ent}/catalog?page=1"}, w.writer)
        assert r.status_code == 200, r.text
        w.jean.authorizations.clear()
        assert w.sync().status_code == 200
        assert w.jean.heard(w.secret)


def test_a_token_given_again_goes_to_its_new_origin_and_no_other(tmp_path):
    with world_of(tmp_path) as w:
        assert w.put(w.body(w.else_ent, token=w.new)).status_code == 200
        w.jean.authorizations.clear()
        assert w.sync().status_code == 200
        assert w.elsewhere.heard(w.new) and not w.elsewhere.heard(w.secret)
        assert not w.jean.authorizations


def test_an_order_the_old_platform_named_never_receives_the_new_platforms_token(tmp_path):
    with world_of(tmp_path) as w:
        r = w.checkout()
        assert r.status_code == 201, r.text            # forwarded: the order now lives at Jean's platform
        order = r.headers["Location"]
        # Jean moves to the other platform; the hub gives that platform's token.
        assert w.put(w.body(w.else_ent, token=w.new)).status_code == 200
        w.jean.authorizations.clear()
        # A cancellation must reach the order at the old platform: not with the new token.
        r = w.checkout(status="dfc-v:Cancelled", order=order)
        assert r.status_code == 200, r.text
        assert not w.jean.heard(w.new)
        assert not w.elsewhere.authorizations
