"""The server cancels Held orders whose hold has ended (API.md "Holds that expire").

Each order in a unit of work of its own, as a buyer's cancellation is: read the order again under
the lock, and only if it is still Held with its hold ended (app/orders/holds.py) cancel it, move
its stock back and record its events. So it happens once, whichever of two expirers (the `serve`
worker, `dfc-hub expire-holds`) or a buyer's own write comes first: the buyer's write after the
end is refused (409) under the same lock. `HoldExpiry` is mixed into `OrderBook`, whose planners,
ledger moves and forwarder it uses.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyoxigraph import NamedNode, Triple

from app import queries
from app.domain import deliveries, documents as docs, order_documents as orders
from app.events import order_events
from app.errors import HubError
from app.namespaces import T
from app.orders import holds, lock_keys

log = logging.getLogger(__name__)
# How often a customer order's lines may change between resolving their offers (before the
# lock) and cancelling it (under it) before this pass leaves it to the next.
_TRIES = 3


class HoldExpiry:
    def expire_holds(self, now: dt.datetime | None = None) -> list[NamedNode]:
        """Cancel every Held order whose hold has ended; return those this call cancelled."""
        now = now or self.clock.now()
        return self._expire_ended(self.store.select(queries.load("held_with_hold")), now)

    def expire_session_holds(self, session: NamedNode, now: dt.datetime) -> list[NamedNode]:
        """Cancel the Held orders of an open session whose hold has ended (before its close commits them)."""
        return self._expire_ended(self.store.select(queries.load("session_holds"), {"session": session}), now)

    def _expire_ended(self, rows, now: dt.datetime) -> list[NamedNode]:
        """Cancel each order of `rows` (order, until) whose hold has ended; return those cancelled."""
        due = [r["order"] for r in rows if (end := holds.until([Triple(r["order"], T.holdUntil, r["until"])],
                                                                r["order"])) is not None and end <= now]
        cancelled = []
        for order in due:
            try:
                if self.expire_hold(order, now):
                    cancelled.append(order)
            except HubError as e:     # one order the rules refuse to cancel never holds up the others
                log.warning("cancelling the expired hold of %s failed: %s", order.value, e.detail)
        return cancelled

    def expire_hold(self, order: NamedNode, now: dt.datetime | None = None) -> bool:
        """Cancel one order if it is still Held and its hold has ended; True if this call did."""
        now = now or self.clock.now()
        owner = docs.enterprise_of(order.value, self.base_url)
        if owner is None:
            return False
        ns = docs.Namespace(self.base_url, owner)
        for _ in range(_TRIES):
            current = self.store.graph(order)
            if not current or not holds.ended(current, order, now):
                return False
            if not orders.is_customer(current, order):
                return self._expire_wholesale(ns, order, now)
            # Each line's upstream target, resolved before the lock as a checkout's are.
            sources = self._resolve(ns, orders.lines(current, order), {}, True)
            done = self._expire_customer(ns, order, sources, now)
            if done is not None:
                return done
        log.warning("order %s changed %d times while its expired hold was cancelled; next pass", order.value, _TRIES)
        return False

    def _expire_customer(self, ns, order: NamedNode, sources: dict, now: dt.datetime) -> bool | None:
        """Cancel a customer order as its buyer's PUT would; None if its offers changed meanwhile."""
        # Locked as its buyer's PUT would be: the order, its session, its lines' producers (checked under them).
        keys = lock_keys.guess(self.base_url, order, self.store.graph(order), None, sources, True, [order])
        for attempt in self.store.attempts(keys):
            with attempt as tx:
                tx.leaves_catalogue()
                if self.forwarder is not None:      # its forwarded lines shrink at the partners
                    tx.after_commit(lambda done: self.forwarder.settle(
                        done, undo=lambda o, before: self.restore(ns, o, before, None)))
                current = tx.graph(order)
                if not current or not holds.ended(current, order, now):
                    return False
                if any(line.offer not in sources for line in orders.lines(current, order)):
                    return None
                hub = NamedNode(ns.iri)
                sent = [t for t in current if t.predicate not in orders.SERVER_TERMS]   # as a client sends it
                new = self._lifecycle(current, holds.cancelled_customer(sent, order, hub, now), order, ns, None, True)
                for name, triples in self._plan(tx, ns, order, current, new, sources, True).items():
                    tx.put(name, triples)
                lock_keys.check(tx, self.base_url, [order, orders.session(current, order)])
                order_events.order_written(tx, order, current, new, ns, None, now)
        return True

    def _expire_wholesale(self, ns, order: NamedNode, now: dt.datetime) -> bool:
        """Cancel a draft wholesale order for its buyer (`canceled_by_consumer`), its stock released."""
        # The seller's lock: its stock and its orders (as a supplier move takes it).
        with self.store.transaction(keys=[lock_keys.enterprise(order.value, self.base_url)]) as tx:
            tx.leaves_catalogue()
            current = tx.graph(order)
            if not current or not holds.ended(current, order, now):
                return False
            new = deliveries.refresh(holds.cancelled_wholesale(current, order, NamedNode(ns.iri), now), order)
            usage = orders.usage_minus(orders.usage(new, order), orders.usage(current, order))
            for name, triples in {order: new, **self._moves(tx, usage, {})}.items():
                tx.put(name, triples)
            order_events.order_written(tx, order, current, new, ns, None, now)
        return True

