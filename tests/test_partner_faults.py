"""A basket with local and remote lines is reserved everywhere or nowhere, whatever the partner does.

Two servers of ours on 127.0.0.1: a hub platform (hub A, and a local farm's leeks) and Jean's
producer platform behind a proxy that fails on demand (tests/support/faulty_proxy.py). Each
fault — the partner down, slow past the timeout, answering 500, refusing (409), dying between
our POST and our PUT — leaves no stock reserved for the failed basket, here or at Jean's, and
the customer's retry with the same Idempotency-Key succeeds once the partner is back.
"""
from __future__ import annotations

import pytest
import requests

from app.domain.clock import ManualClock
from conftest import ADMIN, make_app
from support.orders import MONDAY, sale_week
from support.faulty_proxy import FaultyProxy
from support.trickler import trickling
from support.threaded_server import serving

# Not rerun with the calendar moved: every date it builds and every clock its apps read are its
# ManualClock's (the tests that start `dfc-hub` on the wall clock are rerun).
pytestmark = pytest.mark.dateless("its apps run in this process on a ManualClock at fixed dates")

CTX = "https://www.datafoodconsortium.org"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/ld+json"}
TIMEOUT = 2.0           # the hub's DFC_HUB_PARTNER_TIMEOUT_SECONDS (room for a loaded machine); the slow proxy waits 3 times as long


def _put(http, iri, node):
    r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers=ADMIN_H)
    assert r.status_code in (200, 201), r.text


def _farm(http, api, eid, product, stock):
    ent = f"{api}/{eid}"
    _put(http, ent, {"@type": "dfc-b:Enterprise", "dfc-b:name": eid})
    _put(http, f"{ent}/supplied_products/{product}", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": product})
    _put(http, f"{ent}/catalog_items/{product}", {"@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": stock,
                                                  "dfc-b:references": f"{ent}/supplied_products/{product}"})
    _put(http, f"{ent}/offers/{product}", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{ent}/catalog_items/{product}",
                                           "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2,
                                                              "dfc-b:hasUnit": "dfc-m:Euro"}})


def _resell(http, api, hub, name, product):
    _put(http, f"{api}/{hub}/catalog_items/{name}", {"@type": "dfc-b:CatalogItem", "dfc-b:references": product})
    _put(http, f"{api}/{hub}/offers/{name}", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{api}/{hub}/catalog_items/{name}",
                                              "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 3,
                                                                 "dfc-b:hasUnit": "dfc-m:Euro"}})


