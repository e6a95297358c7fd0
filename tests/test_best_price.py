"""The best price, frozen on each line (issue 12, Done when): over real HTTP, the clock injected.

Jean's farm sells carrots to everybody at 3.00, to its "restaurants" customer category at 2.80
(hub A and hub B are members), and to hub A under a contract at 2.50 for November 2026. The
server's clock starts on 24 November 2026 (DFC_HUB_CLOCK_START): nothing depends on today.
Hub A, hub B and a shop (in no category) each place an order: 2.50, 2.80 and 3.00. Then the
farm changes every price; the lines placed keep theirs, and a new order gets the new one.
"""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pyoxigraph as ox
import pytest
from pyoxigraph import NamedNode
import requests
from conftest import ADMIN

from app import queries
from app.domain import order_documents as orders
from app.catalog import prices
from app.namespaces import DFC_B, HUB

pytestmark = pytest.mark.calendar

HUB_CTX = {"hub": HUB}
CTX = ["https://www.datafoodconsortium.org", HUB_CTX]
JSONLD = {"Content-Type": "application/ld+json"}
CATALOG_PRICE, PRICE_SOURCE, VALUE = HUB + "catalogPrice", HUB + "priceSource", DFC_B + "value"


class Hub:
    """The live server, its enterprises' IRIs, and a token per agent."""

    def __init__(self, base: str):
        self.base, self.api = base, f"{base}/api/dfc/enterprises"
        self.jean, self.hub_a, self.hub_b, self.shop = (
            f"{self.api}/{e}" for e in ("jean-farm", "hub-a", "hub-b", "corner-shop"))
        self.item, self.public = f"{self.jean}/catalog_items/carrots", f"{self.jean}/offers/carrots"
        self.category = f"{self.jean}/customer_categories/restaurants"
        self.category_offer = f"{self.jean}/offers/carrots-restaurants"
        self.tokens = {who: self._token(who) for who in (self.jean, self.hub_a, self.hub_b, self.shop)}

    def _token(self, agent: str) -> dict:
        r = requests.post(f"{self.base}/api/admin/tokens", json={"agent": agent, "scopes": []},
                          headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def send(self, method: str, url: str, who: str, body: dict, expect: int = 200) -> requests.Response:
        r = requests.request(method, url, json=body, headers={**JSONLD, **self.tokens[who]}, timeout=30)
        assert r.status_code == expect, r.text
        return r

    def triples(self, url: str, who: str) -> list:
        r = requests.get(url, headers={**self.tokens[who], "Accept": "application/n-triples"}, timeout=30)
        assert r.status_code == 200, r.text
        return [q.triple for q in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)]

    def offer(self, iri: str, value: str, category: str | None = None) -> None:
        """The farm (re)writes an offer of its carrots at `value` euros, to everybody or to a category."""
        body = {"@context": CTX, "@id": iri, "@type": "dfc-b:Offer", "dfc-b:offeredItem": self.item,
                "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": value, "dfc-b:hasUnit": "dfc-m:Euro"}}
        if category:
            body["dfc-b:offersTo"] = category
        exists = requests.get(iri, timeout=10).status_code == 200
        self.send("PUT", iri, self.jean, body, expect=200 if exists else 201)

    def contract(self, value: str, url: str | None = None) -> str:
        body = {"@context": CTX, "@type": "hub:Contract", "hub:consumer": {"@id": self.hub_a},
                "dfc-b:startDate": "2026-11-01", "dfc-b:endDate": "2026-11-30",
                "hub:contractPrice": {"hub:item": {"@id": self.item}, "dfc-b:hasPrice": {
                    "@type": "dfc-b:Price", "dfc-b:value": value, "dfc-b:hasUnit": {"@id": "dfc-m:Euro"}}}}
        if url is None:
            return self.send("POST", f"{self.jean}/contracts", self.jean, body, expect=201).headers["Location"]
        self.send("PUT", url, self.jean, {**body, "@id": url})
        return url

    def place(self, buyer: str, offer: str) -> str:
        """A wholesale order of 1 kg by `buyer`, Held, then Complete (placed): its URL."""
        order = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer,
                 "dfc-b:hasOrderStatus": "dfc-v:Held",
                 "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": offer, "dfc-b:quantity": 1}}
        url = self.send("POST", f"{self.jean}/orders", buyer, order, expect=201).headers["Location"]
        body = self.send("GET", url, buyer, None).json()
        node = next(n for n in body.get("@graph", [body]) if n.get("@type") == "dfc-b:Order")
        node["dfc-b:hasOrderStatus"] = "dfc-v:Complete"
        self.send("PUT", url, buyer, body)
        return url

    def frozen(self, order: str, who: str) -> tuple[Decimal, str]:
        """The one line's catalogue price and where it came from, as the order says."""
        doc = self.triples(order, who)
        about = {}
        for t in doc:
            about.setdefault(t.subject, {})[t.predicate.value] = t.object
        line = next(s for s, props in about.items() if CATALOG_PRICE in props)
        price = about[about[line][CATALOG_PRICE]]
        return Decimal(price[VALUE].value), about[line][PRICE_SOURCE].value


@pytest.fixture
def hub(live_server):
    return Hub(live_server(DFC_HUB_CLOCK_START="2026-11-24T10:00:00Z"))


