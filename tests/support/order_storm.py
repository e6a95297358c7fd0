"""Checkout storms: buyers racing to reserve the same few items of one producer.

Two kinds of buyer race for the farm's stock, as in DESIGN.md's flows:

- wholesale buyers (shop-1, shop-2) POST Held orders straight to the farm's `orders`;
- customer checkouts at a hub (shop-3) POST Held customer orders in the hub's open sale
  session; the server adds their lines to the hub's one wholesale order with the farm.

Each buyer (one thread) owns the orders it places: nobody else writes them, so after every
answer it knows what the server must hold for each of them. `support.order_audit` reads the
store afterwards and lists every way it disagrees with the buyers.

With a `Board` (the supplier lifecycle), a wholesale buyer's placed orders are shared: it puts
them on the board, plans deliveries before placing some, and asks to cancel or cancels them; the
farm's `Supplier` threads take orders off the board and confirm, produce, ship deliveries,
cancel and answer cancellation requests, racing the buyers and each other. A shared order's
status is then no one thread's to know: the audit checks it against the lifecycle's rules and
against every move the server acknowledged.

    tokens = setup_catalogue(HttpClient(hub.url), ADMIN)
    buyers = make_buyers(8, lambda i: HttpClient(hub.url), tokens)
    run_storm(buyers, steps=40)

    actors = make_traders(8, lambda i: HttpClient(hub.url), tokens,
                          supplier_token(HttpClient(hub.url), ADMIN))

The same buyers run over HTTP (`HttpClient`) or Flask's test client (`FlaskClient`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

import requests

from app.domain import lifecycle, statuses

PUBLIC = "http://hub.test"
CONTEXT = "https://www.datafoodconsortium.org"
SELLER = "farm"
SELLER_IRI = f"{PUBLIC}/api/dfc/enterprises/{SELLER}"
ORDERS = f"{SELLER_IRI}/orders"
# Small stock on purpose: eight buyers asking 1–5 of one to three items each run out within
# a few dozen orders, so most requests race for the last units and many are refused.
STOCK = {"a": 40, "b": 25, "c": 30}
WHOLESALE_BUYERS = ("shop-1", "shop-2")
HUB = "shop-3"                          # sells to customers in one open sale session
HUB_IRI = f"{PUBLIC}/api/dfc/enterprises/{HUB}"
SESSION = f"{HUB_IRI}/sale_sessions/this-week"
HELD, COMPLETE, CANCELLED = "Held", "Complete", "Cancelled"
HUB_NS = "https://w3id.org/dfc-order-hub/ns#"
LIFECYCLE_CONTEXT = [CONTEXT, {"hub": HUB_NS}]


def item_iri(name: str) -> str:
    return f"{SELLER_IRI}/catalog_items/{name}"


def offer_iri(name: str) -> str:
    return f"{SELLER_IRI}/offers/{name}"


ITEMS = {item_iri(n): Decimal(q) for n, q in STOCK.items()}
ITEM_OF_OFFER = {offer_iri(n): item_iri(n) for n in STOCK}


# --- talking to a server ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    location: str | None
    body: dict | None
    etag: str | None = None


class Lost(Exception):
    """The request may or may not have reached the server: its answer never came."""


class HttpClient:
    """A `requests` session to one server process; IRIs under PUBLIC are sent to it."""

    def __init__(self, server: str, timeout: float = 60.0):
        self.server, self.timeout = server, timeout
        self.http = requests.Session()

    def send(self, method: str, iri: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        url = self.server + iri.removeprefix(PUBLIC)
        try:
            r = self.http.request(method, url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise Lost(str(e)) from e
        return Reply(r.status_code, r.headers.get("Location"), _json(r.content), r.headers.get("ETag"))


class FlaskClient:
    """The same interface over a Flask app's test client (in-process, no sockets)."""

    def __init__(self, app):
        self.client = app.test_client()

    def send(self, method: str, iri: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        r = self.client.open(iri.removeprefix(PUBLIC), method=method, data=body, headers=headers or {})
        return Reply(r.status_code, r.headers.get("Location"), _json(r.get_data()), r.headers.get("ETag"))


def _json(content: bytes) -> dict | None:
    try:
        body = json.loads(content) if content else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def jsonld_request(doc: dict, token: str) -> tuple[bytes, dict]:
    return json.dumps(doc).encode(), {"Authorization": f"Bearer {token}", "Accept": "application/ld+json",
                                      "Content-Type": "application/ld+json"}


def json_request(doc: dict, token: str) -> tuple[bytes, dict]:
    return json.dumps(doc).encode(), {"Authorization": f"Bearer {token}", "Accept": "application/ld+json",
                                      "Content-Type": "application/json"}


def _nodes(body: dict) -> list[dict]:
    return body.get("@graph", [body]) if isinstance(body, dict) else []


def setup_catalogue(client, admin_token: str) -> dict[str, str]:
    """Create the farm and its catalogue (STOCK), the buyers, the hub's open session.

    Returns buyer IRI → token.
    """
    for eid in (SELLER, *WHOLESALE_BUYERS, HUB):
        r = client.send("PUT", f"{PUBLIC}/api/dfc/enterprises/{eid}", *jsonld_request(
            {"@context": CONTEXT, "@type": "dfc-b:Enterprise", "dfc-b:name": eid}, admin_token))
        assert r.status == 201, r
    graph = []
    for name, quantity in STOCK.items():
        product = f"{SELLER_IRI}/supplied_products/{name}"
        graph += [{"@id": product, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": f"product {name}"},
                  {"@id": item_iri(name), "@type": "dfc-b:CatalogItem", "dfc-b:references": product,
                   "dfc-b:stockLimitation": quantity, "dfc-b:offeredThrough": offer_iri(name)},
                  {"@id": offer_iri(name), "@type": "dfc-b:Offer", "dfc-b:offeredItem": item_iri(name)}]
    r = client.send("POST", f"{SELLER_IRI}/catalog",
                    *jsonld_request({"@context": CONTEXT, "@graph": graph}, admin_token))
    assert r.status == 200, r
    # Open from yesterday to tomorrow: the storm runs inside it on the real clock.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    r = client.send("PUT", SESSION, *jsonld_request({
        "@context": CONTEXT, "@type": "dfc-b:SaleSession",
        "dfc-b:startDate": (now - dt.timedelta(days=1)).isoformat(),
        "dfc-b:endDate": (now + dt.timedelta(days=1)).isoformat()}, admin_token))
    assert r.status == 201, r
    tokens = {}
    for eid in (*WHOLESALE_BUYERS, HUB):
        iri = f"{PUBLIC}/api/dfc/enterprises/{eid}"
        r = client.send("POST", f"{PUBLIC}/api/admin/tokens",
                        json.dumps({"agent": iri, "scopes": []}).encode(),
                        {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"})
        assert r.status == 201, r
        tokens[iri] = r.body["token"]
    return tokens


def supplier_token(client, admin_token: str) -> str:
    """A token for the farm: the supplier of every wholesale order in the storm."""
    r = client.send("POST", f"{PUBLIC}/api/admin/tokens", json.dumps({"agent": SELLER_IRI, "scopes": []}).encode(),
                    {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"})
    assert r.status == 201, r
    return r.body["token"]


# --- what a buyer believes --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class State:
    """An order as the store must hold it: its status and quantity per stock item."""
    status: str
    lines: tuple[tuple[str, Decimal], ...]       # (item IRI, quantity), sorted

    @classmethod
    def of(cls, status: str, quantities: dict[str, int | Decimal]) -> State:
        return cls(status, tuple(sorted((i, Decimal(q)) for i, q in quantities.items())))

    def counts(self) -> dict[str, Decimal]:
        return dict(self.lines)


@dataclasses.dataclass
class Request:
    """One request a thread sent (a write, or a lifecycle read), and what came of it (status None: lost)."""
    op: str
    order: str | None            # None: a POST whose IRI the server mints
    before: State | None         # None: absent
    after: State | None
    method: str
    url: str
    body: bytes | None
    headers: dict
    person: str | None = None    # a customer order's buyer
    status: int | None = None
    problem: dict | None = None
    location: str | None = None
    answer: dict | None = None   # a 2xx's body, where the lifecycle needs it

    def succeeded(self) -> bool:
        return self.status in (200, 201, 204)


@dataclasses.dataclass(frozen=True)
class Ack:
    """A lifecycle move the server answered 200 to: the step it says it recorded (and the delivery shipped)."""
    order: str
    step: str | None           # the order's newest hub:StatusChange in the answer
    to: str | None             # its hub:toStatus, e.g. "hub:confirmed"
    shipped: str | None = None

    @classmethod
    def of(cls, order: str, body: dict, shipped: str | None = None) -> Ack:
        steps = [n for n in _nodes(body) if n.get("@type") == "hub:StatusChange"]
        last = max(steps, key=lambda n: int(n["@id"].rsplit("/", 1)[-1]), default={})
        return cls(order, last.get("@id"), last.get("hub:toStatus"), shipped)


class Board:
    """The placed wholesale orders the buyers share with the farm's supplier threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._orders: list[str] = []

    def add(self, order: str) -> None:
        with self._lock:
            self._orders.append(order)

    def discard(self, order: str) -> None:
        with self._lock:
            if order in self._orders:
                self._orders.remove(order)

    def pick(self, rng: random.Random) -> str | None:
        with self._lock:
            return rng.choice(self._orders) if self._orders else None


class Buyer:
    """One client thread: places, changes, completes, cancels and deletes its own orders.

    A customer buyer (`session` set) is a hub's checkout page: its orders are the hub's
    customer orders in that session, each for a new Person.
    """

    def __init__(self, name: str, client, agent: str, token: str, seed: int, *,
                 session: str | None = None, minted_share: float = 0.25, idempotent: bool = False,
                 board: Board | None = None):
        self.name, self.client, self.agent, self.token = name, client, agent, token
        self.session, self.board = session, board
        self.shared: set[str] = set()                 # placed orders on the board (the supplier moves them)
        self.final: set[str] = set()                  # shared orders seen in a final status
        self.lines: dict[str, dict[str, int]] = {}    # order → its lines' IRIs → quantity, as last answered
        self.acks: list[Ack] = []                     # lifecycle moves the server acknowledged
        self.collection = f"{agent}/orders" if session else ORDERS
        self.rng = random.Random(seed)
        self.minted_share, self.idempotent = minted_share, idempotent
        self.orders: dict[str, State | None] = {}     # what the store must hold, per order
        self.people: dict[str, str] = {}              # customer order → its Person
        self.refused: set[str] = set()                # chosen IRIs of POSTs refused with 409
        self.requests: list[Request] = []
        self.lost: Request | None = None              # the request whose answer never came
        self.error: BaseException | None = None
        self._count = 0

    def step(self) -> Request:
        """One random step over the buyer's own orders."""
        held = [o for o, s in self.orders.items() if s is not None and s.status == HELD]
        going = sorted(self.shared - self.final)
        if self.board is not None and going and self.rng.random() < 0.3:
            return self.ask(self.rng.choice(going))
        roll = self.rng.random()
        # With a board, drafts are placed more often: placed orders are what the farm moves.
        place, change, complete, cancel = (0.5, 0.72, 0.82, 0.91) if self.board is None else (0.4, 0.55, 0.8, 0.9)
        if not held or roll < place:
            return self.place()
        order = self.rng.choice(held)
        if roll < change:
            return self.change(order)
        if roll < complete:
            return self.finish(order, COMPLETE)
        if roll < cancel:
            return self.finish(order, CANCELLED)
        return self.delete(order)

    def place(self) -> Request:
        self._count += 1
        slug = f"{self.name}-{self._count}"
        chosen = None if self.rng.random() < self.minted_share else f"{self.collection}/{slug}"
        person = f"{self.agent}/persons/{slug}" if self.session else None
        quantities = self._quantities()
        body = self._order(chosen or "#", HELD, quantities, person)
        return self._send(Request("place", chosen, None, State.of(HELD, quantities), "POST",
                                  self.collection, *jsonld_request(body, self.token), person=person))

    def change(self, order: str) -> Request:
        before = self.orders[order]
        quantities = self._quantities()
        while State.of(HELD, quantities) == before:      # a change must change something
            quantities = self._quantities()
        return self._put("change", order, State.of(HELD, quantities))

    def finish(self, order: str, status: str) -> Request:
        if status == COMPLETE and self.board is not None and self.rng.random() < 0.5:
            return self.place_by_status(order)
        return self._put(status.lower(), order, State.of(status, self.orders[order].counts()))

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
        """As the consumer of a placed order: read it, then cancel it (while placed) or ask the supplier to.

        The farm may move the order between the read and the write: then 409.
        """
        state = self.orders[order]
        read = self._send(Request("read", order, state, state, "GET", order, None,
                                  {"Authorization": f"Bearer {self.token}", "Accept": "application/ld+json"}))
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

    def delete(self, order: str) -> Request:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self._send(Request("delete", order, self.orders[order], None, "DELETE", order, None, headers))

    def _put(self, op: str, order: str, after: State) -> Request:
        body = self._order(order, after.status, after.counts(), self.people.get(order))
        return self._send(Request(op, order, self.orders[order], after, "PUT", order,
                                  *jsonld_request(body, self.token), person=self.people.get(order)))

    def _quantities(self) -> dict[str, int]:
        names = self.rng.sample(sorted(STOCK), self.rng.randint(1, 3))
        return {item_iri(n): self.rng.randint(1, 5) for n in names}

    def _order(self, iri: str, status: str, quantities: dict, person: str | None) -> dict:
        lines = [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": int(q),
                  "dfc-b:concerns": offer_iri(item.rsplit("/", 1)[-1])} for item, q in quantities.items()]
        order = {"@id": iri, "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": f"dfc-v:{status}",
                 "dfc-b:orderedBy": person or self.agent, "dfc-b:hasPart": lines}
        graph = [order]
        if self.session:
            order["dfc-b:belongsTo"] = self.session
            graph.append({"@id": person, "@type": "dfc-b:Person", "dfc-b:firstName": person.rsplit("/", 1)[-1]})
        return {"@context": CONTEXT, "@graph": graph}

    def _send(self, req: Request) -> Request:
        if self.idempotent:
            req.headers = {**req.headers, "Idempotency-Key": str(uuid.uuid4())}
        self.requests.append(req)
        try:
            reply = self.client.send(req.method, req.url, req.body, req.headers)
        except Lost:
            self.lost = req
            raise
        self.settle(req, reply)
        return req

    def settle(self, req: Request, reply: Reply) -> None:
        """Record an answer and what it means for the order."""
        req.status, req.location = reply.status, reply.location
        if reply.status == 201:
            req.order = req.order or reply.location
            self.orders[req.order] = req.after
            if req.person:
                self.people[req.order] = req.person
        elif reply.status in (200, 204):
            self.orders[req.order] = req.after
            req.answer = reply.body if req.op == "read" else None
        if reply.status in (200, 201) and self.board is not None and not self.session:
            self._lifecycle(req, reply.body or {})
        elif reply.status not in (200, 201, 204):
            req.problem = reply.body
            if req.status == 409 and req.op == "place" and req.order is not None:
                self.refused.add(req.order)

    def _lifecycle(self, req: Request, body: dict) -> None:
        """Note what a lifecycle answer tells: the lines to plan deliveries of, the move made, the order shared."""
        if req.op in ("place", "change"):
            self.lines[req.order] = {n["@id"]: n["dfc-b:quantity"] for n in _nodes(body)
                                     if n.get("@type") == "dfc-b:OrderLine"}
        if req.op in ("placed", "complete") or req.op.startswith("move "):
            self.acks.append(Ack.of(req.order, body))
        if req.after is not None and req.after.status == COMPLETE and req.order not in self.shared:
            self.shared.add(req.order)
            self.board.add(req.order)

    def run(self, steps: int, start: threading.Barrier | None = None,
            stop: threading.Event | None = None, on_answer: Callable[[Request], None] = lambda r: None):
        """Take `steps` steps (fewer if `stop` is set or an answer is lost); keep any error."""
        try:
            if start is not None:
                start.wait(60)
            for _ in range(steps):
                if stop is not None and stop.is_set():
                    return
                answer = self.step()
                if answer is not None:
                    on_answer(answer)
        except Lost:
            return
        except BaseException as e:       # reported by the test, not lost in a thread
            self.error = e


class Supplier:
    """The farm in the lifecycle (one thread): reads an order off the board and moves it on.

    It confirms (sometimes by way of transferred), produces, ships pending deliveries, cancels,
    cancels what is left after a partial shipment, and answers cancellation requests yes or no,
    each chosen among what `lifecycle.allowed` lets the supplier do in the status it just read;
    the buyers and the other supplier move the same orders meanwhile, so many tries find the
    order moved on (409).
    """

    def __init__(self, name: str, client, token: str, board: Board, seed: int):
        self.name, self.client, self.token, self.board = name, client, token, board
        self.rng = random.Random(seed)
        self.requests: list[Request] = []
        self.acks: list[Ack] = []
        self.lost: Request | None = None
        self.error: BaseException | None = None
        self._waits = 250           # at most 5 s waiting for the board, in all
        # What the audit reads of a buyer: a supplier owns no order and was refused none.
        self.orders: dict = {}
        self.refused: set = set()
        self.session = None

    def step(self) -> Request | None:
        """Read one order off the board and make one move the supplier may make in its status."""
        order = self.board.pick(self.rng)
        while order is None and self._waits > 0:     # nothing placed yet: wait, without using a step
            self._waits -= 1
            time.sleep(0.02)
            order = self.board.pick(self.rng)
        if order is None:           # (nor will be: every order placed is final, and waiting is over)
            return None
        read = self._send(Request("read", order, None, None, "GET", order, None, self._headers()))
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
                                      self._headers()), shipped=delivery)
        targets = lifecycle.allowed(current, {lifecycle.SUPPLIER}, origin)
        if not targets:
            return read
        # Mostly forward or answering: the farm's own cancelling ends an order, and ships need
        # orders still going.
        weights = [1 if t in (statuses.CANCELED_BY_SUPPLIER, statuses.REMAINDER_CANCELED) else 4 for t in targets]
        target = statuses.name(self.rng.choices(targets, weights)[0])
        return self._send(Request(f"move {target}", order, None, None, "POST", f"{order}/status",
                                  *json_request({"status": target}, self.token)))

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/ld+json"}

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
                self.acks.append(Ack.of(req.order, reply.body or {}, shipped))
        else:
            req.problem = reply.body
        return req

    run = Buyer.run


def lifecycle_view(body: dict | None):
    """(status, where a cancellation request came from, unshipped deliveries that carry something)."""
    nodes = _nodes(body or {})
    order = next(n for n in nodes if n.get("@type") == "dfc-b:Order")
    current = statuses.parse(order.get("hub:status"))
    steps = sorted((n for n in nodes if n.get("@type") == "hub:StatusChange"),
                   key=lambda n: int(n["@id"].rsplit("/", 1)[-1]))
    origin = None
    for step in steps:
        if statuses.parse(step.get("hub:toStatus")) == statuses.CANCELATION_REQUESTED:
            origin = statuses.parse(step.get("hub:fromStatus"))
    pending = sorted(n["@id"] for n in nodes if n.get("@type") == "hub:Delivery"
                     and not n.get("hub:shippedAt") and n.get("hub:hasDeliveryLine"))
    return current, origin, pending


def make_traders(count: int, client_for: Callable[[int], object], tokens: dict[str, str], farm_token: str,
                 *, seed: int = 0) -> list:
    """`count` threads of the lifecycle storm, sharing one board.

    Every fourth (i % 4 == 3) is the hub's checkout, as in `make_buyers`; i % 4 == 1 the farm's
    supplier; the others wholesale buyers in turn, placing on the board.
    """
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
            actors.append(Buyer(f"t{i}", client_for(i), agent, tokens[agent], seed * 1000 + i, board=board))
    return actors


def make_buyers(count: int, client_for: Callable[[int], object], tokens: dict[str, str], *,
                seed: int = 0, **options) -> list[Buyer]:
    """`count` buyers: every fourth is the hub's checkout, the others wholesale buyers in turn."""
    wholesale = sorted(t for t in tokens if t != HUB_IRI)
    buyers = []
    for i in range(count):
        agent = HUB_IRI if i % 4 == 3 else wholesale[i % len(wholesale)]
        buyers.append(Buyer(f"t{i}", client_for(i), agent, tokens[agent], seed * 1000 + i,
                            session=SESSION if agent == HUB_IRI else None, **options))
    return buyers


def run_storm(buyers: list[Buyer], steps: int, stop: threading.Event | None = None,
              on_answer: Callable[[Request], None] = lambda r: None,
              while_running: Callable[[], None] = lambda: None) -> None:
    """Run every buyer in its own thread, all released at once; wait for all of them."""
    start = threading.Barrier(len(buyers))
    threads = [threading.Thread(target=b.run, args=(steps, start, stop, on_answer), daemon=True)
               for b in buyers]
    for t in threads:
        t.start()
    try:
        while_running()
    finally:
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads), "a buyer is still running after 120 s"


