"""The checkout storm with the supplier lifecycle: buyers and the farm racing on the same orders.

On top of `support.order_storm`: a `Trader` is a wholesale buyer that also places its drafts
(PUT Complete, or POST …/status `placed`, most times after planning a delivery of part of
them), and on its placed orders cancels (while placed) or asks the farm to cancel. Placed
orders go on a shared `Board`; the farm's `Supplier` threads take orders off it and confirm
(sometimes by way of transferred or transfer_failed), produce, ship pending deliveries, cancel,
cancel the rest after a partial shipment, and answer cancellation requests yes or no. Each
chooses among what `lifecycle.allowed` lets it do in the status it just read; the others move
the same orders meanwhile, so many tries find the order moved on (409).

A shared order's status is then no one thread's to know: `support.order_audit` checks its
history against the lifecycle and against every move the server acknowledged (`Ack`).

    tokens = setup_catalogue(HttpClient(hub.url), ADMIN)
    farm = supplier_token(HttpClient(hub.url), ADMIN)
    actors = make_traders(8, lambda i: HttpClient(hub.url), tokens, farm)
    run_storm(actors, steps=60)
"""
from __future__ import annotations

import dataclasses
import json
import random
import threading
from collections.abc import Callable

from app.domain import lifecycle, statuses
from support.order_storm import (COMPLETE, CONTEXT, HUB_IRI, PUBLIC, SELLER_IRI, SESSION, Buyer, Lost, Reply,
                                 Request, State, jsonld_request)

LIFECYCLE_CONTEXT = [CONTEXT, {"hub": "https://w3id.org/dfc-order-hub/ns#"}]


def json_request(doc: dict, token: str) -> tuple[bytes, dict]:
    return json.dumps(doc).encode(), {"Authorization": f"Bearer {token}", "Accept": "application/ld+json",
                                      "Content-Type": "application/json"}


