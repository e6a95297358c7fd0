"""Order helpers the test modules share: the demo's IRIs, a checkout, an order, the ledger of an item.

Test modules import these from here, never from one another.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.domain.clock import ManualClock
from conftest import ADMIN, BASE, DEMO_MONDAY, jsonld, make_app, token_for

API = BASE + "/api/dfc/enterprises"
JEAN, HUB_A, HUB_B = f"{API}/jean-farm", f"{API}/hub-a", f"{API}/hub-b"
CARROTS = f"{JEAN}/offers/carrots"
CARROTS_ITEM = "/api/dfc/enterprises/jean-farm/catalog_items/carrots"
CTX = "https://www.datafoodconsortium.org"
MONDAY = DEMO_MONDAY     # the demo's first sale session opened this morning


def after_session_end(client, hub: str = "hub-a", session: str = "week-48") -> dt.datetime:
    """An hour after a demo session's endDate, as the store holds it: ended, not yet closed."""
    end = client.get(f"/api/dfc/enterprises/{hub}/sale_sessions/{session}").get_json()["dfc-b:endDate"]
    end = end["@value"] if isinstance(end, dict) else end
    return dt.datetime.fromisoformat(end.replace("Z", "+00:00")) + dt.timedelta(hours=1)


def sale_week(monday: dt.datetime = MONDAY) -> dict:
    """A sale session's node open the whole week of `monday`, Monday 08:00 to Friday 18:00 UTC:
    its dates follow the test's clock, never a date written here."""
    start = monday.astimezone(dt.timezone.utc).replace(hour=8, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=4, hours=10)
    return {"@type": "dfc-b:SaleSession", "dfc-b:startDate": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dfc-b:endDate": end.strftime("%Y-%m-%dT%H:%M:%SZ")}


def order(*lines, status="dfc-v:Held", buyer=HUB_A, id_="#", **extra):
    return {"@context": CTX, "@id": id_, "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": status,
            "dfc-b:orderedBy": buyer, **extra,
            "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": q, "dfc-b:concerns": offer,
                               **(more[0] if more else {})} for offer, q, *more in lines]}


def ledger(client, path=CARROTS_ITEM) -> dict:
    doc = client.get(path).get_json()
    keys = {"dfc-b:stockLimitation": "available", "hub:onHand": "onHand", "hub:held": "held",
            "hub:committed": "committed"}
    return {name: Decimal(str(doc[k])) for k, name in keys.items() if k in doc}


def place(client, token, doc, seller="jean-farm", **headers):
    return client.post(f"/api/dfc/enterprises/{seller}/orders", headers={**token, **headers}, **jsonld(doc))


def path_of(location: str) -> str:
    return location[len(BASE):]


def lines_of(body: dict) -> list[dict]:
    graph = body.get("@graph", [body])
    return [n for n in graph if n.get("@type") == "dfc-b:OrderLine"]


def main_node(body: dict) -> dict:
    return next(n for n in body.get("@graph", [body]) if n.get("@type") == "dfc-b:Order")


def add_item(client, eid: str, name: str, stock, price=2.0) -> str:
    """Add a product, its catalogue item (stock) and an offer to an enterprise; return the offer."""
    ns = f"{API}/{eid}"
    item = {"@id": f"{ns}/catalog_items/{name}", "@type": "dfc-b:CatalogItem",
            "dfc-b:references": f"{ns}/supplied_products/{name}", "dfc-b:offeredThrough": f"{ns}/offers/{name}"}
    if stock is not None:
        item["dfc-b:stockLimitation"] = stock
    doc = {"@context": CTX, "@graph": [
        {"@id": f"{ns}/supplied_products/{name}", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": name},
        item,
        {"@id": f"{ns}/offers/{name}", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{ns}/catalog_items/{name}",
         "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": price, "dfc-b:hasUnit": "dfc-m:Euro"}}]}
    r = client.post(f"/api/dfc/enterprises/{eid}/catalog", headers={"Authorization": f"Bearer {ADMIN}"},
                    **jsonld(doc))
    assert r.status_code == 200, r.get_data(as_text=True)
    return f"{ns}/offers/{name}"


def checkout(client, token, hub="hub-a", *lines, status="dfc-v:Held", name="Ali", session="week-48"):
    hub_ns = f"{API}/{hub}"
    doc = {"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": status,
         "dfc-b:belongsTo": f"{hub_ns}/sale_sessions/{session}",
         "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": q, "dfc-b:concerns": o}
                           for o, q in (lines or [(f"{hub_ns}/offers/jean-carrots", 1)])]},
        {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": name}]}
    return client.post(f"/api/dfc/enterprises/{hub}/orders", headers=token, **jsonld(doc))


def wholesale(client, token, hub="hub-a") -> list[dict]:
    r = client.get(f"/api/dfc/enterprises/{hub}/sale_sessions/week-48/wholesale_orders", headers=token)
    assert r.status_code == 200
    body = r.get_json()
    return [n for n in body.get("@graph", [body]) if n.get("@type") == "dfc-b:Order"]


def quantity(line: dict):
    """A line's quantity as the server answers it: dfc-b:hasQuantity's value (DFC's current form)."""
    return line["dfc-b:hasQuantity"]["dfc-b:value"]


def wholesale_quantities(client, token, hub="hub-a") -> dict:
    r = client.get(f"/api/dfc/enterprises/{hub}/sale_sessions/week-48/wholesale_orders", headers=token)
    return {line["dfc-b:concerns"]: quantity(line) for line in lines_of(r.get_json())}


# Fixtures of the order tests: the demo on a fresh in-memory store, with a hand-set clock on the
# Monday of the demo's week, and a token for each enterprise. Modules import them by name.
@pytest.fixture
def clock():
    return ManualClock(MONDAY)


@pytest.fixture
def client(clock):
    return make_app(clock=clock).test_client()


@pytest.fixture
def hub_a(client):
    return token_for(client, HUB_A)


@pytest.fixture
def hub_b(client):
    return token_for(client, HUB_B)


@pytest.fixture
def jean(client):
    return token_for(client, JEAN)
