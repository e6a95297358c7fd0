"""What a partner's sync keeps belongs to the partner configuration that synced it (issue 20, finding 1).

Three real servers on 127.0.0.1: Jean's producer platform (ours), a hub platform (ours) with
hubs A and B, and the server of hub A's operator, which serves whatever catalogue it likes.
Hub B buys Jean's carrots at 9.90 through its partner configuration. Whatever hub A configures
and syncs — a forged copy of Jean's catalogue, the real one at another moment, marks of ours
inside its own catalogue — hub B's checkouts forward at the price hub B's own sync fetched, and
hub B's next sync finds its copy as it left it.
"""
from __future__ import annotations

import contextlib
import json

import pytest
import requests
from pyoxigraph import NamedNode

from app.domain import order_documents as orders
from app.domain.clock import ManualClock
from app.namespaces import T
from app.rdf.triples import Indexed
from conftest import ADMIN, make_app
from support.orders import MONDAY, sale_week
from support.threaded_server import serving

pytestmark = pytest.mark.calendar

CTX = "https://www.datafoodconsortium.org"
HUB_NS = "https://w3id.org/dfc-order-hub/ns#"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
JSONLD = {"Content-Type": "application/ld+json"}


def _put(http, iri, node):
    r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers={**ADMIN_H, **JSONLD})
    assert r.status_code in (200, 201), r.text


def _price(value):
    return {"@type": "dfc-b:Price", "dfc-b:value": value, "dfc-b:hasUnit": "dfc-m:Euro"}


class Served:
    """A server of hub A's operator: answers each path with the JSON-LD set for it (404 else)."""

    def __init__(self):
        self.documents: dict[str, dict] = {}

    def __call__(self, environ, start_response):
        doc = self.documents.get(environ.get("PATH_INFO", ""))
        if doc is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no"]
        start_response("200 OK", [("Content-Type", "application/ld+json")])
        return [json.dumps(doc).encode()]


class World:
    """Jean's platform, the hub platform with hubs A and B, and hub A's operator's server."""

    def __init__(self, jean_base, hub_base, evil_base, served, hub_app):
        self.http, self.served, self.hub_app = requests.Session(), served, hub_app
        self.jean_api, self.api = f"{jean_base}/api/dfc/enterprises", f"{hub_base}/api/dfc/enterprises"
        self.evil = evil_base
        self.jean = f"{self.jean_api}/jean-farm"
        self.tokens = {eid: self._token(hub_base, f"{self.api}/{eid}") for eid in ("hub-a", "hub-b")}
        self.remote_tokens = {eid: self._token(jean_base, f"{self.api}/{eid}") for eid in ("hub-a", "hub-b")}

    def _token(self, base, agent):
        r = self.http.post(f"{base}/api/admin/tokens", json={"agent": agent, "scopes": []}, headers=ADMIN_H)
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def auth(self, eid):
        return {"Authorization": f"Bearer {self.tokens[eid]}"}

    def configure(self, eid, slug, enterprise, catalog, orders):
        return self.http.put(f"{self.api}/{eid}/partners/{slug}", headers=self.auth(eid), json={
            "enterprise": enterprise, "catalog": catalog, "orders": orders, "token": self.remote_tokens[eid]})

    def configure_jean(self, eid):
        r = self.configure(eid, "jean", self.jean, f"{self.jean}/catalog", f"{self.jean}/orders")
        assert r.status_code == 201, r.text

    def sync(self, eid, slug="jean"):
        return self.http.post(f"{self.api}/{eid}/partners/{slug}/sync", headers=self.auth(eid))

    def checkout(self, eid, kg=1):
        api = self.api
        doc = {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{api}/{eid}/sale_sessions/week-48",
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": kg,
                                "dfc-b:concerns": f"{api}/{eid}/offers/jean-carrots"}]},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
        return self.http.post(f"{api}/{eid}/orders", json=doc, headers={**self.auth(eid), **JSONLD})

    def forwarded_lines(self, eid):
        """(offer, price) of each line of the hub's orders forwarded to partners, as the hub recorded them."""
        summary = self.http.get(f"{self.api}/{eid}/sale_sessions/week-48/summary",
                                headers={**self.auth(eid), "Accept": "application/ld+json"}).json()
        store = self.hub_app.extensions["dfc_hub"].store
        out = []
        for node in summary.get("@graph", []):
            if "hub:syncState" not in node:
                continue
            order = NamedNode(node["@id"])
            doc = store.graph(order)
            index = Indexed(doc)
            for line in orders.lines(doc, order):
                price = index.first(line.iri, T.hasPrice)
                value = index.first(price, T.value) if price is not None else None
                out.append((line.offer.value, float(value.value) if value is not None else None))
        return sorted(out)

    def held_at_jean(self):
        item = self.http.get(f"{self.jean}/catalog_items/carrots", headers={"Accept": "application/ld+json"}).json()
        return item["hub:held"]