def supplier_token(client, admin_token: str) -> str:
    """A token for the farm: the supplier of every wholesale order in the storm."""
    r = client.send("POST", f"{PUBLIC}/api/admin/tokens", json.dumps({"agent": SELLER_IRI, "scopes": []}).encode(),
                    {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"})
    assert r.status == 201, r
    return r.body["token"]


def _nodes(body: dict | None) -> list[dict]:
    return body.get("@graph", [body]) if isinstance(body, dict) else []


@dataclasses.dataclass(frozen=True)
class Ack:
    """A lifecycle move the server answered 200 to: the step it says it recorded (and the delivery shipped)."""
    order: str
    step: str | None           # the order's newest hub:StatusChange in the answer
    to: str | None             # its hub:toStatus, e.g. "hub:confirmed"
    shipped: str | None = None

    @classmethod
    def of(cls, order: str, body: dict | None, shipped: str | None = None) -> Ack:
        steps = [n for n in _nodes(body) if n.get("@type") == "hub:StatusChange"]
        last = max(steps, key=lambda n: int(n["@id"].rsplit("/", 1)[-1]), default={})
        return cls(order, last.get("@id"), last.get("hub:toStatus"), shipped)


class Board:
    """The placed wholesale orders the buyers share with the farm's supplier threads."""

    def __init__(self):
        self._changed = threading.Condition()
        self._orders: list[str] = []
        self._placing = 0           # traders still running: orders may yet come

    def placing(self) -> None:
        """Count one more trader whose orders may come (from before the storm starts)."""
        with self._changed:
            self._placing += 1

    def done_placing(self) -> None:
        """A trader has stopped: once all have, the farm waits for no more orders."""
        with self._changed:
            self._placing -= 1
            self._changed.notify_all()

    def add(self, order: str) -> None:
        with self._changed:
            self._orders.append(order)
            self._changed.notify_all()

    def discard(self, order: str) -> None:
        with self._changed:
            if order in self._orders:
                self._orders.remove(order)

    def pick(self, rng: random.Random) -> str | None:
        """An order off the board, waiting while there is none and a trader may still place one;
        None once none will come. (No timeout: under libfaketime a timed wait never ends.)"""
        with self._changed:
            self._changed.wait_for(lambda: self._orders or not self._placing)
            return rng.choice(self._orders) if self._orders else None


def lifecycle_view(body: dict | None):
    """(status, where a cancellation request came from, unshipped deliveries that carry something)."""
    nodes = _nodes(body)
    order = next(n for n in nodes if n.get("@type") == "dfc-b:Order")
    steps = sorted((n for n in nodes if n.get("@type") == "hub:StatusChange"),
                   key=lambda n: int(n["@id"].rsplit("/", 1)[-1]))
    origin = None
    for step in steps:
        if statuses.parse(step.get("hub:toStatus")) == statuses.CANCELATION_REQUESTED:
            origin = statuses.parse(step.get("hub:fromStatus"))
    pending = sorted(n["@id"] for n in nodes if n.get("@type") == "hub:Delivery"
                     and not n.get("hub:shippedAt") and n.get("hub:hasDeliveryLine"))
    return statuses.parse(order.get("hub:status")), origin, pending


def _read(order: str, token: str, state: State | None = None) -> Request:
    return Request("read", order, state, state, "GET", order, None,
                   {"Authorization": f"Bearer {token}", "Accept": "application/ld+json"})


class Trader(Buyer):
    """A wholesale buyer in the lifecycle: places its drafts onto the board, plans, cancels, asks."""

    # Drafts are placed more often than a checkout-only buyer completes them: placed orders
    # are what the farm moves.
    MIX = (0.4, 0.55, 0.8, 0.9)

    def __init__(self, name: str, client, agent: str, token: str, seed: int, board: Board):
        super().__init__(name, client, agent, token, seed)
        self.board = board
        board.placing()
        self.shared: set[str] = set()                 # its placed orders, on the board
        self.final: set[str] = set()                  # shared orders seen in a final status
        self.lines: dict[str, dict[str, int]] = {}    # draft → its lines' IRIs → quantity, as last answered
        self.acks: list[Ack] = []

    def run(self, *args, **kwargs) -> None:
        try:
            super().run(*args, **kwargs)
        finally:
            self.board.done_placing()       # however it ended: the farm must not wait for it

    def step(self) -> Request:
        going = sorted(self.shared - self.final)
        if going and self.rng.random() < 0.3:
            return self.ask(self.rng.choice(going))
        return super().step()

    def finish(self, order: str, status: str) -> Request:
        if status == COMPLETE and self.rng.random() < 0.5:
            return self.place_by_status(order)
        return super().finish(order, status)

    def place_by_status(self, order: str) -> Request:
        """Place a draft with POST …/status, most times after planning a delivery of part of it."""
        if order in self.lines and self.rng.random() < 0.7:
            planned = self.deliver(order)
            if not planned.succeeded():
                return planned
        before = self.orders[order]
        return self._send(Request("placed", order, before, State.of(COMPLETE, before.counts()), "POST",
                                  f"{order}/status", *json_request({"status": "placed"}, self.token)))

    def deliver(self, order: str) -> Request:
        """One delivery carrying 1..all of each line (the order goes split; the rest stays unallocated)."""
        lines = self.lines.pop(order)       # once per draft: two could carry more than a line has
        body = {"@context": LIFECYCLE_CONTEXT, "@type": "hub:Delivery", "hub:desiredDeliveryDate": "2026-12-01",
                "hub:hasDeliveryLine": [{"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line},
                                         "dfc-b:quantity": self.rng.randint(1, q)} for line, q in lines.items()]}
        state = self.orders[order]
        return self._send(Request("deliver", order, state, state, "POST", f"{order}/deliveries",
                                  *jsonld_request(body, self.token)))

    def ask(self, order: str) -> Request:
        """Read a placed order, then cancel it (while placed) or ask the farm to; it may move meanwhile (409)."""
        state = self.orders[order]
        read = self._send(_read(order, self.token, state))
        if read.status != 200:
            return read
        current, origin, _ = lifecycle_view(read.answer)
        targets = lifecycle.allowed(current, {lifecycle.CONSUMER}, origin)
        if not targets:
            if current in statuses.FINAL:
                self.final.add(order)
            return read
        target = statuses.name(self.rng.choice(targets))
        return self._send(Request(f"move {target}", order, state, state, "POST", f"{order}/status",
                                  *json_request({"status": target}, self.token)))

    def settle(self, req: Request, reply: Reply) -> None:
        """As a buyer does; then note the lines to plan deliveries of, the move made, the order placed."""
        super().settle(req, reply)
        if reply.status not in (200, 201):
            return
        body = reply.body or {}
        if req.op == "read":
            req.answer = body
        if req.op in ("place", "change"):
            self.lines[req.order] = {n["@id"]: n["dfc-b:hasQuantity"]["dfc-b:value"] for n in _nodes(body)
                                     if n.get("@type") == "dfc-b:OrderLine"}
        if req.op in ("placed", "complete") or req.op.startswith("move "):
            self.acks.append(Ack.of(req.order, body))
        if req.after is not None and req.after.status == COMPLETE and req.order not in self.shared:
            self.shared.add(req.order)
            self.board.add(req.order)


class Supplier:
    """The farm (one thread): reads an order off the board and makes one move the supplier may make."""

    def __init__(self, name: str, client, token: str, board: Board, seed: int):
        self.name, self.client, self.token, self.board = name, client, token, board
        self.rng = random.Random(seed)
        self.requests: list[Request] = []
        self.acks: list[Ack] = []
        self.lost: Request | None = None
        self.error: BaseException | None = None
        # What the audit reads of a buyer: a supplier owns no order and was refused none.
        self.orders: dict = {}
        self.refused: set = set()
        self.session = None

    def step(self) -> Request | None:
        """Read one order off the board and make one move the supplier may make in its status."""
        order = self.board.pick(self.rng)      # none on the board yet: waits, without using a step
        if order is None:           # nor will be: every trader has stopped
            return None
        read = self._send(_read(order, self.token))
        if read.status != 200:
            return read
        current, origin, pending = lifecycle_view(read.answer)
        if current in statuses.FINAL:
            self.board.discard(order)
            return read
        shippable = lifecycle.allowed(current, {lifecycle.SUPPLIER}, origin, how=(lifecycle.BY_SHIPPING,))
        if pending and shippable and self.rng.random() < 0.6:
            delivery = self.rng.choice(pending)
            return self._send(Request("ship", order, None, None, "POST", f"{delivery}/ship", None,
                                      {"Authorization": f"Bearer {self.token}", "Accept": "application/ld+json"}),
                              shipped=delivery)
        targets = lifecycle.allowed(current, {lifecycle.SUPPLIER}, origin)
        if not targets:
            return read
        # Mostly forward or answering: the farm's own cancelling ends an order, and ships need
        # orders still going.
        weights = [1 if t in (statuses.CANCELED_BY_SUPPLIER, statuses.REMAINDER_CANCELED) else 4 for t in targets]
        target = statuses.name(self.rng.choices(targets, weights)[0])
        return self._send(Request(f"move {target}", order, None, None, "POST", f"{order}/status",
                                  *json_request({"status": target}, self.token)))

    def _send(self, req: Request, shipped: str | None = None) -> Request:
        self.requests.append(req)
        try:
            reply = self.client.send(req.method, req.url, req.body, req.headers)
        except Lost:
            self.lost = req
            raise
        req.status, req.location = reply.status, reply.location
        if reply.status == 200:
            req.answer = reply.body
            if req.op != "read":
                self.acks.append(Ack.of(req.order, reply.body, shipped))
        else:
            req.problem = reply.body
        return req

    run = Buyer.run


def make_traders(count: int, client_for: Callable[[int], object], tokens: dict[str, str], farm_token: str,
                 *, seed: int = 0) -> list:
    """`count` threads sharing one board: i % 4 == 3 the hub's checkout (as in `make_buyers`),
    i % 4 == 1 the farm's supplier, the others traders for the wholesale buyers in turn."""
    board, wholesale = Board(), sorted(t for t in tokens if t != HUB_IRI)
    actors, turn = [], 0
    for i in range(count):
        if i % 4 == 3:
            actors.append(Buyer(f"t{i}", client_for(i), HUB_IRI, tokens[HUB_IRI], seed * 1000 + i, session=SESSION))
        elif i % 4 == 1:
            actors.append(Supplier(f"t{i}", client_for(i), farm_token, board, seed * 1000 + i))
        else:
            agent = wholesale[turn % len(wholesale)]
            turn += 1
            actors.append(Trader(f"t{i}", client_for(i), agent, tokens[agent], seed * 1000 + i, board))
    return actors
