"""The DFC docs' Jean scenario across two platforms of ours, against the same on one server.

Jean's farm lives on a producer platform, hubs A and B on a hub platform, each server with its
own store, on 127.0.0.1. The hubs configure Jean's platform as a partner, sync its catalogue
and sell Jean's carrots; their customers' checkouts are forwarded to Jean's platform as the
hubs' Held orders there. The reservations, the refusal of Michael's 2 kg and the final ledger
must be what one server gives (tests/test_jean_scenario.py). Both servers read one hand-set clock.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
import requests

from app.cli import FIXTURES
from app.domain.clock import ManualClock
from conftest import ADMIN, make_app
from support.threaded_server import serving

pytestmark = pytest.mark.calendar

CTX = "https://www.datafoodconsortium.org"
UTC = dt.timezone.utc
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
JSONLD = {"Content-Type": "application/ld+json"}
GRAPH = json.loads((FIXTURES / "demo" / "jean-scenario.json").read_text())["@graph"]


class Platform:
    """One server of ours over HTTP: its API base and an admin session."""

    def __init__(self, base: str):
        self.base, self.api, self.http = base, f"{base}/api/dfc/enterprises", requests.Session()

    def put(self, node: dict, names: dict) -> None:
        text = json.dumps(node)
        for old, new in names.items():
            text = text.replace(f'"{old}', f'"{new}')
        doc = {**json.loads(text), "@context": CTX}
        r = self.http.put(doc["@id"], json=doc, headers={**ADMIN_H, **JSONLD})
        assert r.status_code in (200, 201), r.text

    def token(self, agent: str) -> dict:
        r = self.http.post(f"{self.base}/api/admin/tokens", json={"agent": agent, "scopes": []}, headers=ADMIN_H)
        return {"Authorization": f"Bearer {r.json()['token']}"}


def _load(platform: Platform, nodes, names) -> None:
    for node in nodes:                  # enterprises first, without their links to what comes later
        if node["@type"] == "dfc-b:Enterprise":
            platform.put({k: v for k, v in node.items() if k not in ("dfc-b:supplies", "dfc-b:manages")}, names)
    for node in nodes:
        if node["@type"] != "dfc-b:Enterprise":
            platform.put(node, names)


def _is_jean(node) -> bool:
    return node["@id"].startswith("enterprises/jean-farm")


@contextlib.contextmanager
def one_server(tmp_path, clock):
    with serving(lambda base: make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'one'}",
                                       public_base_url=base)) as base:
        p = Platform(base)
        _load(p, GRAPH, {"enterprises/": f"{p.api}/"})
        yield Sides(p, p, {e: p.token(f"{p.api}/{e}") for e in ("hub-a", "hub-b", "jean-farm")})


@contextlib.contextmanager
def two_servers(tmp_path, clock):
    def app(name):
        return lambda base: make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / name}",
                                     public_base_url=base, webhook_allow_private=True)
    with serving(app("producer")) as producer_base, serving(app("hub")) as hub_base:
        producer, hub = Platform(producer_base), Platform(hub_base)
        _load(producer, [n for n in GRAPH if _is_jean(n)], {"enterprises/": f"{producer.api}/"})
        _load(hub, [n for n in GRAPH if not _is_jean(n)],
              {"enterprises/jean-farm/": f"{producer.api}/jean-farm/", "enterprises/": f"{hub.api}/"})
        tokens = {e: hub.token(f"{hub.api}/{e}") for e in ("hub-a", "hub-b")}
        tokens["jean-farm"] = producer.token(f"{producer.api}/jean-farm")
        jean = f"{producer.api}/jean-farm"
        for eid in ("hub-a", "hub-b"):
            remote = producer.token(f"{hub.api}/{eid}")["Authorization"].split(" ", 1)[1]
            r = hub.http.put(f"{hub.api}/{eid}/partners/jean", headers=tokens[eid], json={
                "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{jean}/orders", "token": remote})
            assert r.status_code == 201, r.text
            r = hub.http.post(f"{hub.api}/{eid}/partners/jean/sync", headers=tokens[eid])
            assert r.status_code == 200, r.text
            report = r.json()
            # Each hub's partner keeps copies of its own: hub B's first sync adds, as hub A's did.
            assert (len(report["added"]), report["changed"], report["unchanged"]) == (3, [], 0), report
            assert f"{jean}/catalog_items/carrots" in report["added"]
        yield Sides(hub, producer, tokens)


class Sides:
    """Where the hubs sell and where Jean's farm keeps its stock (the same server, or two)."""

    def __init__(self, hub: Platform, producer: Platform, tokens: dict):
        self.hub, self.producer, self.tokens = hub, producer, tokens

    def checkout(self, eid, customer, kg):
        api = self.hub.api
        doc = {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{api}/{eid}/sale_sessions/week-48",
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": kg,
                                "dfc-b:concerns": f"{api}/{eid}/offers/jean-carrots"}]},
            {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": customer}]}
        return self.hub.http.post(f"{api}/{eid}/orders", json=doc, headers={**self.tokens[eid], **JSONLD})

    def ledger(self):
        item = self.producer.http.get(f"{self.producer.api}/jean-farm/catalog_items/carrots").json()
        return tuple(item.get(k) for k in ("dfc-b:stockLimitation", "hub:held", "hub:committed", "hub:onHand"))

    def close(self, eid):
        r = self.hub.http.post(f"{self.hub.api}/{eid}/sale_sessions/week-48/close", headers=self.tokens[eid])
        assert r.status_code == 200, r.text

    def at_jean(self):
        """Jean's own view: each hub's order with him, its status and kilograms."""
        body = self.producer.http.get(f"{self.producer.api}/jean-farm/orders", headers=self.tokens["jean-farm"]).json()
        nodes = body.get("@graph", [])
        lines = {n["@id"]: n for n in nodes if n["@type"] == "dfc-b:OrderLine"}
        out = {}
        for order in (n for n in nodes if n["@type"] == "dfc-b:Order"):
            parts = order.get("dfc-b:hasPart", [])
            parts = parts if isinstance(parts, list) else [parts]
            kg = sum(lines[p]["dfc-b:hasQuantity"]["dfc-b:value"] for p in parts)
            out[order["dfc-b:orderedBy"].rsplit("/", 1)[-1]] = (order["dfc-b:hasOrderStatus"], kg)
        return out


def _scenario(sides: Sides, clock: ManualClock) -> list:
    """Run the week; return what a hub, a customer and Jean see at each step."""
    seen = []
    clock.set(dt.datetime(2026, 11, 23, 9, tzinfo=UTC))                       # Monday
    seen.append(("Ali", sides.checkout("hub-a", "Ali", 1).status_code, sides.ledger()))
    clock.set(dt.datetime(2026, 11, 24, 9, tzinfo=UTC))
    seen.append(("Paul", sides.checkout("hub-a", "Paul", 5).status_code, sides.ledger()))
    clock.set(dt.datetime(2026, 11, 25, 9, tzinfo=UTC))
    seen.append(("David", sides.checkout("hub-b", "David", 3).status_code, sides.ledger()))
    clock.set(dt.datetime(2026, 11, 26, 9, tzinfo=UTC))
    michael = sides.checkout("hub-b", "Michael", 2)
    refusal = [(s["requested"], s["available"]) for s in michael.json().get("shortages", [])]
    seen.append(("Michael", michael.status_code, refusal, sides.ledger()))
    clock.set(dt.datetime(2026, 11, 26, 18, 30, tzinfo=UTC))
    sides.close("hub-b")
    seen.append(("B closed", sides.ledger(), sides.at_jean()))
    clock.set(dt.datetime(2026, 11, 27, 18, 30, tzinfo=UTC))
    sides.close("hub-a")
    seen.append(("A closed", sides.ledger(), sides.at_jean()))
    return seen


def _weights(sides: Sides) -> list:
    """The kilograms of each row of hub A's session summary."""
    summary = sides.hub.http.get(f"{sides.hub.api}/hub-a/sale_sessions/week-48/summary",
                                 headers=sides.tokens["hub-a"]).json()
    nodes = summary.get("@graph", [summary])
    rows = [r for n in nodes for r in (n.get("hub:row") if isinstance(n.get("hub:row"), list) else [n.get("hub:row")])
            if r]
    return [r["hub:totalWeight"] for r in rows]


def test_jean_across_two_platforms_sees_what_one_server_gives(tmp_path):
    clock = ManualClock(dt.datetime(2026, 11, 23, 9, tzinfo=UTC))
    with one_server(tmp_path, clock) as sides:
        alone = _scenario(sides, clock)
        weights_alone = _weights(sides)
    with two_servers(tmp_path, clock) as sides:
        across = _scenario(sides, clock)
        summary = sides.hub.http.get(f"{sides.hub.api}/hub-a/sale_sessions/week-48/summary",
                                     headers=sides.tokens["hub-a"]).json()
        weights_across = _weights(sides)
    assert across == alone
    # Jean's carrots weigh what Jean's catalogue says, read here from hub A's own copy of it.
    assert weights_across == weights_alone == [6]
    assert alone[3] == ("Michael", 409, [("2", "1")], (1, 9, 0, 10))
    assert alone[-1] == ("A closed", (1, 0, 9, 10), {"hub-a": ("dfc-v:Complete", 6), "hub-b": ("dfc-v:Complete", 3)})
    # The hub's summary shows its order forwarded to Jean's platform, acknowledged there.
    forwarded = [n for n in summary["@graph"] if "hub:syncState" in n]
    assert [n["hub:syncState"] for n in forwarded] == ["synced"]
