"""Checkout storms: buyers racing to reserve the same few items of one producer.

Two kinds of buyer race for the farm's stock, as in DESIGN.md's flows:

- wholesale buyers (shop-1, shop-2) POST Held orders straight to the farm's `orders`;
- customer checkouts at a hub (shop-3) POST Held customer orders in the hub's open sale
  session; the server adds their lines to the hub's one wholesale order with the farm.

Each buyer (one thread) owns the orders it places: nobody else writes them, so after every
answer it knows what the server must hold for each of them. `support.order_audit` reads the
store afterwards and lists every way it disagrees with the buyers. `support.lifecycle_storm`
adds the supplier lifecycle: buyers that place, plan deliveries and cancel, and the farm's
threads moving and shipping the same orders.

    tokens = setup_catalogue(HttpClient(hub.url), ADMIN)
    buyers = make_buyers(8, lambda i: HttpClient(hub.url), tokens)
    run_storm(buyers, steps=40)

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
    answer: dict | None = None   # a read's body, where the lifecycle needs it

    def succeeded(self) -> bool:
        return self.status in (200, 201, 204)


class Buyer:
    """One client thread: places, changes, completes, cancels and deletes its own orders.

    A customer buyer (`session` set) is a hub's checkout page: its orders are the hub's
    customer orders in that session, each for a new Person.
    """
    # Where a step's roll stops placing, changing, completing, cancelling (the rest deletes).
    MIX = (0.5, 0.72, 0.82, 0.91)

    def __init__(self, name: str, client, agent: str, token: str, seed: int, *,
                 session: str | None = None, minted_share: float = 0.25, idempotent: bool = False):
        self.name, self.client, self.agent, self.token = name, client, agent, token
        self.session = session
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
        roll = self.rng.random()
        place, change, complete, cancel = self.MIX
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
        return self._put(status.lower(), order, State.of(status, self.orders[order].counts()))

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
        else:
            req.problem = reply.body
            if req.status == 409 and req.op == "place" and req.order is not None:
                self.refused.add(req.order)

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
                if answer is not None:      # None: a step with nothing to do (support.lifecycle_storm)
                    on_answer(answer)
        except Lost:
            return
        except BaseException as e:       # reported by the test, not lost in a thread
            self.error = e


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

    def __init__(self, client, pause: float = 0.0, unavailable_ok: bool = False):
        self.client, self.pause = client, pause     # pause: in-process, a reader spinning starves the writers
        self.unavailable_ok = unavailable_ok        # a 503 store-unavailable is no reading, not a problem
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
                self.problems += reading_problems(self.client, self.on_hand, self.unavailable_ok)
            except Lost:
                return
            self.readings += 1
            time.sleep(self.pause)      # not stop.wait(): under libfaketime a timed wait never ends


def reading_problems(client, last: dict[str, Decimal] | None = None, unavailable_ok: bool = False) -> list[str]:
    """Read every item's ledger once through a server; list what does not add up.

    On hand starts as stocked and only shipping lowers it: never above the stock, nor above
    the `last` reading (updated here), nor below 0. With `unavailable_ok`, an item the server
    answers 503 store-unavailable for (an overloaded remote store) is skipped.
    """
    last = {} if last is None else last
    out = []
    for item, on_hand in ITEMS.items():
        r = client.send("GET", item, headers={"Accept": "application/ld+json"})
        if unavailable_ok and r.status == 503 and str((r.body or {}).get("type", "")).endswith("/store-unavailable"):
            continue
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
