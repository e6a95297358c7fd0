"""The supplier lifecycle's writes on the order book: moves, deliveries, shipments.

Each is one unit of work, as every order change (app/orders/book.py): read the order,
let the pure rules plan the new document (app/domain/lifecycle.py, deliveries.py, prices.py),
move the ledgers that follow from the difference in what the order counts (and, for a
shipment, what left on hand), record the events, write it all in one update. `OrderMoves`
is mixed into `OrderBook`, whose store, clock, readers and ledger moves it uses.
"""
from __future__ import annotations

import dataclasses

from pyoxigraph import NamedNode, Triple

from app.domain import deliveries, lifecycle, policy, order_documents as orders
from app.catalog import prices
from app.events import order_events
from app.domain import documents as docs
from app.domain.versions import Expected
from app.domain.agents import Agent
from app.orders import holds, idempotency, lock_keys, wholesale
from app.orders.idempotency import Answer
from app.domain import statuses
from app.domain.statuses import CONFIRMED, FINAL, OPEN, PARTIALLY_SHIPPED, SHIPPED
from app.errors import Conflict, InvalidValue, NotFound
from app.namespaces import T


class OrderMoves:
    def transition(self, ns: docs.Namespace, iri: NamedNode, agent: Agent | None, target: NamedNode,
                   reason: str | None = None, expected: Expected = Expected(),
                   confirmed: dict | None = None, key: idempotency.Key | None = None) -> Answer:
        """Move a wholesale order to `target` (POST …/status), with the stock that follows; 409 if not allowed.

        `confirmed` (line IRI → price) goes with a move to `confirmed`: the supplier's prices.
        """
        if confirmed and target != CONFIRMED:
            raise InvalidValue("confirmedPrices go with the status confirmed only", pointer="/confirmedPrices")

        def edit(current, held, iri, _):
            before = lifecycle.status_of(current, iri)
            lifecycle.check(before, target, held, lifecycle.came_from(current, iri))
            new = lifecycle.move(current, iri, target, NamedNode(agent.iri), self.clock.now(), reason, before)
            if confirmed:
                new = prices.confirm(new, iri, {NamedNode(line): price for line, price in confirmed.items()})
            return new, {}
        return self._change(ns, iri, agent, "transition", edit, expected, key=key)

    def write_delivery(self, ns: docs.Namespace, iri: NamedNode, agent: Agent | None, delivery: NamedNode,
                       sent: list[Triple], create: bool, expected: Expected = Expected(),
                       key: idempotency.Key | None = None) -> Answer:
        """POST (create) or PUT a delivery of a wholesale order."""
        asked = delivery

        def edit(current, held, iri, delivery):
            exists = any(d.iri == delivery for d in deliveries.read(current, iri))
            if create and exists:
                raise Conflict(f"{delivery.value} exists already; PUT it to change it", iri=delivery.value)
            if not create and not exists:
                raise NotFound(f"no delivery at {delivery.value}")
            self._may_edit_deliveries(current, iri, held)
            if create:
                deliveries.check_room(current, iri, self.max_deliveries)
            return deliveries.put(current, iri, delivery, docs.rename(sent, {asked: delivery}),
                                  lifecycle.SUPPLIER in held, lifecycle.CONSUMER in held), {}
        return self._change(ns, iri, agent, "deliveries", edit, expected, delivery, key, lambda new, named: Answer(
            201 if create else 200, named.value if create else None, deliveries.triples_of(new, named)))

    def delete_delivery(self, ns: docs.Namespace, iri: NamedNode, agent: Agent | None, delivery: NamedNode,
                        expected: Expected = Expected(), key: idempotency.Key | None = None) -> None:
        """Remove an unshipped delivery (the consumer, while the order is draft or placed)."""
        def edit(current, held, iri, delivery):
            if lifecycle.CONSUMER not in held:
                raise Conflict("only the consumer removes a delivery")
            self._may_edit_deliveries(current, iri, held)
            return deliveries.remove(current, iri, delivery), {}
        self._change(ns, iri, agent, "deliveries", edit, expected, delivery, key, lambda new, _: Answer(204, None, []))

    def ship(self, ns: docs.Namespace, iri: NamedNode, agent: Agent | None, delivery: NamedNode,
             key: idempotency.Key | None = None) -> Answer:
        """Ship a delivery (the supplier): its quantities leave on hand and committed; the order moves on."""
        def edit(current, held, iri, delivery):
            before = lifecycle.status_of(current, iri)
            shipped_doc, moved, done = deliveries.ship(current, iri, delivery, self.clock.now())
            target = SHIPPED if done else PARTIALLY_SHIPPED
            lifecycle.check(before, target, held, None, how=(lifecycle.BY_SHIPPING,))
            after = lifecycle.move(shipped_doc, iri, target, NamedNode(agent.iri), self.clock.now(),
                                   f"delivery {delivery.value.rsplit('/', 1)[-1]} shipped", before)
            return after, moved
        return self._change(ns, iri, agent, "ship", edit, Expected(), delivery, key)

    def _may_edit_deliveries(self, current, iri, held) -> None:
        """Nothing changes a final order's deliveries (409), not even a date the supplier confirms;
        the consumer changes them only while the order is draft or placed."""
        status = lifecycle.status_of(current, iri)
        if status in FINAL or (lifecycle.CONSUMER in held and status not in OPEN):
            raise Conflict(f"deliveries of an order in {statuses.name(status)} cannot change any more",
                           currentStatus=statuses.name(status))

    def _change(self, ns, iri: NamedNode, agent, action: str, edit, expected: Expected,
                delivery: NamedNode | None = None, key: idempotency.Key | None = None,
                answer_of=lambda new, _: Answer(200, None, new)) -> Answer:
        """One change of a wholesale order in its unit of work: read, let `edit` plan, move stock, write."""
        agent = policy.require_token(agent, "order", action)
        # The seller's lock: its stock and its orders (checked under it: `lock_keys.check`); and the
        # request's key, whose answer is kept with the change.
        keys = {lock_keys.enterprise(iri.value, self.base_url), *([key.graph.value] if key is not None else [])}
        for attempt in self.store.attempts(keys):
            with attempt as tx:
                tx.leaves_catalogue()        # a move changes ledgers, never links
                answer = idempotency.once(tx, key, lambda: answer_of(
                    *self._move(tx, ns, iri, agent, action, edit, expected, delivery)))
        return answer

    def _move(self, tx, ns, iri, agent, action, edit, expected, delivery) -> tuple[list[Triple], NamedNode | None]:
        """`_change` inside its unit of work: the order as the move leaves it, and the delivery as named in it."""
        found = docs.find(tx, iri.value, self.base_url)
        if found is None or not ns.owns(found[0].value):
            raise NotFound(f"no order at {iri.value}")
        asked, (iri, current) = iri, found
        if delivery is not None and iri != asked and delivery.value.startswith(asked.value + "/"):
            # An order PUT at a CamelCase route is stored under that spelling: its deliveries
            # are named under the order as stored, or the edit would describe a node it is not.
            named = NamedNode(iri.value + delivery.value[len(asked.value):])
            # The preconditions name the delivery's version too: under the same spelling.
            if expected.part == delivery:
                expected = dataclasses.replace(expected, part=named)
            delivery = named
        self.readable(agent, ns, current, iri)
        if orders.is_customer(current, iri):
            raise Conflict("a customer's order has no supplier lifecycle: its hub's wholesale orders do")
        expected.check(current)
        holds.refuse_ended(current, iri, self.clock.now())
        held = lifecycle.roles(agent, ns.iris, orders.buyer(current, iri))
        policy.require(agent, "order", action, owner=ns, buyers=[orders.buyer(current, iri)], order=iri.value)
        new, moved = edit(current, held, iri, delivery)
        new = deliveries.refresh(new, iri)
        if orders.status(new, iri) == T.Complete and prices.unpriced(new, iri):
            new = prices.frozen(tx, ns, iri, new, self.clock.now())     # placed: the best price, frozen
        usage = orders.usage_minus(orders.usage(new, iri), orders.usage(current, iri))
        # A move that commits stock (placed) must find its session open (409), as a PUT does
        # (wholesale.plan); the supplier's later moves (confirm, ship) go on after the close.
        session = orders.session(new, iri)
        if isinstance(session, NamedNode) and any(h > 0 or c > 0 for h, c in usage.values()):
            wholesale.check_session(new, iri, usage, tx.graph(session), self.clock.now(), changed=True)
        graphs = {iri: new, **self._moves(tx, usage, {}, moved)}
        for name, triples in graphs.items():
            tx.put(name, triples)
        lock_keys.check(tx, self.base_url)
        now = self.clock.now()
        order_events.order_written(tx, iri, current, new, ns, agent, now)
        if delivery is not None:
            order_events.delivery_changed(tx, iri, new, delivery, ns, now, shipped=action == "ship")
        return new, delivery