class World:
    """Hub A on the hub platform, Jean behind the proxy, and what a test reads of both."""

    def __init__(self, hub_base, jean_api, proxy, hub_app, jean_base):
        self.http, self.proxy, self.hub_app = requests.Session(), proxy, hub_app
        self.api, self.jean_api = f"{hub_base}/api/dfc/enterprises", jean_api
        self.jean_direct = f"{jean_base}/api/dfc/enterprises"      # past the proxy, even when it is down
        self.http.headers["Accept"] = "application/ld+json"
        r = self.http.post(f"{hub_base}/api/admin/tokens", json={"agent": f"{self.api}/hub-a", "scopes": []},
                           headers=ADMIN_H)
        self.token = {"Authorization": f"Bearer {r.json()['token']}"}

    def checkout(self, key, carrots=1, leeks=2, status="dfc-v:Held", order=None):
        lines = [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": carrots,
                  "dfc-b:concerns": f"{self.api}/hub-a/offers/jean-carrots"},
                 {"@type": "dfc-b:OrderLine", "dfc-b:quantity": leeks,
                  "dfc-b:concerns": f"{self.api}/hub-a/offers/leeks"}]
        doc = {"@context": CTX, "@graph": [
            {"@id": order or "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": status,
             "dfc-b:belongsTo": f"{self.api}/hub-a/sale_sessions/week-48", "dfc-b:hasPart": lines},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
        headers = {**self.token, "Content-Type": "application/ld+json", "Idempotency-Key": key}
        if order:
            return self.http.put(order, json=doc, headers=headers)
        return self.http.post(f"{self.api}/hub-a/orders", json=doc, headers=headers)

    def held(self):
        """(carrots held at Jean's, leeks held here)."""
        jean = requests.get(f"{self.jean_direct}/jean-farm/catalog_items/carrots",
                            headers={"Accept": "application/ld+json"}).json()
        leeks = self.http.get(f"{self.api}/local-farm/catalog_items/leeks").json()
        return jean["hub:held"], leeks["hub:held"]

    def retry_queue(self):
        """What `serve`'s scheduler and `dfc-hub forward-orders` run: one pass over the queue."""
        return self.hub_app.extensions["dfc_hub"].orders.forwarder.retry_pending()


@pytest.fixture
def world(tmp_path):
    clock = ManualClock(MONDAY)
    proxy = FaultyProxy()
    proxy.start()
    jean_app = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'jean'}", public_base_url=proxy.url)
    hub_app = None

    def make_hub(base):
        nonlocal hub_app
        hub_app = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'hub'}", public_base_url=base,
                           webhook_allow_private=True, partner_timeout_seconds=TIMEOUT)
        return hub_app
    with serving(lambda base: jean_app) as jean_base, serving(make_hub) as hub_base:
        proxy.target = jean_base
        http = requests.Session()
        jean_api, api = f"{proxy.url}/api/dfc/enterprises", f"{hub_base}/api/dfc/enterprises"
        _farm(http, jean_api, "jean-farm", "carrots", 10)
        _farm(http, api, "local-farm", "leeks", 10)
        _put(http, f"{api}/hub-a", {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
        _resell(http, api, "hub-a", "jean-carrots", f"{jean_api}/jean-farm/supplied_products/carrots")
        _resell(http, api, "hub-a", "leeks", f"{api}/local-farm/supplied_products/leeks")
        _put(http, f"{api}/hub-a/sale_sessions/week-48", sale_week())
        r = http.post(f"{proxy.url}/api/admin/tokens", json={"agent": f"{api}/hub-a", "scopes": []}, headers=ADMIN_H)
        jean = f"{jean_api}/jean-farm"
        world = World(hub_base, jean_api, proxy, hub_app, jean_base)
        r = http.put(f"{api}/hub-a/partners/jean", headers=world.token, json={
            "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{jean}/orders", "token": r.json()["token"]})
        assert r.status_code == 201, r.text
        assert http.post(f"{api}/hub-a/partners/jean/sync", headers=world.token).status_code == 200
        try:
            yield world
        finally:
            proxy.set("pass")
            proxy.stop()


@pytest.mark.parametrize("fault,status", [("down", 503), ("slow", 503), ("500", 503)])
def test_a_partner_that_fails_the_first_post_leaves_nothing_reserved(world, fault, status):
    world.proxy.set(fault, delay=3 * TIMEOUT)
    r = world.checkout("basket-1")
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    world.proxy.settle()                     # a slow POST has now reached Jean's, after we gave up
    world.proxy.set("pass")
    world.retry_queue()                      # what the scheduler does next: Jean's order shrinks back
    assert world.held() == (0, 0)
    r = world.checkout("basket-1")           # the customer tries again, same key
    assert r.status_code == 201, r.text
    assert world.held() == (1, 2)
    assert world.checkout("basket-1").status_code == 201     # replayed, not reserved twice
    assert world.held() == (1, 2)


LD = {"Content-Type": "application/ld+json"}
GARBAGE = {
    "not JSON": (201, {**LD, "Location": "/api/dfc/enterprises/jean-farm/orders/x"}, b"<html>welcome</html>"),
    "a JSON array": (201, LD, b"[]"),
    "a remote context": (201, LD, b'{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "x", "@type": "dfc-b:Order"}'),
    "no Location": (201, LD, b"{}"),
    "elsewhere": (201, {**LD, "Location": "http://127.0.0.1:9/orders/1"},        # not the origin configured
                  b'{"@context": "https://www.datafoodconsortium.org", "@id": "http://127.0.0.1:9/orders/1", "@type": "dfc-b:Order"}'),
    "100,000 nodes": (200, LD, b'{"@graph": [' + b'{"@type": "dfc-b:OrderLine"},' * 100_000 + b'{}]}'),
    "a 409 in words": (409, {"Content-Type": "text/plain"}, b"no"),
    "a wrong datatype": (201, LD, b'{"@context": "https://www.datafoodconsortium.org", "@id": "/x", "@type": "dfc-b:Order",'
                                  b' "dfc-b:hasPart": {"dfc-b:quantity": {"@value": "9999-12-31", "@type": "xsd:date"}}}'),
}


@pytest.mark.parametrize("answer", list(GARBAGE), ids=list(GARBAGE))
def test_a_partner_answering_nonsense_is_a_clear_error_and_leaves_nothing_reserved(world, answer):
    """Whatever a partner platform sends back (the proxy answers for it, forwarding nothing), the
    customer gets a 4xx or 502/503 with a problem body, never a 500; nothing stays reserved here;
    the retry queue's pass does not fail on it; and once the platform is itself again, the same
    basket with the same key goes through."""
    world.proxy.answer = GARBAGE[answer]
    world.proxy.set("answer")
    r = world.checkout("basket-1")
    assert r.status_code in (409, 502, 503), r.text
    assert r.headers["Content-Type"] == "application/problem+json", r.text
    world.retry_queue()
    world.proxy.set("pass")
    world.retry_queue()
    assert world.held() == (0, 0)
    r = world.checkout("basket-1")
    assert r.status_code == 201, r.text
    assert world.held() == (1, 2)


def test_a_refusal_at_the_partner_is_the_customers_409_with_its_shortages(world):
    r = world.checkout("big", carrots=11)
    assert r.status_code == 409
    [shortage] = r.json()["shortages"]
    assert (shortage["offer"], shortage["requested"], shortage["available"]) == \
        (f"{world.api}/hub-a/offers/jean-carrots", "11", "10")
    assert world.held() == (0, 0)
    # Jean restocks; the same request now goes through.
    requests.put(f"{world.jean_api}/jean-farm/catalog_items/carrots", headers=ADMIN_H, json={
        "@context": CTX, "@id": f"{world.jean_api}/jean-farm/catalog_items/carrots", "@type": "dfc-b:CatalogItem",
        "dfc-b:stockLimitation": 20, "dfc-b:references": f"{world.jean_api}/jean-farm/supplied_products/carrots"})
    assert world.checkout("big", carrots=11).status_code == 201
    assert world.held() == (11, 2)


def test_a_partner_dying_between_our_post_and_our_put_keeps_only_what_it_acknowledged(world):
    world.proxy.set("die after POST")
    assert world.checkout("first").status_code == 201           # POSTed at Jean's, who then goes down
    world.proxy.wait_until_down()
    r = world.checkout("second", carrots=2, leeks=1)             # the PUT finds Jean's platform gone
    assert r.status_code == 503, r.text
    assert world.held() == (1, 2)       # the first basket only: nothing left for the second
    world.proxy.set("pass")
    r = world.checkout("second", carrots=2, leeks=1)
    assert r.status_code == 201, r.text
    assert world.held() == (3, 3)
    # A cancellation shrinks Jean's order at once.
    order = r.headers["Location"]
    assert world.checkout("cancel", carrots=2, leeks=1, status="dfc-v:Cancelled", order=order).status_code == 200
    assert world.held() == (1, 2)


def test_a_partner_removed_and_configured_again_under_another_name_takes_no_line_into_the_old_order(world):
    """Hub A removes the partner its week-48 order with Jean is forwarded to, then configures
    Jean's platform again as another partner. A checkout would have grown the old forwarded
    order, which no partner can be sent any more: it answered 404 after writing the basket. It is
    a 409 naming the partners, and nothing is written."""
    assert world.checkout("basket-1").status_code == 201
    hub = f"{world.api}/hub-a/partners"
    assert world.http.delete(f"{hub}/jean", headers=world.token).status_code == 204
    jean = f"{world.jean_api}/jean-farm"
    token = world.http.post(f"{world.proxy.url}/api/admin/tokens", json={"agent": f"{world.api}/hub-a", "scopes": []},
                            headers=ADMIN_H).json()["token"]
    r = world.http.put(f"{hub}/jean-again", headers=world.token, json={
        "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{jean}/orders", "token": token})
    assert r.status_code == 201, r.text
    assert world.http.post(f"{hub}/jean-again/sync", headers=world.token).status_code == 200
    orders = world.http.get(f"{world.api}/hub-a/orders", headers=world.token).json()
    r = world.checkout("basket-2")
    assert r.status_code == 409 and f"{hub}/jean" in r.json()["detail"] and f"{hub}/jean-again" in r.json()["detail"], r.text
    assert world.http.get(f"{world.api}/hub-a/orders", headers=world.token).json() == orders
    assert world.held() == (1, 2)


def test_an_order_whose_partner_was_removed_waits_out_of_the_retry_queue_until_it_is_back(world, caplog):
    """A forwarded order left pending (the partner was down) whose partner the hub then removed
    was tried, failed and logged on every pass of the queue, for ever. It now waits, still
    pending, out of the queue; the partner configured again under its name takes it back."""
    world.proxy.set("down")
    assert world.checkout("basket-1").status_code == 503
    world.proxy.set("pass")
    partner = f"{world.api}/hub-a/partners/jean"
    assert world.http.delete(partner, headers=world.token).status_code == 204
    caplog.clear()
    assert world.retry_queue() == (0, 0)
    assert not [r for r in caplog.records if "stays pending" in r.getMessage()]
    jean = f"{world.jean_api}/jean-farm"
    token = world.http.post(f"{world.proxy.url}/api/admin/tokens", json={"agent": f"{world.api}/hub-a", "scopes": []},
                            headers=ADMIN_H).json()["token"]
    r = world.http.put(partner, headers=world.token, json={
        "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{jean}/orders", "token": token})
    assert r.status_code == 201, r.text
    assert world.retry_queue() == (1, 0)                # back in the queue, and sent: Jean's order shrinks
    assert world.held() == (0, 0)


@pytest.mark.parametrize("location", [b"/orders/a b", b"/orders/a|b", b"/orders/%zz"])
def test_a_location_that_is_no_iri_is_a_502_and_leaves_nothing_reserved(world, location):
    """A partner's answer to our POST whose Location no IRI can be (a space, `|`, a bad escape;
    a raw server, as a framework would quote it) was a 500 that left the basket reserved."""
    jean = f"{world.jean_api}/jean-farm"
    token = world.http.post(f"{world.proxy.url}/api/admin/tokens", json={"agent": f"{world.api}/hub-a", "scopes": []},
                            headers=ADMIN_H).json()["token"]
    answer = b"HTTP/1.1 201 Created\r\nLocation: " + location + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with trickling(0, answer=answer) as orders:
        r = world.http.put(f"{world.api}/hub-a/partners/jean", headers=world.token, json={
            "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{orders.url}/orders", "token": token})
        assert r.status_code == 200, r.text
        r = world.checkout("basket-1")
        assert r.status_code == 502, r.text
        assert r.headers["Content-Type"] == "application/problem+json"
        assert world.held() == (0, 0)


def test_a_partner_answer_nested_past_any_parser_is_no_problem_body_and_no_500():
    """Reply.problem() read a partner's body with json.loads and let RecursionError through."""
    from app.partners.client import Reply
    deep = Reply(409, {"content-type": "application/problem+json"}, b"[" * 100_000 + b"]" * 100_000)
    assert deep.problem() == {}
    with pytest.raises(ValueError):
        deep.json()