def test_a_contract_beats_the_offers_for_its_consumer_only_and_the_frozen_price_stays(hub):
    hub.offer(hub.public, "3.00")
    category = {"@context": CTX, "@graph": [{"@id": hub.category, "@type": "dfc-b:CustomerCategory",
                                            "dfc-b:description": "restaurants",
                                            "hub:member": [{"@id": hub.hub_a}, {"@id": hub.hub_b}]}]}
    hub.send("POST", f"{hub.jean}/catalog", hub.jean, category)
    hub.offer(hub.category_offer, "2.80", hub.category)
    contract = hub.contract("2.50")

    a, b, shop = hub.place(hub.hub_a, hub.public), hub.place(hub.hub_b, hub.public), hub.place(hub.shop, hub.public)
    assert hub.frozen(a, hub.hub_a) == (Decimal("2.5"), contract)
    assert hub.frozen(b, hub.hub_b) == (Decimal("2.8"), hub.category_offer)
    assert hub.frozen(shop, hub.shop) == (Decimal("3"), hub.public)
    assert hub.frozen(a, hub.jean) == (Decimal("2.5"), contract)       # the supplier reads the same

    # The farm changes every price; what was placed keeps its price, even through the buyer's PUT.
    hub.offer(hub.public, "1.00")
    hub.offer(hub.category_offer, "0.90", hub.category)
    hub.contract("0.50", contract)
    body = hub.send("GET", shop, hub.shop, None).json()
    hub.send("PUT", shop, hub.shop, body)
    assert hub.frozen(a, hub.hub_a) == (Decimal("2.5"), contract)
    assert hub.frozen(b, hub.hub_b) == (Decimal("2.8"), hub.category_offer)
    assert hub.frozen(shop, hub.shop) == (Decimal("3"), hub.public)
    # A new order is priced now: the new prices.
    assert hub.frozen(hub.place(hub.hub_a, hub.public), hub.hub_a) == (Decimal("0.5"), contract)
    assert hub.frozen(hub.place(hub.shop, hub.public), hub.shop) == (Decimal("1"), hub.public)


def test_a_buyer_cannot_set_its_own_frozen_price(hub):
    hub.offer(hub.public, "3.00")
    order = hub.place(hub.shop, hub.public)
    body = hub.send("GET", order, hub.shop, None).json()
    assert "catalogPrice" in json.dumps(body)
    forged = _with_price(body, "0.01")
    hub.send("PUT", order, hub.shop, forged)
    assert hub.frozen(order, hub.shop) == (Decimal("3"), hub.public)
    assert not [t for t in hub.triples(order, hub.shop) if t.object.value == "0.01"]   # no stray price left
    # The people reading the public catalogue do not learn who belongs to a category either.
    assert "member" not in requests.get(f"{hub.jean}/catalog", timeout=10).text


def _with_price(body: dict, value: str) -> dict:
    """The order as read back, with every catalogue price's value replaced by `value`."""
    text = json.dumps(body)
    nodes = body.get("@graph", [body])
    for node in nodes:
        for key, found in list(node.items()):
            if key.endswith("catalogPrice") and isinstance(found, dict):
                found["dfc-b:value"] = value
    assert json.dumps(body) != text
    return body


def test_a_sale_sessions_close_freezes_the_price_of_each_wholesale_line():
    """Where orders are placed today by the close (one unit of work): hub A's wholesale order of
    Jean's carrots gets the farm's public price, 1.80, and keeps it when the farm's price changes."""
    from conftest import admin, make_app
    from support.orders import CARROTS, HUB_A, checkout, token_for

    client = make_app().test_client()
    hub_a = token_for(client, HUB_A)
    assert checkout(client, hub_a, "hub-a").status_code == 201
    assert client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=hub_a).status_code == 200

    def frozen():
        body = client.get("/api/dfc/enterprises/hub-a/sale_sessions/week-48/wholesale_orders", headers=hub_a).get_json()
        [line] = [n for n in body["@graph"] if n.get("@type") == "dfc-b:OrderLine"]
        price = _node_of(body, line["hub:catalogPrice"])
        return price["dfc-b:value"], price["dfc-b:hasUnit"], line["hub:priceSource"]

    assert frozen() == ("1.8", "dfc-m:Euro", CARROTS)
    assert _summary(client, hub_a)[:2] == ("1.8", "0")
    # The producer confirms 1.70 (as the lifecycle's `confirmed` will, through prices.confirm).
    store = client.application.extensions["dfc_hub"].store
    [order] = [r["order"] for r in store.select(queries.load("placed_for_session"), {
        "session": NamedNode(f"{HUB_A}/sale_sessions/week-48"), "buyer": NamedNode(HUB_A)})]
    with store.transaction() as tx:
        doc = tx.graph(order)
        tx.put(order, prices.confirm(doc, order, {line.iri: Decimal("1.70") for line in orders.lines(doc, order)}))
    assert _summary(client, hub_a) == ("1.8", "1.7")
    offer = client.get(CARROTS[len("http://hub.test"):]).get_json()
    offer["dfc-b:hasPrice"]["dfc-b:value"] = 9.99
    assert client.put(CARROTS[len("http://hub.test"):], headers=admin(), data=json.dumps(offer),
                      content_type="application/ld+json").status_code == 200
    assert frozen() == ("1.8", "dfc-m:Euro", CARROTS)


def _summary(client, token) -> tuple[str, str]:
    """The session summary's catalogue and confirmed values of Jean's carrots (CSV)."""
    r = client.get("/api/dfc/enterprises/hub-a/sale_sessions/week-48/summary", headers={**token, "Accept": "text/csv"})
    [row] = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    return row["catalogue_value"], row["confirmed_value"]


def _node_of(doc: dict, ref):
    """A node embedded or referenced (`{"@id": "_:b0"}`) in a compacted document."""
    if isinstance(ref, dict) and set(ref) != {"@id"}:
        return ref
    key = ref["@id"] if isinstance(ref, dict) else ref
    return next(n for n in doc.get("@graph", [doc]) if n.get("@id") == key)