# --- watching the ledger while the storm runs ------------------------------------------------

class Watcher:
    """Reads every item's ledger through a server in a loop; notes readings that do not add up."""

    def __init__(self, client):
        self.client = client
        self.readings = 0
        self.problems: list[str] = []
        self.on_hand: dict[str, Decimal] = {}      # the last reading: on hand only ever goes down
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(30)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.problems += reading_problems(self.client, self.on_hand)
            except Lost:
                return
            self.readings += 1


def reading_problems(client, last: dict[str, Decimal] | None = None) -> list[str]:
    """Read every item's ledger once through a server; list what does not add up.

    On hand starts as stocked and only shipping lowers it: never above the stock, nor above
    the `last` reading (updated here), nor below 0.
    """
    last = {} if last is None else last
    out = []
    for item, on_hand in ITEMS.items():
        r = client.send("GET", item, headers={"Accept": "application/ld+json"})
        if r.status != 200 or r.body is None:
            out.append(f"GET {item}: {r.status}")
            continue
        values = {k: r.body.get(k) for k in ("hub:onHand", "hub:held", "hub:committed", "dfc-b:stockLimitation")}
        if not all(isinstance(v, (int, float)) for v in values.values()):
            out.append(f"{item}: a ledger value is missing or not a number: {values}")
            continue
        got = {k: Decimal(str(v)) for k, v in values.items()}
        if got["dfc-b:stockLimitation"] < 0:
            out.append(f"{item}: available {got['dfc-b:stockLimitation']} < 0 (oversold): {values}")
        if not 0 <= got["hub:onHand"] <= last.get(item, on_hand):
            out.append(f"{item}: onHand {got['hub:onHand']}, after {last.get(item, on_hand)} (stocked {on_hand}): "
                       f"{values}")
        if got["hub:held"] < 0 or got["hub:committed"] < 0:
            out.append(f"{item}: held or committed < 0: {values}")
        last[item] = got["hub:onHand"]
        if got["hub:onHand"] - got["hub:held"] - got["hub:committed"] != got["dfc-b:stockLimitation"]:
            out.append(f"{item}: onHand - held - committed != stockLimitation: {values}")
    return out
