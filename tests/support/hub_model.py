"""The model of tests/test_model.py: what the hub should hold, the HTTP calls that change it, and the
checks of every promise against what the server answers (issue 22).

The model is plain Python: the producer's stock per product, the customers' checkouts per session,
the wholesale orders at the producer past draft (a close's, and the hubs' direct orders: their
supplier lifecycle is support/supplier_model.py), which sessions closed, who was erased, which
secrets were handed out, and every event each enterprise's log must hold, in order.
Every call goes through `World.call`: no answer may be a 5xx, and a refused change (4xx) must
leave the store exactly as it was (its quads compared before and after).
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal

from conftest import ADMIN
from standardwebhooks import Webhook

from app.events.outbox import ORDER_STATUS_CHANGED, SESSION_CLOSED, TYPES, event_id, last_sequence
from support.leaks import findings
from support.supplier_model import API, CANCELLED, FINAL, SUPPLIER, Line, Supplied, SupplierSteps, nodes

CTX = "https://www.datafoodconsortium.org"
HOLD_UNTIL = "https://w3id.org/dfc-order-hub/ns#holdUntil"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
JSONLD = "application/ld+json"
ENTERPRISES = ("jean-farm", "hub-a", "hub-b")
HUBS = ("hub-a", "hub-b")
ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True)
class Product:
    unit: str                      # the unit a line states (the product's own)
    kilograms: Decimal             # per unit, for the summary's weight (0: no mass)
    stock: Decimal                 # on hand when the model starts
    price: Decimal                 # the producer's offer's, when the model starts


PRODUCTS = {"carrots": Product("Kilogram", Decimal(1), Decimal(10), Decimal("1.8")),      # the demo's
            "leeks": Product("Piece", ZERO, Decimal(12), Decimal("1.5"))}                 # added by catalogue_setup
# The offers customers buy, per hub, and the producer's product each resells.
OFFERS = {"hub-a/jean-carrots": "carrots", "hub-a/jean-leeks": "leeks", "hub-b/jean-carrots": "carrots"}


@dataclasses.dataclass
class Checkout:
    hub: str
    lines: dict[str, Decimal]      # offer → quantity
    person: str                    # the person IRI the server gave the buyer
    status: str = "Held"
    hold_until: dt.datetime | None = None     # hub:holdUntil: the server cancels it once this passes


@dataclasses.dataclass(frozen=True)
class Subscribed:
    """A webhook subscription the model made: whose, where it is POSTed, its secret, its types, and the
    number of the last event recorded before it (it is owed every later one of its types naming its owner)."""
    eid: str
    path: str
    secret: str
    types: tuple[str, ...]
    after: int
    wid: str = ""


@dataclasses.dataclass
class Model:
    on_hand: dict[str, Decimal] = dataclasses.field(default_factory=lambda: {p: v.stock for p, v in PRODUCTS.items()})
    checkouts: dict[str, Checkout] = dataclasses.field(default_factory=dict)
    orders: dict[str, Supplied] = dataclasses.field(default_factory=dict)     # path → a wholesale order past draft
    drafted: set[str] = dataclasses.field(default_factory=set)   # hubs whose session has a wholesale order
    # Deliveries a hub planned on its open session's draft wholesale order (IRI → Delivery), the
    # lines they were planned on (IRI → product: gone once the line is left at nothing), its path.
    planned: dict[str, dict] = dataclasses.field(default_factory=dict)
    draft_lines: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    draft_paths: dict[str, str] = dataclasses.field(default_factory=dict)
    prices: dict[str, Decimal] = dataclasses.field(default_factory=lambda: {p: v.price for p, v in PRODUCTS.items()})
    events: list[tuple[str, tuple[str, ...], dict]] = dataclasses.field(default_factory=list)  # type, parties, data
    closed: set[str] = dataclasses.field(default_factory=set)
    persons: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)   # IRI → (name, email)
    erased: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    erased_iris: list[str] = dataclasses.field(default_factory=list)
    secrets: list[str] = dataclasses.field(default_factory=list)
    subscriptions: list["Subscribed"] = dataclasses.field(default_factory=list)
    delivered_upto: int = 0             # every event numbered up to this was due at the last dispatcher pass
    accepted_upto: int = 0              # … and up to this, answered 2xx: no failure since was left to retry
    failing: bool = False               # the receivers were told to fail, and their retries are yet to go
    stopped: dict[str, int] = dataclasses.field(default_factory=dict)   # a stopped subscription's path → deliveries it got

    def reserved(self) -> dict[str, tuple[Decimal, Decimal]]:
        """(held, committed) per product, as the orders state them: an open session's checkouts
        hold; once closed, its wholesale order commits, as the direct orders do, what has not shipped."""
        held, committed = {p: ZERO for p in PRODUCTS}, {p: ZERO for p in PRODUCTS}
        for c in self.checkouts.values():
            if c.status == "Held" and c.hub not in self.closed:
                for offer, q in c.lines.items():
                    held[OFFERS[offer]] += q
        for o in self.orders.values():
            for product, (h, c) in o.usage().items():
                held[product] += h
                committed[product] += c
        return {p: (held[p], committed[p]) for p in PRODUCTS}

    def available(self, product: str) -> Decimal:
        held, committed = self.reserved()[product]
        return self.on_hand[product] - held - committed

    def fits(self, wanted: dict[str, Decimal]) -> bool:
        """Whether every product has what `wanted` (product → more) asks on top of what is reserved."""
        return all(q <= 0 or q <= self.available(p) for p, q in wanted.items())

    def ordered(self, hub: str) -> dict[str, Decimal]:
        """Live customer quantity per product in the hub's session."""
        out = {}
        for c in self.checkouts.values():
            if c.hub == hub and c.status == "Held":
                for offer, q in c.lines.items():
                    out[OFFERS[offer]] = out.get(OFFERS[offer], ZERO) + q
        return out


