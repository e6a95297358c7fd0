"""The supplier lifecycle in the model of tests/test_model.py: the wholesale orders a close places at
the producer (and the hubs' direct orders), what the producer and the buyer then do with them, the
deliveries a hub plans on its open session's draft (cut back as its customers shrink their
orders), and the check of each such order against what the server answers.

The rules are API.md's ("The supplier lifecycle of an order", "Prices and contracts", "Deliveries",
"Events and webhooks") written out again here, never imported from app/: a model that borrowed the
server's table would agree with whatever the server does.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from app.events.outbox import DELIVERY_CHANGED, ORDER_RECEIVED, ORDER_STATUS_CHANGED
from support.orders import MONDAY

API = "/api/dfc/enterprises"
SUPPLIER = "jean-farm"           # the one producer: every wholesale order's seller
CONSUMER_ROLE, SUPPLIER_ROLE = "consumer", "supplier"
HUB_CTX = ["https://www.datafoodconsortium.org", {"hub": "https://w3id.org/dfc-order-hub/ns#"}]
ZERO = Decimal(0)
# Delivery dates in the sale week the model's clock stands in (the demo's Monday, from today):
# wanted on Tuesday, confirmed for Tuesday or Thursday; never a written date that may expire.
TUESDAY, THURSDAY = ((MONDAY + dt.timedelta(days=k)).date().isoformat() for k in (1, 3))

OPEN = ("draft", "placed")       # the consumer changes lines and deliveries only here
ASKED_FROM = ("transferred", "transfer_failed", "confirmed", "producing", "partially_shipped")
SHIPPABLE = ("confirmed", "producing", "partially_shipped")
FINAL = ("shipped", "canceled_by_consumer", "canceled_by_supplier", "partially_shipped_remainder_canceled")
CANCELLED = ("canceled_by_consumer", "canceled_by_supplier")
# The producer's moves that end an order; drawn in a step of their own, or they would end most
# orders before any is confirmed and shipped.
ENDINGS = (*CANCELLED, "partially_shipped_remainder_canceled")
# The supplier's steps by name besides cancelling, which it may do in every status not final.
SUPPLIER_STEPS = {"placed": ("transferred", "transfer_failed", "confirmed"), "transfer_failed": ("transferred",),
                  "transferred": ("confirmed",), "confirmed": ("producing",),
                  "partially_shipped": ("partially_shipped_remainder_canceled",)}


def dfc_statuses(status: str) -> tuple[str, str]:
    """The DFC OrderStatus and FulfilmentStatus a lifecycle status means (API.md's table)."""
    if status == "draft":
        return "Held", "Held"
    if status in CANCELLED:
        return "Cancelled", "Cancelled"
    return "Complete", "Fulfilled" if status in FINAL else "Unfulfilled"


def allowed(status: str, role: str, asked_from: str | None = None) -> set[str]:
    """The statuses `role` may move an order in `status` to by asking for them (POST …/status)."""
    if status in FINAL:
        return set()
    if role == CONSUMER_ROLE:
        if status in OPEN:
            return {"placed", "canceled_by_consumer"} if status == "draft" else {"canceled_by_consumer"}
        return {"cancelation_requested"} if status in ASKED_FROM else set()
    out = {*SUPPLIER_STEPS.get(status, ()), "canceled_by_supplier"}
    if status == "cancelation_requested":
        out |= {"canceled_by_consumer", asked_from}        # yes, or back where it came from
    return out


@dataclasses.dataclass
class Line:
    product: str
    quantity: Decimal
    price: Decimal | None = None          # hub:catalogPrice: frozen when the order is placed
    confirmed: Decimal | None = None      # hub:confirmedPrice: the supplier's, with `confirmed`


@dataclasses.dataclass
class Delivery:
    lines: dict[str, Decimal]             # order line IRI → quantity
    shipped: bool = False
    date: str | None = None               # hub:confirmedDeliveryDate, the supplier's


@dataclasses.dataclass
class Supplied:
    """A wholesale order at the producer: one a hub's close placed, or a hub's direct order."""
    buyer: str                            # the consumer's eid
    session: str | None                   # the IRI of the session whose close placed it; None: direct
    lines: dict[str, Line]                # order line IRI → line
    status: str = "draft"
    asked_from: str | None = None         # where a cancellation request came from
    mode: str | None = None               # hub:deliveryMode once placed: "complete" or "split"
    deliveries: dict[str, Delivery] = dataclasses.field(default_factory=dict)
    history: list[tuple[str, str]] = dataclasses.field(default_factory=list)   # (status, by whom)

    def usage(self) -> dict[str, tuple[Decimal, Decimal]]:
        """(held, committed) per product: a draft holds its lines, a placed order commits what has
        not shipped, a final one nothing."""
        out: dict[str, tuple[Decimal, Decimal]] = {}
        if self.status in FINAL:
            return out
        gone = self.carried(shipped=True)
        for iri, line in self.lines.items():
            h, c = out.get(line.product, (ZERO, ZERO))
            left = line.quantity - gone.get(iri, ZERO)
            out[line.product] = (h + left, c) if self.status == "draft" else (h, c + left)
        return out

    def carried(self, shipped: bool = False) -> dict[str, Decimal]:
        """What the deliveries (the shipped ones only, if `shipped`) carry of each line."""
        return _carried(d for d in self.deliveries.values() if d.shipped or not shipped)

    def unallocated(self) -> dict[str, Decimal]:
        carried = self.carried()
        return {iri: line.quantity - carried.get(iri, ZERO) for iri, line in self.lines.items()
                if line.quantity > carried.get(iri, ZERO)}


# --- reading compacted JSON-LD answers ----------------------------------------------------------

def nodes(body: dict) -> list[dict]:
    return body.get("@graph", [body] if "@id" in body else [])


def many(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def ref(value) -> str:
    return value["@id"] if isinstance(value, dict) else value


def number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def price_of(found: list[dict], value) -> Decimal | None:
    """The dfc-b:value of a price node, embedded or referenced."""
    if value is None:
        return None
    node = value if isinstance(value, dict) and set(value) != {"@id"} else \
        next(n for n in found if n.get("@id") == ref(value))
    return number(node["dfc-b:value"])


def _portion(left: dict[str, Decimal], part: str) -> dict[str, Decimal]:
    """All of what is left, half of each line (where half is still in the server's steps, 0.001;
    else all of it), or one line."""
    if part == "half":
        return {iri: q / 2 if (q / 2) % Decimal("0.001") == 0 else q for iri, q in left.items()}
    if part == "one line":
        return dict(list(left.items())[:1])
    return dict(left)


def _delivery_body(lines: dict[str, Decimal]) -> dict:
    return {"@context": HUB_CTX, "@type": "hub:Delivery", "hub:desiredDeliveryDate": TUESDAY,
            "hub:hasDeliveryLine": [{"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": iri},
                                     "dfc-b:quantity": float(q)} for iri, q in lines.items()]}


def _carried(deliveries: Iterable[Delivery]) -> dict[str, Decimal]:
    """What `deliveries` carry of each line, together."""
    out: dict[str, Decimal] = {}
    for d in deliveries:
        for line, q in d.lines.items():
            out[line] = out.get(line, ZERO) + q
    return out


def _plannable(o: Supplied) -> dict[str, Decimal]:
    """What the buyer may still put in a delivery of each line: in `complete` mode the server's
    one delivery gives way to the buyer's first, so all of every line."""
    if o.mode != "complete":
        return o.unallocated()
    return {iri: line.quantity for iri, line in o.lines.items() if line.quantity > 0}


class SupplierSteps:
    """What the producer and the buyers do with wholesale orders past draft, mixed into the model's
    World (support.hub_model), whose `model`, `call` and `iri` it uses."""

    # --- which orders a step may pick (in the order they were made: their IRIs are random) ------

    def orders_with(self, options) -> list[str]:
        return [p for p in self.model.orders if options(p)]

    def live_orders(self) -> list[str]:
        return [p for p, o in self.model.orders.items() if o.status not in FINAL]

    def unshipped(self, path: str) -> list[str]:
        return [d for d, found in self.model.orders[path].deliveries.items() if not found.shipped]

    def producer_options(self, path: str) -> list[str]:
        """The producer's moves now that take the order on: statuses, and "ship" (a delivery)."""
        o = self.model.orders[path]
        return self.supplier_targets(path, ending=False) + (["ship"] if o.status in SHIPPABLE and self.unshipped(path) else [])

    def supplier_targets(self, path: str, ending: bool) -> list[str]:
        """The producer's moves now that end the order (`ending`), or those that take it on."""
        o = self.model.orders[path]
        return sorted(t for t in allowed(o.status, SUPPLIER_ROLE, o.asked_from) if (t in ENDINGS) == ending)

    def buyer_options(self, path: str) -> list[str]:
        """The buyer's moves now that take the order on: placing a draft, planning a delivery."""
        # A session's order joins `model.orders` placed; what its hub planned on the draft
        # (plan_session_delivery, give_way) joins it then.
        o = self.model.orders[path]
        return (["placed"] if o.status == "draft" else []) + \
            (["deliver"] if o.status in OPEN and _plannable(o) else [])

    def buyer_endings(self, path: str) -> list[str]:
        return sorted(allowed(self.model.orders[path].status, CONSUMER_ROLE) - {"placed"})

    def datable(self) -> list[tuple[str, str]]:
        # A final order's too: "nothing changes a final order" (API.md), so the date is refused there.
        return [(p, d) for p in self.model.orders for d in self.unshipped(p)]

    # --- the moves ------------------------------------------------------------------------------

    def place_session_order(self, hub: str) -> None:
        """After a close: the hub's draft wholesale order is placed with the lines its customers
        left, priced at the producer's offers now, one delivery carrying everything. Its lines are
        read from the server: check_summaries holds them to the customers' lines after this step."""
        session = self.iri(f"{API}/{hub}/sale_sessions/week-48")
        path, lines, found = self.session_wholesale(hub)
        assert path is not None, ("one wholesale order per session and producer", hub)
        # What the hub planned on the draft stays: the order is then split, no delivery made for it.
        o = Supplied(hub, session, lines, history=[("draft", hub)], deliveries=self.model.planned.pop(hub, {}))
        self.model.orders[path] = o
        self._placed(path, o, hub, found)

    def _placed(self, path: str, o: Supplied, by: str, found: list[dict]) -> None:
        """An order just placed: its prices frozen now, its deliveries as API.md makes them at
        `placed` (the server's one delivery, whose IRI is read from `found`), its events."""
        for line in o.lines.values():
            line.price = self.model.prices[line.product]
        o.mode = "split" if o.deliveries else "complete"
        if o.mode == "complete":
            self._made_delivery(path, o, found)
        self._moved(path, o, "placed", by)

    def _made_delivery(self, path: str, o: Supplied, found: list[dict]) -> None:
        """Learn the IRI of the delivery the server made at `placed` (it carries every line)."""
        made = [n["@id"] for n in found if n.get("@type") == "hub:Delivery" and n["@id"] not in o.deliveries]
        assert len(made) == 1, (path, "one delivery made at placed", made)
        o.deliveries[made[0]] = Delivery({iri: line.quantity for iri, line in o.lines.items() if line.quantity > 0})

    def _moved(self, path: str, o: Supplied, to: str, by: str) -> None:
        """The model after a move: the status, a step of history, the events it owes."""
        before, o.status = o.status, to
        if to == "cancelation_requested":
            o.asked_from = before
        o.history.append((to, by))
        if before == to:          # a second partial shipment: a step in the history, no transition
            return
        data = {"order": self.iri(path), "supplier": self.iri(f"{API}/{SUPPLIER}"),
                "consumer": self.iri(f"{API}/{o.buyer}"), "from": before, "to": to}
        if o.session:
            data["session"] = o.session
        if to == "placed":
            self.model.events.append((ORDER_RECEIVED, (SUPPLIER,), data))
        self.model.events.append((ORDER_STATUS_CHANGED, (SUPPLIER, o.buyer), data))

    def _delivery_event(self, path: str, o: Supplied, delivery: str, shipped: bool) -> None:
        data = {"order": self.iri(path), "delivery": delivery, "supplier": self.iri(f"{API}/{SUPPLIER}"),
                "consumer": self.iri(f"{API}/{o.buyer}"), "status": o.status, "shipped": shipped}
        self.model.events.append((DELIVERY_CHANGED, (SUPPLIER, o.buyer), data))

    def move(self, path: str, to: str, by: str, with_prices: bool = False) -> None:
        """A party asks for a move by name (POST …/status) that the model allows it now."""
        o = self.model.orders[path]
        body = {"status": to, "reason": f"the model's {by}"}
        prices = {iri: line.price - Decimal("0.1") for iri, line in o.lines.items() if line.price is not None}
        if with_prices and to == "confirmed" and prices:
            body["confirmedPrices"] = {iri: float(p) for iri, p in prices.items()}
        r = self.call("POST", path + "/status", by, body, expect={200})
        if r.status_code != 200:
            return
        if "confirmedPrices" in body:
            for iri, p in prices.items():
                o.lines[iri].confirmed = p
        if to == "placed":
            self._placed(path, o, by, nodes(r.json()))
        else:
            self._moved(path, o, to, by)

    def plan_delivery(self, path: str, part: str) -> None:
        """The buyer plans a delivery of what is not yet allocated: all of it, half of each line, or
        one line; in `placed` with the server's one delivery, that one gives way first."""
        o = self.model.orders[path]
        left = _portion(_plannable(o), part)
        if not left:
            return
        r = self.call("POST", path + "/deliveries", o.buyer, _delivery_body(left), expect={201})
        if r.status_code != 201:
            return
        if o.mode == "complete":
            o.deliveries = {d: found for d, found in o.deliveries.items() if found.shipped}
            o.mode = "split"
        delivery = r.headers["Location"]
        o.deliveries[delivery] = Delivery(dict(left))
        self._delivery_event(path, o, delivery, shipped=False)

    # --- deliveries a hub plans on its open session's draft wholesale order ----------------------

    def session_wholesale(self, hub: str) -> tuple[str | None, dict[str, Line], list[dict]]:
        """The hub's session's one wholesale order as the server lists it: its path (None if it has
        none), its lines (IRI → Line, unpriced) and the nodes read."""
        found = nodes(self.call("GET", f"{API}/{hub}/sale_sessions/week-48/wholesale_orders", hub,
                                expect={200}).json())
        orders = [n for n in found if n.get("@type") == "dfc-b:Order"]
        assert len(orders) <= 1, ("one wholesale order per session and producer", hub, orders)
        lines = {n["@id"]: Line(n["hub:product"].rsplit("/", 1)[-1], number(n["dfc-b:hasQuantity"]["dfc-b:value"]))
                 for n in found if n.get("@type") == "dfc-b:OrderLine"}
        return (orders[0]["@id"][len(self.base):] if orders else None), lines, found

    def plan_session_delivery(self, hub: str, part: str) -> None:
        """The hub plans a delivery of all, half of each line, or one line of what its open
        session's draft wholesale order does not yet allocate; its customers may still shrink it."""
        if hub in self.model.closed or hub not in self.model.drafted:
            return
        path, lines, _ = self.session_wholesale(hub)
        if path is None:
            return
        planned = self.model.planned.setdefault(hub, {})
        self.model.draft_lines[hub] = {iri: line.product for iri, line in lines.items()}
        carried = _carried(planned.values())
        left = _portion({iri: line.quantity - carried.get(iri, ZERO) for iri, line in lines.items()
                         if line.quantity > carried.get(iri, ZERO)}, part)
        if not left:
            return
        r = self.call("POST", path + "/deliveries", hub, _delivery_body(left), expect={201})
        if r.status_code != 201:
            return
        self.model.draft_paths[hub] = path
        planned[r.headers["Location"]] = Delivery(dict(left))
        self._draft_delivery_event(hub, r.headers["Location"])

    def give_way(self, hub: str) -> None:
        """After a customer's order in the hub's open session shrank or went: the deliveries planned
        on the draft wholesale order give way to its lines, the one wanted latest first (here all
        are wanted on Tuesday: the highest IRI first), each one cut an event to both parties. A
        line left at nothing leaves the order; ordered again, it comes back with a new IRI."""
        planned = self.model.planned.get(hub)
        if not planned or hub in self.model.closed:
            return
        ordered, lines = self.model.ordered(hub), self.model.draft_lines[hub]
        for iri, product in list(lines.items()):
            if ordered.get(product, ZERO) <= 0:
                del lines[iri]
        now = {iri: ordered[product] for iri, product in lines.items()}
        excess = {line: total - now.get(line, ZERO) for line, total in _carried(planned.values()).items()
                  if total > now.get(line, ZERO)}
        for delivery in sorted(planned, reverse=True):
            d = planned[delivery]
            if not any(excess.get(line) for line in d.lines):
                continue
            for line, quantity in list(d.lines.items()):
                take = min(quantity, excess.get(line, ZERO))
                if take > 0:
                    d.lines[line], excess[line] = quantity - take, excess[line] - take
            d.lines = {line: q for line, q in d.lines.items() if q > 0}
            self._draft_delivery_event(hub, delivery)

    def _draft_delivery_event(self, hub: str, delivery: str) -> None:
        data = {"order": self.iri(self.model.draft_paths[hub]), "delivery": delivery,
                "supplier": self.iri(f"{API}/{SUPPLIER}"), "consumer": self.iri(f"{API}/{hub}"),
                "status": "draft", "shipped": False}
        self.model.events.append((DELIVERY_CHANGED, (SUPPLIER, hub), data))

    def ship(self, path: str, delivery: str) -> None:
        """The producer ships a delivery: its quantities leave the stock; the order is shipped once
        everything ordered has, else partially shipped."""
        o = self.model.orders[path]
        d = o.deliveries[delivery]
        carries = any(q > 0 for q in d.lines.values())
        r = self.call("POST", delivery[len(self.base):] + "/ship", SUPPLIER, expect={200} if carries else {409})
        if r.status_code != 200:
            return
        d.shipped = True
        for line, q in d.lines.items():
            self.model.on_hand[o.lines[line].product] -= q
        gone = o.carried(shipped=True)
        done = all(gone.get(iri, ZERO) >= line.quantity for iri, line in o.lines.items())
        self._moved(path, o, "shipped" if done else "partially_shipped", SUPPLIER)
        self._delivery_event(path, o, delivery, shipped=True)

    def date_delivery(self, path: str, delivery: str, day: str) -> None:
        """The producer confirms a delivery's date, and nothing else of it (409 on a final order)."""
        o = self.model.orders[path]
        doc = self.call("GET", delivery[len(self.base):], SUPPLIER, expect={200}).json()
        for node in nodes(doc):
            if node.get("@type") == "hub:Delivery":
                node["hub:confirmedDeliveryDate"] = day
        final = o.status in FINAL
        r = self.call("PUT", delivery[len(self.base):], SUPPLIER, doc, expect={409} if final else {200})
        if r.status_code == 200 and not final:
            o.deliveries[delivery].date = day
            self._delivery_event(path, o, delivery, shipped=False)

    def reprice(self, product: str, price: Decimal) -> None:
        """The producer changes its offer's price: orders placed from now on freeze the new one."""
        path = f"{API}/{SUPPLIER}/offers/{product}"
        doc = self.call("GET", path, expect={200}).json()
        doc["dfc-b:hasPrice"] = {"@type": "dfc-b:Price", "dfc-b:value": float(price), "dfc-b:hasUnit": "dfc-m:Euro"}
        r = self.call("PUT", path, SUPPLIER, doc, expect={200})
        if r.status_code == 200:
            self.model.prices[product] = price

    # --- refused moves: each must change nothing (World.call compares the store) ----------------

    def hostile_move(self, path: str, kind: str) -> None:
        o = self.model.orders[path]
        if kind == "the buyer confirms":
            r = self.call("POST", path + "/status", o.buyer, {"status": "confirmed"}, expect={409})
            self._refused_with(r, allowed(o.status, CONSUMER_ROLE))
        elif kind == "the producer places":
            r = self.call("POST", path + "/status", SUPPLIER, {"status": "placed"}, expect={409})
            self._refused_with(r, allowed(o.status, SUPPLIER_ROLE, o.asked_from))
        elif kind == "a stranger cancels":
            stranger = "hub-b" if o.buyer == "hub-a" else "hub-a"
            self.call("POST", path + "/status", stranger, {"status": "canceled_by_consumer"}, expect={403})
        elif kind == "an unknown status":
            self.call("POST", path + "/status", SUPPLIER, {"status": "teleported"}, expect={422})
        elif kind == "ship too early or twice":
            wrong = [d for d, found in o.deliveries.items() if found.shipped or o.status not in SHIPPABLE]
            target = wrong[0] if wrong else self.iri(path + "/deliveries/nothing-here")
            self.call("POST", target[len(self.base):] + "/ship", SUPPLIER, expect={409} if wrong else {404})
        elif kind == "deliver more than ordered" and o.lines:
            iri, line = next(iter(o.lines.items()))
            body = {"@context": HUB_CTX, "@type": "hub:Delivery", "hub:hasDeliveryLine": {
                "@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": iri}, "dfc-b:quantity": float(line.quantity + 1)}}
            self.call("POST", path + "/deliveries", o.buyer, body, expect={409})
        elif kind == "the producer rewrites the buyer's order" and o.lines:
            # Only the consumer changes what it ordered and whose the order is (403, nothing changed).
            doc = self.call("GET", path, SUPPLIER, expect={200}).json()
            for node in nodes(doc):
                if node.get("@type") == "dfc-b:OrderLine":
                    node.pop("dfc-b:hasQuantity", None)
                    node["dfc-b:quantity"] = float(number(node.get("dfc-b:quantity", 1)) + 1)
                elif node.get("@type") == "dfc-b:Order":
                    node["dfc-b:orderedBy"] = self.iri(f"{API}/hub-b" if o.buyer == "hub-a" else f"{API}/hub-a")
            self.call("PUT", path, SUPPLIER, doc, expect={403})

    def _refused_with(self, r, could: set[str]) -> None:
        if r.status_code == 409 and set(r.json().get("allowed", ())) != could:
            self.calls.append(f"409 allowed {r.json().get('allowed')}, the model says {sorted(could)}: {r.url}")

    # --- the promise ----------------------------------------------------------------------------

    def check_supplied(self) -> None:
        """Each order past draft reads as the model has it: status and DFC statuses, lines and their
        frozen and confirmed prices, what is unallocated, deliveries (shipped, dated), history."""
        for path, o in self.model.orders.items():
            found = nodes(self.call("GET", path, SUPPLIER, expect={200}).json())
            by_type: dict[str, list[dict]] = {}
            for n in found:
                by_type.setdefault(n.get("@type"), []).append(n)
            [order] = by_type["dfc-b:Order"]
            got = (order.get("hub:status"), order.get("dfc-b:hasOrderStatus"), order.get("dfc-b:hasFulfilmentStatus"),
                   order.get("hub:deliveryMode"))
            dfc = dfc_statuses(o.status)
            want = ("hub:" + o.status, "dfc-v:" + dfc[0], "dfc-v:" + dfc[1], o.mode and "hub:" + o.mode)
            assert got == want, (path, got, want)
            lines = {n["@id"]: (number(n["dfc-b:hasQuantity"]["dfc-b:value"]), price_of(found, n.get("hub:catalogPrice")),
                                price_of(found, n.get("hub:confirmedPrice")), number(n.get("hub:unallocated")))
                     for n in by_type.get("dfc-b:OrderLine", [])}
            left = o.unallocated()
            want_lines = {iri: (line.quantity, line.price, line.confirmed, left.get(iri)) for iri, line in o.lines.items()}
            assert lines == want_lines, (path, o.status, lines, want_lines)
            parts: dict[str, list[dict]] = {}
            for n in by_type.get("hub:DeliveryLine", []):
                parts.setdefault(n["@id"].rsplit("/lines/", 1)[0], []).append(n)
            deliveries = {n["@id"]: ({ref(p["hub:ofOrderLine"]): number(p["dfc-b:quantity"]) for p in parts.get(n["@id"], [])},
                                     "hub:shippedAt" in n, n.get("hub:confirmedDeliveryDate"))
                          for n in by_type.get("hub:Delivery", [])}
            want_deliveries = {iri: (d.lines, d.shipped, d.date) for iri, d in o.deliveries.items()}
            assert deliveries == want_deliveries, (path, o.status, deliveries, want_deliveries)
            steps = sorted(by_type.get("hub:StatusChange", []), key=lambda n: int(n["@id"].rsplit("/", 1)[1]))
            history = [(s["hub:toStatus"].removeprefix("hub:"), s["hub:changedBy"].rsplit("/", 1)[-1]) for s in steps]
            assert history == o.history, (path, history, o.history)