@contextlib.contextmanager
def world_of(tmp_path):
    clock = ManualClock(MONDAY)
    served, hub_app = Served(), None

    def make_hub(base):
        nonlocal hub_app
        hub_app = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'hub'}", public_base_url=base,
                           webhook_allow_private=True)
        return hub_app
    with serving(lambda base: make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'jean'}",
                                       public_base_url=base)) as jean_base, \
            serving(make_hub) as hub_base, serving(lambda base: served) as evil_base:
        world = World(jean_base, hub_base, evil_base, served, hub_app)
        http, jean, api = world.http, world.jean, world.api
        _put(http, jean, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Jean's farm"})
        _put(http, f"{jean}/supplied_products/carrots", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Carrots"})
        _put(http, f"{jean}/catalog_items/carrots", {
            "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10,
            "dfc-b:references": f"{jean}/supplied_products/carrots", "dfc-b:offeredThrough": f"{jean}/offers/carrots"})
        _put(http, f"{jean}/offers/carrots", {"@type": "dfc-b:Offer",
                                              "dfc-b:offeredItem": f"{jean}/catalog_items/carrots",
                                              "dfc-b:hasPrice": _price(9.90)})
        for eid in ("hub-a", "hub-b"):
            _put(http, f"{api}/{eid}", {"@type": "dfc-b:Enterprise", "dfc-b:name": eid})
            _put(http, f"{api}/{eid}/sale_sessions/week-48", sale_week())
            _put(http, f"{api}/{eid}/catalog_items/jean-carrots", {
                "@type": "dfc-b:CatalogItem", "dfc-b:references": f"{jean}/supplied_products/carrots"})
            _put(http, f"{api}/{eid}/offers/jean-carrots", {
                "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{api}/{eid}/catalog_items/jean-carrots",
                "dfc-b:hasPrice": _price(12)})
        yield world


def _forged_copy_of_jean(jean):
    """Jean's catalogue as hub A's operator would like hub B to believe it: 0.01 a kilo, "FORGED"."""
    return {"@context": CTX, "@graph": [
        {"@id": f"{jean}/supplied_products/carrots", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "FORGED"},
        {"@id": f"{jean}/catalog_items/carrots", "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10,
         "dfc-b:references": f"{jean}/supplied_products/carrots", "dfc-b:offeredThrough": f"{jean}/offers/carrots"},
        {"@id": f"{jean}/offers/carrots", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{jean}/catalog_items/carrots",
         "dfc-b:hasPrice": _price(0.01)}]}


def test_a_forged_catalogue_another_hub_syncs_never_reaches_this_hubs_copies(tmp_path):
    with world_of(tmp_path) as w:
        w.configure_jean("hub-b")
        assert w.sync("hub-b").status_code == 200
        # Hub A names hub B's remote producer and points its catalogue at its own server.
        w.served.documents["/catalog"] = _forged_copy_of_jean(w.jean)
        r = w.configure("hub-a", "jean", w.jean, f"{w.evil}/catalog", f"{w.evil}/orders")
        if r.status_code in (200, 201):
            w.sync("hub-a")
        else:
            assert r.status_code == 422 and r.json()["field"] == "catalog", r.text
        assert w.checkout("hub-b").status_code == 201
        assert w.forwarded_lines("hub-b") == [(f"{w.jean}/offers/carrots", 9.9)]
        assert w.held_at_jean() == 1
        # Hub B's copy is as hub B's sync left it: its next sync finds the product and offer as they
        # were at Jean's (the item's stock figures moved with the checkout).
        report = w.sync("hub-b").json()
        assert (report["added"], report["changed"], report["removed"]) == \
            ([], [f"{w.jean}/catalog_items/carrots"], []), report


def test_another_hubs_later_sync_of_the_same_producer_leaves_this_hubs_copy_as_it_fetched_it(tmp_path):
    with world_of(tmp_path) as w:
        w.configure_jean("hub-b")
        assert w.sync("hub-b").status_code == 200
        _put(w.http, f"{w.jean}/offers/carrots", {"@type": "dfc-b:Offer",
                                                  "dfc-b:offeredItem": f"{w.jean}/catalog_items/carrots",
                                                  "dfc-b:hasPrice": _price(12.50)})
        w.configure_jean("hub-a")
        report = w.sync("hub-a").json()
        assert len(report["added"]) == 3, report        # hub A's own copies, not hub B's
        assert w.checkout("hub-b").status_code == 201
        assert w.forwarded_lines("hub-b") == [(f"{w.jean}/offers/carrots", 9.9)]
        assert w.checkout("hub-a").status_code == 201
        assert w.forwarded_lines("hub-a") == [(f"{w.jean}/offers/carrots", 12.5)]
        # Hub B learns of the new price from its own sync only.
        report = w.sync("hub-b").json()
        assert f"{w.jean}/offers/carrots" in report["changed"], report
        # Hub A removing its partner takes nothing of hub B's.
        assert w.http.delete(f"{w.api}/hub-a/partners/jean", headers=w.auth("hub-a")).status_code == 204
        assert w.checkout("hub-b", kg=2).status_code == 201
        assert w.held_at_jean() == 4         # 1 + 2 for hub B, 1 for hub A
        assert w.sync("hub-b").json()["removed"] == []


def test_marks_of_ours_inside_a_fetched_catalogue_are_not_taken_for_ours(tmp_path):
    with world_of(tmp_path) as w:
        # Hub B has configured Jean but not synced yet: it knows nothing of Jean's catalogue.
        w.configure_jean("hub-b")
        partner_b = f"{w.api}/hub-b/partners/jean"
        farm = f"{w.evil}/farm"
        w.served.documents["/farm/catalog"] = {"@context": CTX, "@graph": [
            {"@id": f"{farm}/items/x", "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 100,
             "dfc-b:references": f"{w.jean}/supplied_products/carrots", "dfc-b:offeredThrough": f"{farm}/offers/x",
             HUB_NS + "fetchedBy": {"@id": partner_b}},
            {"@id": f"{farm}/offers/x", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{farm}/items/x",
             "dfc-b:hasPrice": _price(0.01), HUB_NS + "fetchedBy": {"@id": partner_b}}]}
        r = w.configure("hub-a", "mine", farm, f"{farm}/catalog", f"{farm}/orders")
        assert r.status_code == 201, r.text
        w.sync("hub-a", "mine")
        # Hub B still has no copy of its own of anything that sells Jean's carrots.
        r = w.checkout("hub-b")
        assert r.status_code == 422, r.text
        assert w.forwarded_lines("hub-b") == []


def test_a_document_of_another_hub_marked_as_this_hubs_copy_is_never_read_as_one(tmp_path):
    """Hub A's own catalogue item on the hub platform, stating of itself what marks a copy
    (`hub:copyOf` itself, `hub:fetchedBy` hub B's partner), was read as hub B's copy of an item
    of Jean's: hub B's checkouts of Jean's carrots went through hub A's item and offer."""
    with world_of(tmp_path) as w:
        w.configure_jean("hub-b")           # not synced: hub B has no copy of its own yet
        mine = f"{w.api}/hub-a/catalog_items/forged"
        _put(w.http, f"{w.api}/hub-a/offers/forged", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": mine,
                                                     "dfc-b:hasPrice": _price(0.01)})
        _put(w.http, mine, {"@type": "dfc-b:CatalogItem", "dfc-b:references": f"{w.jean}/supplied_products/carrots",
                            "dfc-b:offeredThrough": f"{w.api}/hub-a/offers/forged",
                            HUB_NS + "copyOf": {"@id": mine},
                            HUB_NS + "fetchedBy": {"@id": f"{w.api}/hub-b/partners/jean"}})
        r = w.checkout("hub-b")
        assert r.status_code == 422, r.text
        assert w.forwarded_lines("hub-b") == []
        assert w.sync("hub-b").json()["removed"] == []
        assert w.checkout("hub-b").status_code == 201
        assert w.forwarded_lines("hub-b") == [(f"{w.jean}/offers/carrots", 9.9)]
