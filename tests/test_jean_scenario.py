"""The DFC docs' worked example, end to end over HTTP (DESIGN.md "The flows").

Jean has 10 kg of carrots, sold via Hub A (session Mon–Fri) and Hub B (Tue–Thu). Ali 1 kg (A,
Mon), Paul 5 kg (A, Tue), David 3 kg (B, Wed) succeed; Michael's 2 kg (B, Thu) is refused with
1 kg left. Hub B's order completes Thursday with 3 kg, Hub A's Friday with 6 kg; Jean is never
short. Then Jean ships Hub B's order in the two deliveries Hub B planned (on hand 10 → 7,
committed 9 → 6) and cancels Hub A's (committed 6 → 0, available 1 → 7). The server runs on
127.0.0.1 with a clock the test sets, so no one waits for Friday.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from app.cli import FIXTURES
from app.domain.clock import ManualClock
from conftest import ADMIN, make_app
from support.threaded_server import serving

pytestmark = pytest.mark.calendar     # reads the clock or builds dates: also run with the calendar moved

CTX = "https://www.datafoodconsortium.org"
UTC = dt.timezone.utc


def test_jean_is_never_short(tmp_path):
    clock = ManualClock(dt.datetime(2026, 11, 23, 9, tzinfo=UTC))        # Monday
    store = f"oxigraph:{tmp_path / 'store'}"
    with serving(lambda base: make_app(demo=False, clock=clock, store=store, public_base_url=base)) as base:
        api = f"{base}/api/dfc/enterprises"
        http = requests.Session()
        admin = {"Authorization": f"Bearer {ADMIN}"}
        # The demo data, written through the API: enterprises first, then each resource.
        graph = json.loads((FIXTURES / "demo" / "jean-scenario.json").read_text())["@graph"]

        def put(node):
            doc = json.loads(json.dumps(node).replace('"enterprises/', f'"{api}/'))
            doc["@context"] = CTX
            r = http.put(doc["@id"], json=doc, headers={**admin, "Content-Type": "application/ld+json"})
            assert r.status_code in (200, 201), r.text

        for node in graph:
            if node["@type"] == "dfc-b:Enterprise":
                put({k: v for k, v in node.items() if k not in ("dfc-b:supplies", "dfc-b:manages")})
        for node in graph:
            if node["@type"] != "dfc-b:Enterprise":
                put(node)
        tokens = {}
        for eid in ("jean-farm", "hub-a", "hub-b"):
            r = http.post(f"{base}/api/admin/tokens", json={"agent": f"{api}/{eid}", "scopes": []},
                          headers=admin)
            tokens[eid] = {"Authorization": f"Bearer {r.json()['token']}"}

        def checkout(hub, customer, kg):
            doc = {"@context": CTX, "@graph": [
                {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c",
                 "dfc-b:hasOrderStatus": "dfc-v:Held",
                 "dfc-b:belongsTo": f"{api}/{hub}/sale_sessions/week-48",
                 "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": kg,
                                    "dfc-b:concerns": f"{api}/{hub}/offers/jean-carrots"}]},
                {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": customer}]}
            return http.post(f"{api}/{hub}/orders", json=doc,
                             headers={**tokens[hub], "Content-Type": "application/ld+json"})

        def carrots():
            return http.get(f"{api}/jean-farm/catalog_items/carrots").json()

        def wholesale(hub):
            r = http.get(f"{api}/{hub}/sale_sessions/week-48/wholesale_orders", headers=tokens[hub])
            assert r.status_code == 200
            body = r.json()
            nodes = body.get("@graph", [body] if "@id" in body else [])
            [order] = [n for n in nodes if n["@type"] == "dfc-b:Order"]
            lines = [n for n in nodes if n["@type"] == "dfc-b:OrderLine"]
            return order, sum(line["dfc-b:hasQuantity"]["dfc-b:value"] for line in lines)

        assert checkout("hub-a", "Ali", 1).status_code == 201
        clock.set(dt.datetime(2026, 11, 24, 9, tzinfo=UTC))                   # Tuesday
        assert checkout("hub-a", "Paul", 5).status_code == 201
        clock.set(dt.datetime(2026, 11, 25, 9, tzinfo=UTC))                   # Wednesday
        assert checkout("hub-b", "David", 3).status_code == 201
        clock.set(dt.datetime(2026, 11, 26, 9, tzinfo=UTC))                   # Thursday
        michael = checkout("hub-b", "Michael", 2)
        assert michael.status_code == 409
        [shortage] = michael.json()["shortages"]
        assert (shortage["requested"], shortage["available"]) == ("2", "1")
        assert carrots()["dfc-b:stockLimitation"] == 1

        clock.set(dt.datetime(2026, 11, 26, 18, 30, tzinfo=UTC))              # B closes Thursday
        assert http.post(f"{api}/hub-b/sale_sessions/week-48/close", headers=tokens["hub-b"]).status_code == 200
        order_b, kg_b = wholesale("hub-b")
        assert (order_b["dfc-b:hasOrderStatus"], order_b["dfc-b:hasFulfilmentStatus"], kg_b) == \
            ("dfc-v:Complete", "dfc-v:Unfulfilled", 3)
        order_a, kg_a = wholesale("hub-a")
        assert (order_a["dfc-b:hasOrderStatus"], kg_a) == ("dfc-v:Held", 6)

        clock.set(dt.datetime(2026, 11, 27, 18, 30, tzinfo=UTC))              # A closes Friday
        assert http.post(f"{api}/hub-a/sale_sessions/week-48/close", headers=tokens["hub-a"]).status_code == 200
        order_a, kg_a = wholesale("hub-a")
        assert (order_a["dfc-b:hasOrderStatus"], kg_a) == ("dfc-v:Complete", 6)

        item = carrots()
        assert (item["dfc-b:stockLimitation"], item["hub:committed"], item["hub:held"], item["hub:onHand"]) == \
            (1, 9, 0, 10)
        # Jean reads both wholesale orders in his own collection, each naming its hub.
        mine = http.get(f"{api}/jean-farm/orders", headers=tokens["jean-farm"]).json()
        buyers = {n["dfc-b:orderedBy"] for n in mine["@graph"] if n["@type"] == "dfc-b:Order"}
        assert buyers == {f"{api}/hub-a", f"{api}/hub-b"}

        # After the sessions: Hub B plans two deliveries of its placed order, Jean confirms and
        # ships them; each takes its kilograms out of on hand and committed.
        order_b_path = order_b["@id"]
        line_b = [n["@id"] for n in http.get(order_b_path, headers=tokens["hub-b"]).json()["@graph"]
                  if n["@type"] == "dfc-b:OrderLine"]
        hub_ctx = [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}]
        made = []
        for kg, day in ((2, "2026-11-30"), (1, "2026-12-02")):
            delivery = {"@context": hub_ctx, "@type": "hub:Delivery", "hub:desiredDeliveryDate": day,
                        "hub:hasDeliveryLine": {"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line_b[0]},
                                                "dfc-b:quantity": kg}}
            r = http.post(f"{order_b_path}/deliveries", json=delivery,
                          headers={**tokens["hub-b"], "Content-Type": "application/ld+json"})
            assert r.status_code == 201, r.text
            made.append(r.headers["Location"])
        assert http.post(f"{order_b_path}/status", json={"status": "confirmed"},
                         headers=tokens["jean-farm"]).status_code == 200
        seen = []
        for delivery in made:
            r = http.post(f"{delivery}/ship", headers=tokens["jean-farm"])
            assert r.status_code == 200, r.text
            item = carrots()
            seen.append((item["hub:onHand"], item["hub:committed"], _main(r.json())["hub:status"]))
        assert seen == [(8, 7, "hub:partially_shipped"), (7, 6, "hub:shipped")]
        assert (_main(r.json())["dfc-b:hasOrderStatus"], _main(r.json())["dfc-b:hasFulfilmentStatus"]) == \
            ("dfc-v:Complete", "dfc-v:Fulfilled")

        # Jean cannot deliver Hub A's order: he cancels it, and its 6 kg are available again.
        r = http.post(f"{order_a['@id']}/status", json={"status": "canceled_by_supplier", "reason": "frost"},
                      headers=tokens["jean-farm"])
        assert r.status_code == 200, r.text
        assert (_main(r.json())["dfc-b:hasOrderStatus"], _main(r.json())["hub:status"]) == \
            ("dfc-v:Cancelled", "hub:canceled_by_supplier")
        item = carrots()
        assert (item["dfc-b:stockLimitation"], item["hub:committed"], item["hub:held"], item["hub:onHand"]) == \
            (1 + 6, 0, 0, 7)
        # Hub A reads why, in the order's history.
        history = [n for n in http.get(order_a["@id"], headers=tokens["hub-a"]).json()["@graph"]
                   if n["@type"] == "hub:StatusChange"]
        assert any(n.get("hub:reason") == "frost" and n["hub:changedBy"] == f"{api}/jean-farm" for n in history)


def _main(body: dict) -> dict:
    return next(n for n in body.get("@graph", [body]) if n["@type"] == "dfc-b:Order")
