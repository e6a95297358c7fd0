"""Driving a wholesale order through its lifecycle over HTTP: in-process (Flask) or a real server.

`Api` wraps either a Flask test client or a base URL (requests), so the same steps serve the
generated matrix (fast, in-process) and the walk over real HTTP.
"""
from __future__ import annotations

import json
from decimal import Decimal

import requests

from app.domain import lifecycle
from app.domain.statuses import (CANCELATION_REQUESTED, CANCELED_BY_CONSUMER, CANCELED_BY_SUPPLIER, CONFIRMED,
                                 DRAFT, PARTIALLY_SHIPPED, PLACED, PRODUCING, REMAINDER_CANCELED, SHIPPED,
                                 TRANSFER_FAILED, TRANSFERRED, name)

JSONLD = "application/ld+json"
HUB_CONTEXT = {"hub": "https://w3id.org/dfc-order-hub/ns#"}
CTX = ["https://www.datafoodconsortium.org", HUB_CONTEXT]


class Api:
    """One HTTP surface: `target` is a Flask test client or a base URL."""

    def __init__(self, target):
        self.target = target

    def send(self, method: str, path: str, headers: dict, body=None, json_body=None) -> tuple[int, dict | None]:
        data, kind = (json.dumps(body), JSONLD) if body is not None else \
            (json.dumps(json_body), "application/json") if json_body is not None else (None, None)
        headers = {**headers, "Accept": "application/ld+json", **({"Content-Type": kind} if kind else {})}
        if isinstance(self.target, str):
            r = requests.request(method, self.target + path, headers=headers, data=data, timeout=30)
            return r.status_code, (r.json() if r.content and "json" in r.headers.get("Content-Type", "") else None)
        r = self.target.open(path, method=method, headers=headers, data=data)
        return r.status_code, r.get_json(silent=True)


def nodes(body: dict) -> list[dict]:
    return body.get("@graph", [body])


def order_node(body: dict) -> dict:
    return next(n for n in nodes(body) if n.get("@type") == "dfc-b:Order")


def view(body: dict) -> dict:
    """What a party reads of an order: its statuses and its history, oldest first."""
    main = order_node(body)
    steps = [n for n in nodes(body) if n.get("@type") == "hub:StatusChange"]
    steps.sort(key=lambda n: int(n["@id"].rsplit("/", 1)[1]))
    return {"status": main.get("hub:status", "").removeprefix("hub:"),
            "dfc": (main.get("dfc-b:hasOrderStatus"), main.get("dfc-b:hasFulfilmentStatus")),
            "history": [(s.get("hub:fromStatus", "").removeprefix("hub:") or None,
                         s["hub:toStatus"].removeprefix("hub:"), s["hub:changedBy"]) for s in steps]}


class Orders:
    """A consumer buying directly (no sale session) from a supplier, with one token each."""

    def __init__(self, api: Api, supplier_eid: str, consumer_iri: str, offer: str, consumer: dict, supplier: dict):
        self.api, self.eid, self.consumer_iri, self.offer = api, supplier_eid, consumer_iri, offer
        self.tokens = {lifecycle.CONSUMER: consumer, lifecycle.SUPPLIER: supplier}

    def create(self, quantity=4, split=(2, 2)) -> str:
        """A draft with one line of `quantity`, and (split) the consumer's deliveries of those parts."""
        body = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": self.consumer_iri,
                "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity, "dfc-b:concerns": self.offer}}
        status, answer = self.api.send("POST", f"/api/dfc/enterprises/{self.eid}/orders",
                                       self.tokens[lifecycle.CONSUMER], body=body)
        assert status == 201, answer
        path = "/api/dfc/" + order_node(answer)["@id"].split("/api/dfc/", 1)[1]
        line = next(n["@id"] for n in nodes(answer) if n.get("@type") == "dfc-b:OrderLine")
        for part in split or ():
            self.delivery(path, {line: part})
        return path

    def delivery(self, path: str, lines: dict, day="2026-12-01", role=lifecycle.CONSUMER) -> tuple[int, dict]:
        body = {"@context": CTX, "@type": "hub:Delivery", "hub:desiredDeliveryDate": day,
                "hub:hasDeliveryLine": [{"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line},
                                         "dfc-b:quantity": q} for line, q in lines.items()]}
        return self.api.send("POST", path + "/deliveries", self.tokens[role], body=body)

    def read(self, path: str, role=lifecycle.SUPPLIER) -> dict:
        status, body = self.api.send("GET", path, self.tokens[role])
        assert status == 200, body
        return body

    def move(self, path: str, target, role: str, reason: str | None = None) -> tuple[int, dict]:
        payload = {"status": name(target) if not isinstance(target, str) else target}
        if reason:
            payload["reason"] = reason
        return self.api.send("POST", path + "/status", self.tokens[role], json_body=payload)

    def ship_next(self, path: str, role=lifecycle.SUPPLIER) -> tuple[int, dict]:
        """Ship the first delivery not yet shipped."""
        status, body = self.api.send("GET", path + "/deliveries", self.tokens[role])
        assert status == 200, body
        shipped = {n["@id"] for n in nodes(body) if n.get("hub:shippedAt")}
        pending = sorted(n["@id"] for n in nodes(body) if n.get("@type") == "hub:Delivery" and n["@id"] not in shipped)
        assert pending, body
        return self.api.send("POST", "/api/dfc/" + pending[0].split("/api/dfc/", 1)[1] + "/ship", self.tokens[role])

    def reach(self, status, origin=None) -> str:
        """A fresh order brought to `status` by the moves the table allows (`origin`: where a
        cancellation request came from)."""
        path = self.create()
        for step in PATHS[status] if status != CANCELATION_REQUESTED else [*PATHS[origin], (CANCELATION_REQUESTED, "c")]:
            target, who = step
            if who == "ship":
                code, body = self.ship_next(path)
            else:
                code, body = self.move(path, target, lifecycle.CONSUMER if who == "c" else lifecycle.SUPPLIER)
            assert code == 200, (status, step, body)
        return path


# How to reach each status from a fresh draft: (target, "c" consumer / "s" supplier / "ship").
_CONFIRMED = [(PLACED, "c"), (CONFIRMED, "s")]
PATHS = {
    DRAFT: [],
    PLACED: [(PLACED, "c")],
    TRANSFERRED: [(PLACED, "c"), (TRANSFERRED, "s")],
    TRANSFER_FAILED: [(PLACED, "c"), (TRANSFER_FAILED, "s")],
    CONFIRMED: _CONFIRMED,
    PRODUCING: [*_CONFIRMED, (PRODUCING, "s")],
    PARTIALLY_SHIPPED: [*_CONFIRMED, (PARTIALLY_SHIPPED, "ship")],
    SHIPPED: [*_CONFIRMED, (PARTIALLY_SHIPPED, "ship"), (SHIPPED, "ship")],
    CANCELED_BY_CONSUMER: [(CANCELED_BY_CONSUMER, "c")],
    CANCELED_BY_SUPPLIER: [(CANCELED_BY_SUPPLIER, "s")],
    REMAINDER_CANCELED: [*_CONFIRMED, (PARTIALLY_SHIPPED, "ship"), (REMAINDER_CANCELED, "s")],
}


def number(value) -> Decimal:
    return Decimal(str(value))