class World(SupplierSteps):
    """The server under test, its model, and the checks."""

    def __init__(self, base: str, store, http, receiver=None):
        self.base, self.store, self.http = base, store, http
        self.receiver = receiver              # a real webhook receiver on 127.0.0.1 (support.webhook_receiver)
        self.model = Model()
        self.tokens: dict[str, dict] = {}
        self.answers: list[str] = []          # JSON-LD bodies not yet judged by the validator
        self.texts: list[str] = []            # every answer since the last leak check
        self.calls: list[str] = []            # what went wrong in calls (5xx, a refusal that wrote)
        self.people = 0
        self.logs: dict[str, list[dict]] = {}     # each enterprise's event log, as last read
        self.logs_at = -1                         # the last event's number when they were read

    # --- calls ----------------------------------------------------------------------------------

    def iri(self, path: str) -> str:
        return self.base + path

    def call(self, method: str, path: str, as_: str | None = None, body=None, expect=None, accept=JSONLD,
             headers=None):
        """One request; a write refused (4xx) must change nothing; `expect`: the statuses allowed."""
        headers = {"Accept": accept, **(self.tokens.get(as_, {}) if as_ else {}), **(headers or {})}
        if as_ == "admin":
            headers["Authorization"] = f"Bearer {ADMIN}"
        data = None
        if body is not None:
            data = json.dumps(body) if not isinstance(body, (bytes, str)) else body
            headers["Content-Type"] = JSONLD if not isinstance(body, dict) or "@context" in body or "@graph" in body \
                else "application/json"
        before = self.dump() if method != "GET" else None
        r = self.http.request(method, self.base + path, data=data, headers=headers, timeout=60)
        step = f"{method} {path} as {as_}: {r.status_code} {r.text[:300]}"
        if r.status_code >= 500:
            self.calls.append("a 5xx: " + step)
        if before is not None and 400 <= r.status_code < 500 and self.dump() != before:
            self.calls.append("a refused request changed the store: " + step)
        if expect is not None and r.status_code not in expect:
            self.calls.append(f"expected {sorted(expect)}: " + step)
        media = r.headers.get("Content-Type", "")
        if r.status_code < 300 and media.startswith(JSONLD) and '"@graph": []' not in r.text[-40:]:
            self.answers.append(r.text)
        self.texts.append(r.text)
        return r

    def dump(self) -> frozenset:
        return frozenset(self.store.raw.quads_for_pattern(None, None, None, None))

    def check_calls(self):
        found, self.calls = self.calls, []
        assert not found, "\n".join(found)

    def drain_answers(self) -> list[str]:
        out, self.answers = self.answers, []
        return out

    # --- setting up -----------------------------------------------------------------------------

    def token(self, eid: str) -> None:
        r = self.http.post(self.base + "/api/admin/tokens", json={"agent": self.iri(f"{API}/{eid}"), "scopes": []},
                           headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        assert r.status_code == 201, r.text
        self.tokens[eid] = {"Authorization": f"Bearer {r.json()['token']}"}

    # --- customers ------------------------------------------------------------------------------

    def line(self, offer: str, quantity: Decimal, form: str) -> dict:
        """A customer's line for `offer` ("hub-a/jean-carrots")."""
        return self._line(f"{API}/{offer.replace('/', '/offers/', 1)}", OFFERS[offer], quantity, form)

    def _line(self, offer_iri: str, product: str, quantity: Decimal, form: str) -> dict:
        """An order line, its quantity as a plain number or as a QuantitativeValue in the product's unit."""
        node = {"@type": "dfc-b:OrderLine", "dfc-b:concerns": self.iri(offer_iri)}
        if form == "quantity":
            node["dfc-b:quantity"] = float(quantity)
        else:
            node["dfc-b:hasQuantity"] = {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": float(quantity),
                                         "dfc-b:hasUnit": f"dfc-m:{PRODUCTS[product].unit}"}
        return node

    def checkout_doc(self, hub: str, lines: list[dict], person: tuple[str, str], status="dfc-v:Held") -> dict:
        name, email = person
        return {"@context": CTX, "@graph": [
            {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": status,
             "dfc-b:belongsTo": self.iri(f"{API}/{hub}/sale_sessions/week-48"), "dfc-b:hasPart": lines},
            {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:firstName": name, "dfc-b:email": email}]}

    def checkout(self, hub: str, lines: dict[str, Decimal], form: str, n: int,
                 hold_until: dt.datetime | None = None) -> None:
        self.people += 1
        person = (f"Quillon{self.people}x{n}", f"quillon{self.people}x{n}@example.org")
        wanted = {}
        for offer, q in lines.items():
            wanted[OFFERS[offer]] = wanted.get(OFFERS[offer], ZERO) + q
        ok = hub not in self.model.closed and self.model.fits(wanted)
        doc = self.checkout_doc(hub, [self.line(o, q, form) for o, q in lines.items()], person)
        if hold_until is not None:
            doc["@graph"][0][HOLD_UNTIL] = {"@value": hold_until.isoformat(), "@type": XSD_DATETIME}
        r = self.call("POST", f"{API}/{hub}/orders", hub, doc, expect={201} if ok else {409})
        if r.status_code == 201:
            order = next(n for n in r.json()["@graph"] if n["@type"] == "dfc-b:Order")
            self.model.checkouts[r.headers["Location"][len(self.base):]] = Checkout(
                hub, dict(lines), order["dfc-b:orderedBy"], hold_until=hold_until)
            self.model.persons[order["dfc-b:orderedBy"]] = person
            self.model.drafted.add(hub)

    def held_checkouts(self) -> list[str]:
        # In the order they were made, never sorted: their IRIs are random, and a draw must pick the
        # same checkout when Hypothesis replays the same choices (else FlakyStrategyDefinition).
        return [k for k, c in self.model.checkouts.items() if c.status == "Held"]

    def cancel_checkout(self, path: str, how: str) -> None:
        c = self.model.checkouts[path]
        if c.status != "Held":
            return
        ok = c.hub not in self.model.closed
        if how == "DELETE":
            r = self.call("DELETE", path, c.hub, expect={204} if ok else {409})
            if r.status_code == 204:
                del self.model.checkouts[path]
                self.give_way(c.hub)
            return
        doc = self.call("GET", path, c.hub, expect={200}).json()
        for node in doc["@graph"]:
            if node["@type"] == "dfc-b:Order":
                node["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
        r = self.call("PUT", path, c.hub, doc, expect={200} if ok else {409})
        if r.status_code == 200:
            c.status = "Cancelled"
            self.give_way(c.hub)

    def change_checkout(self, path: str, quantity: Decimal, form: str) -> None:
        """A PUT that shrinks or grows the order's first line (in the order the server lists them)."""
        c = self.model.checkouts[path]
        if c.status != "Held":
            return
        read = self.call("GET", path, c.hub, expect={200})
        doc = read.json()
        lines = [n for n in doc["@graph"] if n["@type"] == "dfc-b:OrderLine"]
        line = lines[0]
        offer = line["dfc-b:concerns"][len(self.base + API) + 1:].replace("/offers/", "/")
        for term in ("dfc-b:quantity", "dfc-b:hasQuantity"):
            line.pop(term, None)
        line.update({k: v for k, v in self.line(offer, quantity, form).items() if "uantity" in k})
        grow = quantity - c.lines[offer]
        ok = c.hub not in self.model.closed and self.model.fits({OFFERS[offer]: grow})
        # As a careful client writes: only over the version it read (nothing else changed it).
        r = self.call("PUT", path, c.hub, doc, expect={200} if ok else {409}, headers={"If-Match": read.headers["ETag"]})
        if r.status_code == 200:
            c.lines[offer] = quantity
            self.give_way(c.hub)

    def stale_write(self, path: str, header: dict) -> None:
        """A PUT of a held checkout whose preconditions do not hold: 412, and nothing changes."""
        c = self.model.checkouts[path]
        read = self.call("GET", path, c.hub, expect={200}, accept="text/turtle")
        doc = self.call("GET", path, c.hub, expect={200}).json()
        for node in doc["@graph"]:
            if node["@type"] == "dfc-b:Order":
                node["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
        name, value = next(iter(header.items()))
        value = read.headers["ETag"] if value == "the version read" else value
        self.call("PUT", path, c.hub, doc, expect={412}, headers={name: value})

    def expire_holds(self, orders, now: dt.datetime) -> None:
        """What the hold-expirer worker does at `now`: exactly the Held checkouts of open sessions
        whose hold has passed are cancelled, their stock released (the invariants check it)."""
        due = {path for path, c in self.model.checkouts.items()
               if c.status == "Held" and c.hub not in self.model.closed
               and c.hold_until is not None and c.hold_until <= now}
        cancelled = [o.value[len(self.base):] for o in orders.expire_holds(now)]
        assert set(cancelled) == due, f"the expirer cancelled {sorted(cancelled)}, the model expected {sorted(due)}"
        for path in cancelled:      # in the expirer's order: each cancellation gives way on its own
            self.model.checkouts[path].status = "Cancelled"
            self.give_way(self.model.checkouts[path].hub)

    def erase(self, person: str) -> None:
        hub = person[len(self.base + API) + 1:].split("/")[0]
        r = self.call("DELETE", person[len(self.base):], hub, expect={204})
        if r.status_code == 204:
            self.model.erased.append(self.model.persons.pop(person))
            self.model.erased_iris.append(person)
            self.texts.clear()       # what was answered before the erasure held it rightly

    def export(self, person: str) -> None:
        """The hub exports what it holds of a customer: their data and every order they placed, and
        nobody else's; an erased customer's export is gone (410)."""
        hub = person[len(self.base + API) + 1:].split("/")[0]
        erased = person in self.model.erased_iris
        r = self.call("GET", person[len(self.base):] + "/export", hub, expect={410} if erased else {200})
        if erased or r.status_code != 200:
            return
        assert all(findings(r.text, [v]) for v in self.model.persons[person]), r.text[:600]   # their name and email
        for path in (p for p, c in self.model.checkouts.items() if c.person == person):
            assert path.rsplit("/", 1)[1] in r.text, (path, r.text[:600])
        others = [v for p, values in self.model.persons.items() if p != person for v in values]
        assert not findings(r.text, others + [v for e in self.model.erased for v in e]), r.text[:600]

    def read_pages(self, viewer: str, eid: str) -> None:
        """`viewer` opens `eid`'s board, its sale session's board and its orders' pages, as a browser
        with `viewer`'s token: a party sees each (no secret, no erased person's data: the leak check
        reads them), anyone else is refused."""
        own = viewer == eid
        self.call("GET", f"/pages/enterprises/{eid}", viewer, expect={200} if own else {403, 404}, accept="text/html")
        if eid != SUPPLIER:
            self.call("GET", f"/pages/enterprises/{eid}/sale_sessions/week-48", viewer,
                      expect={200} if own else {403, 404}, accept="text/html")
        mine = [(p, {c.hub}) for p, c in self.model.checkouts.items() if c.hub == eid]
        mine += [(p, {o.buyer, SUPPLIER}) for p, o in self.model.orders.items() if eid in (o.buyer, SUPPLIER)]
        for path, parties in mine[-3:]:
            seller, oid = path.split("/")[4], path.rsplit("/", 1)[1]
            self.call("GET", f"/pages/enterprises/{seller}/orders/{oid}", viewer,
                      expect={200} if viewer in parties else {403, 404}, accept="text/html")

    # --- hubs and the producer ------------------------------------------------------------------

    def close(self, hub: str) -> None:
        """The hub closes its session: once; its wholesale order (if its customers ever made one) is placed."""
        first = hub not in self.model.closed
        r = self.call("POST", f"{API}/{hub}/sale_sessions/week-48/close", hub, expect={200} if first else {200, 409})
        if r.status_code == 200 and first:
            self.model.closed.add(hub)
            drafted = hub in self.model.drafted
            self.model.events.append((SESSION_CLOSED, (hub, SUPPLIER) if drafted else (hub,), {
                "hub": self.iri(f"{API}/{hub}"), "session": self.iri(f"{API}/{hub}/sale_sessions/week-48")}))
            if drafted:
                self.place_session_order(hub)

    def direct_order(self, product: str, quantity: Decimal, form: str, status: str = "Held") -> None:
        """Hub B orders from the producer: Held (a draft), or Complete at once (placed as it is made:
        its history and events go from draft to placed, like any placement)."""
        line = self._line(f"{API}/jean-farm/offers/{product}", product, quantity, form)
        doc = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": self.iri(f"{API}/hub-b"),
               "dfc-b:hasOrderStatus": f"dfc-v:{status}", "dfc-b:hasPart": line}
        ok = self.model.fits({product: quantity})
        r = self.call("POST", f"{API}/jean-farm/orders", "hub-b", doc, expect={201} if ok else {409})
        if r.status_code == 201:
            found = nodes(r.json())
            [line] = [n["@id"] for n in found if n.get("@type") == "dfc-b:OrderLine"]
            path = r.headers["Location"][len(self.base):]
            o = self.model.orders[path] = Supplied("hub-b", None, {line: Line(product, quantity)},
                                                   history=[("draft", "hub-b")])
            if status == "Complete":
                self._placed(path, o, "hub-b", found)

    def direct_live(self) -> list[str]:
        return [p for p, o in self.model.orders.items() if o.session is None and o.status not in FINAL]

    def move_direct(self, path: str, to: str) -> None:
        """The buyer PUTs its direct order back with a DFC status, as a DFC client does: Complete
        places a draft, Cancelled cancels a draft or a placed order, and is refused later (409: the
        consumer may only ask to cancel then)."""
        o = self.model.orders[path]
        if o.status != "draft":
            to = "Cancelled"         # the one move left to a DFC client
        doc = self.call("GET", path, "hub-b", expect={200}).json()
        for node in doc["@graph"]:
            if node["@type"] == "dfc-b:Order":
                node["dfc-b:hasOrderStatus"] = f"dfc-v:{to}"
        ok = o.status in ("draft", "placed")
        r = self.call("PUT", path, "hub-b", doc, expect={200} if ok else {409})
        if r.status_code == 200 and to == "Complete":
            self._placed(path, o, "hub-b", nodes(r.json()))
        elif r.status_code == 200:
            self._moved(path, o, "canceled_by_consumer", "hub-b")

    def restock(self, product: str, extra: int) -> None:
        """The producer counts its stock: on hand is what is reserved plus `extra`."""
        path = f"{API}/jean-farm/catalog_items/{product}"
        doc = self.call("GET", path, "jean-farm", expect={200}).json()
        held, committed = self.model.reserved()[product]
        doc.pop("dfc-b:stockLimitation", None)
        doc["hub:onHand"] = float(held + committed + extra)
        r = self.call("PUT", path, "jean-farm", doc, expect={200})
        if r.status_code == 200:
            self.model.on_hand[product] = held + committed + extra

    def subscribe(self, eid: str) -> None:
        made = len(self.model.subscriptions) + len(self.model.stopped)      # a URL of its own, never reused
        types = TYPES if made % 2 == 0 else (SESSION_CLOSED, ORDER_STATUS_CHANGED)
        path = f"/hooks/{eid}/{made}"
        url = self.receiver.url.rsplit("/hooks", 1)[0] + path if self.receiver else "http://127.0.0.1:9/hook"
        r = self.call("POST", f"{API}/{eid}/webhooks", eid, {"url": url, "events": list(types)}, expect={201})
        if r.status_code == 201:
            secret = r.json()["secret"]
            self.model.secrets.append(secret)
            self.model.subscriptions.append(Subscribed(eid, path, secret, types, last_sequence(self.store),
                                                       r.json()["id"]))
            self.texts.remove(r.text)        # the one answer that shows it, once

    def deliver(self, dispatcher) -> None:
        """A dispatcher pass, as `serve`'s worker makes them, until nothing is due."""
        seen = len(self.receiver.deliveries)
        dispatcher.drain()
        self.model.delivered_upto = last_sequence(self.store)
        # What receivers got is an answer too: no secret in it, no erased person's data.
        self.texts += [d.body.decode() for d in self.receiver.deliveries[seen:]]

    def receivers_fail(self, dispatcher, answers) -> None:
        """The receivers' next answers are these (errors among them, a Retry-After maybe), then 2xx
        again; the dispatcher's passes meet them. At most two errors: no delivery waits for its
        next attempt longer than the schedule's third step (300 s) or a Retry-After (300 s)."""
        self.receiver.answers = list(answers)
        self.model.failing = True
        self.deliver(dispatcher)

    def retries_go_out(self, dispatcher) -> None:
        """With every retry due (the clock moved past them) and the receivers well, a pass sends them all."""
        self.receiver.answers = []
        self.deliver(dispatcher)
        self.model.failing = False
        self.model.accepted_upto = self.model.delivered_upto

    def replay(self, sub: Subscribed, after: int, dispatcher) -> None:
        """The owner has the subscription's events after `after` sent again (all with 0): as many as its
        log holds of its types, each with its own id; the dispatcher's passes send them."""
        owed = [e for e in self.log(sub.eid) if e["type"] in sub.types and _number(e["id"]) > after]
        query = f"?after={event_id(after)}" if after else ""
        r = self.call("POST", f"{API}/{sub.eid}/webhooks/{sub.wid}/replay{query}", sub.eid, expect={202})
        if r.status_code != 202:
            return
        assert r.json()["replayed"] == len(owed), (sub, after, r.json(), len(owed))
        at = self.model.subscriptions.index(sub)
        self.model.subscriptions[at] = dataclasses.replace(sub, after=min(sub.after, after))
        self.deliver(dispatcher)
        if not self.model.failing:
            self.model.accepted_upto = self.model.delivered_upto

    def unsubscribe(self, sub: Subscribed) -> None:
        """The owner deletes the subscription: nothing more reaches its URL, and it is gone."""
        path = f"{API}/{sub.eid}/webhooks/{sub.wid}"
        if self.call("DELETE", path, sub.eid, expect={204}).status_code == 204:
            self._stopped(sub)
            self.call("GET", path, sub.eid, expect={404})

    def receiver_gone(self, dispatcher) -> None:
        """The next delivery's receiver answers 410 Gone: the pass disables that subscription (the
        first delivered, whichever the parallel sends make it), and nothing more reaches its URL."""
        seen = len(self.receiver.deliveries)
        self.receiver.answers = [410]
        self.deliver(dispatcher)
        self.receiver.answers = []            # none made: no 410 is left for a later step
        gone = {d.path for d in self.receiver.deliveries[seen:] if d.status == 410}
        for sub in [s for s in self.model.subscriptions if s.path in gone]:
            self._stopped(sub)
            shown = self.call("GET", f"{API}/{sub.eid}/webhooks/{sub.wid}", sub.eid, expect={200}).json()
            assert shown["active"] is False and "410" in shown["disabledReason"], shown

    def _stopped(self, sub: Subscribed) -> None:
        self.model.subscriptions.remove(sub)
        self.model.stopped[sub.path] = sum(d.path == sub.path for d in self.receiver.deliveries)

    # --- hostile requests -----------------------------------------------------------------------

    def hostile(self, kind: str) -> None:
        person = ("Hostile", "hostile@example.org")
        line = self.line("hub-a/jean-carrots", Decimal(1), "hasQuantity")
        as_ = "hub-a"
        if kind == "quantities disagree":
            line["dfc-b:quantity"] = 2
        elif kind == "negative quantity":
            line["dfc-b:hasQuantity"]["dfc-b:value"] = -1
        elif kind == "grams of carrots sold by the kilogram":        # 500 g would have held 500 kg
            line["dfc-b:hasQuantity"].update({"dfc-b:value": 500, "dfc-b:hasUnit": "dfc-m:Gram"})
        elif kind == "other tenant's offer":
            # Jean's order book takes Jean's offers only (a hub checkout may name another hub's
            # offer: its line then goes to the product's producer, as the hub's own offer's would).
            doc = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": self.iri(f"{API}/hub-b"),
                   "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:hasPart": line}
            self.call("POST", f"{API}/jean-farm/orders", "hub-b", doc, expect={422})
            return
        elif kind == "unknown offer":
            line["dfc-b:concerns"] = self.iri(f"{API}/hub-a/offers/nothing-here")
        elif kind == "other tenant's token":
            as_ = "hub-b"
        elif kind == "the hub deletes its session":
            # Refused while it is closed or a customer's order holds stock in it (when neither,
            # deleted, it would end the walk's checkouts at hub A: not tried then).
            if "hub-a" in self.model.closed or any(c.hub == "hub-a" and c.status == "Held"
                                                   for c in self.model.checkouts.values()):
                self.call("DELETE", f"{API}/hub-a/sale_sessions/week-48", "hub-a", expect={409})
            return
        elif kind == "no token":
            as_ = None
        doc = self.checkout_doc("hub-a", [line], person)
        if kind == "a customer the hub does not hold":
            # Named by an IRI of the hub's persons alone, with nobody there: refused (422).
            doc["@graph"] = [{**doc["@graph"][0], "dfc-b:orderedBy": self.iri(f"{API}/hub-a/persons/nobody-here")}]
        if kind == "other tenant's session":
            doc["@graph"][0]["dfc-b:belongsTo"] = self.iri(f"{API}/hub-b/sale_sessions/week-48")
        if kind == "status twice":
            doc["@graph"][0]["dfc-b:hasOrderStatus"] = ["dfc-v:Held", "dfc-v:Cancelled"]
        expect = {"no token": {401}, "other tenant's token": {403}}.get(kind, {422})
        if "hub-a" in self.model.closed and kind not in ("no token", "other tenant's token"):
            expect = expect | {409}
        self.call("POST", f"{API}/hub-a/orders", as_, doc, expect=expect)

    # --- the promises ---------------------------------------------------------------------------

    def check_ledgers(self) -> None:
        """Each item's ledger is what the orders state; nothing negative, nothing oversold."""
        for product, (held, committed) in self.model.reserved().items():
            doc = self.call("GET", f"{API}/jean-farm/catalog_items/{product}", expect={200}).json()
            got = {k: Decimal(str(doc.get(k, 0))) for k in ("hub:onHand", "hub:held", "hub:committed")}
            want = {"hub:onHand": self.model.on_hand[product], "hub:held": held, "hub:committed": committed}
            assert got == want, (product, got, want)
            assert held >= 0 and committed >= 0 and held + committed <= self.model.on_hand[product], (product, want)
            assert Decimal(str(doc["dfc-b:stockLimitation"])) == self.model.on_hand[product] - held - committed

    def check_summaries(self) -> None:
        """Each session's summary, JSON-LD and CSV alike, is the sum of its live customer lines per
        product, completed as long as the wholesale order placed is not cancelled, worth its lines at
        their frozen (and confirmed) prices; and the session's wholesale lines hold as much."""
        for hub in HUBS:
            url = f"{API}/{hub}/sale_sessions/week-48"
            ordered = self.model.ordered(hub)
            body = self.call("GET", url + "/summary", hub, expect={200}).json()
            rows = body.get("hub:row", [])
            rows = rows if isinstance(rows, list) else [rows]
            as_jsonld = {r["hub:product"].rsplit("/", 1)[-1]: {c: Decimal(str(r[t])) for c, t in COLUMNS.items()}
                         for r in rows}
            text = self.call("GET", url + "/summary", hub, expect={200}, accept="text/csv").text
            as_csv = {r["product"].rsplit("/", 1)[-1]: {c: Decimal(r[c]) for c in COLUMNS}
                      for r in csv.DictReader(io.StringIO(text))}
            assert as_jsonld == as_csv, (hub, as_jsonld, as_csv)
            closed = hub in self.model.closed
            placed = self.session_order(hub)
            for product in PRODUCTS:
                q = ordered.get(product, ZERO)
                row = as_csv.get(product, {c: ZERO for c in COLUMNS})
                want = {"ordered": q, "held": ZERO if closed else q, "completed": ZERO, "catalogue_value": ZERO,
                        "confirmed_value": ZERO, "kilograms": q * PRODUCTS[product].kilograms}
                for line in (placed.lines.values() if placed and placed.status not in CANCELLED else ()):
                    if line.product == product:
                        want["completed"] += line.quantity
                        want["catalogue_value"] += line.quantity * line.price
                        want["confirmed_value"] += line.quantity * (line.confirmed or ZERO)
                assert {c: row[c] for c in want} == want, (hub, product, row, want)
            wholesale = self.call("GET", url + "/wholesale_orders", hub, expect={200}).json()
            lines: dict[str, Decimal] = {}
            for n in nodes(wholesale):
                if n.get("@type") == "dfc-b:OrderLine":
                    product = n["hub:product"].rsplit("/", 1)[-1]
                    assert n["dfc-b:quantity"] == n["dfc-b:hasQuantity"]["dfc-b:value"], n   # one quantity
                    lines[product] = lines.get(product, ZERO) + Decimal(str(n["dfc-b:hasQuantity"]["dfc-b:value"]))
            assert {p: q for p, q in lines.items() if q} == {p: q for p, q in ordered.items() if q}, (hub, lines, ordered)

    def session_order(self, hub: str) -> Supplied | None:
        session = self.iri(f"{API}/{hub}/sale_sessions/week-48")
        return next((o for o in self.model.orders.values() if o.session == session), None)

    def log(self, eid: str) -> list[dict]:
        """The enterprise's whole event log, every page; read again only once an event was recorded."""
        if self.logs_at != last_sequence(self.store):
            self.logs, self.logs_at = {}, last_sequence(self.store)
        if eid not in self.logs:
            self.logs[eid], after = [], "evt_0"
            while page := self.call("GET", f"{API}/{eid}/events?after={after}&per_page=1000", eid,
                                    expect={200}, accept="application/json").json()["events"]:
                self.logs[eid] += page
                after = page[-1]["id"]
        return self.logs[eid]

    def last_events(self, eid: str, count: int) -> list[int]:
        """The numbers of the enterprise's last `count` events."""
        return [_number(e["id"]) for e in self.log(eid)][-count:]

    def check_events(self) -> None:
        """Each party's log: ids in order, none twice; exactly the events the model's steps owe it
        (closes, placements, every transition, every delivery made, dated or shipped), in order."""
        for eid in ENTERPRISES:
            events = self.log(eid)
            ids = [_number(e["id"]) for e in events]
            assert ids == sorted(set(ids)), (eid, ids)
            got = [(e["type"], e["data"]) for e in events]
            want = [(t, data) for t, parties, data in self.model.events if eid in parties]
            if got != want:
                at = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
                raise AssertionError((eid, f"the log differs from event {at} on", got[at:at + 3], want[at:at + 3]))

    def check_webhooks(self) -> None:
        """Each subscription got every event of its types naming its owner since it was made, as
        its owner's log has it, signed with its own secret, and nothing else."""
        for sub in self.model.subscriptions:
            log = {e["id"]: e for e in self.log(sub.eid)}
            got, accepted = {}, set()
            for d in (d for d in self.receiver.deliveries if d.path == sub.path):
                payload = Webhook(sub.secret).verify(d.body, d.headers)     # raises unless signed with its key
                event = log.get(d.id)
                assert event is not None, (sub.eid, "a delivery of an event not in its owner's log", payload)
                assert payload == {k: event[k] for k in ("type", "timestamp", "data")}, (payload, event)
                assert event["type"] in sub.types and _number(d.id) > sub.after, (sub, event)
                got[d.id] = payload
                if 200 <= d.status < 300:
                    accepted.add(d.id)
            owed = {i for i, e in log.items()
                    if e["type"] in sub.types and sub.after < _number(i) <= self.model.delivered_upto}
            assert owed <= got.keys(), (sub.eid, sub.path, "never delivered", sorted(owed - got.keys()))
            taken = {i for i in owed if _number(i) <= self.model.accepted_upto}
            assert taken <= accepted, (sub.eid, sub.path, "never answered 2xx", sorted(taken - accepted))
        for path, count in self.model.stopped.items():
            now = sum(d.path == path for d in self.receiver.deliveries)
            assert now == count, (path, "a stopped subscription was sent more", count, now)

    def check_leaks(self) -> None:
        """No answer holds a secret or an erased person's data; the public catalogue holds no order,
        person, subscription or setting, and nobody's personal data."""
        everyone = [v for p in self.model.persons.values() for v in p] + [v for p in self.model.erased for v in p]
        for eid in ENTERPRISES:
            r = self.call("GET", f"{API}/{eid}/catalog", expect={200})
            private = [seg for seg in ("/orders/", "/persons/", "/webhooks/", "/settings", "/events", "/contracts/")
                       if seg in r.text]
            assert not private, (eid, private, r.text[:600])
            assert not findings(r.text, everyone), (eid, findings(r.text, everyone)[:3])
        texts, self.texts = self.texts, []
        for text in texts:
            for secret in self.model.secrets:
                assert secret not in text, text[:400]
            for person in self.model.erased:
                assert not findings(text, person), findings(text, person)[:3]


def _number(event_id: str) -> int:
    return int(event_id.removeprefix("evt_"))


COLUMNS = {"ordered": "hub:orderedQuantity", "held": "hub:heldQuantity", "completed": "hub:completedQuantity",
           "cancelled": "hub:cancelledQuantity", "kilograms": "hub:totalWeight", "value": "hub:value",
           "catalogue_value": "hub:catalogueValue", "confirmed_value": "hub:confirmedValue"}


def catalogue_setup(w: World) -> None:
    """Tokens for every enterprise; Jean's leeks (sold per piece), resold by Hub A."""
    for eid in ENTERPRISES:
        w.token(eid)
    jean, hub_a = f"{API}/jean-farm", f"{API}/hub-a"
    docs = [
        (jean + "/supplied_products/leeks", "jean-farm", {
            "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Leeks",
            "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 1, "dfc-b:hasUnit": "dfc-m:Piece"}}),
        (jean + "/catalog_items/leeks", "jean-farm", {
            "@type": "dfc-b:CatalogItem", "dfc-b:references": w.iri(jean + "/supplied_products/leeks"),
            "dfc-b:stockLimitation": float(PRODUCTS["leeks"].stock), "dfc-b:offeredThrough": w.iri(jean + "/offers/leeks")}),
        (jean + "/offers/leeks", "jean-farm", {
            "@type": "dfc-b:Offer", "dfc-b:offers": w.iri(jean + "/catalog_items/leeks"),
            "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 1.5, "dfc-b:hasUnit": "dfc-m:Euro"}}),
        (hub_a + "/catalog_items/jean-leeks", "hub-a", {
            "@type": "dfc-b:CatalogItem", "dfc-b:references": w.iri(jean + "/supplied_products/leeks"),
            "dfc-b:offeredThrough": w.iri(hub_a + "/offers/jean-leeks")}),
        (hub_a + "/offers/jean-leeks", "hub-a", {
            "@type": "dfc-b:Offer", "dfc-b:offers": w.iri(hub_a + "/catalog_items/jean-leeks"),
            "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2.2, "dfc-b:hasUnit": "dfc-m:Euro"}}),
    ]
    for path, eid, node in docs:
        w.call("PUT", path, eid, {"@context": CTX, "@id": w.iri(path), **node}, expect={200, 201})
    w.check_calls()
