"""A sale session's close: every draft wholesale order of the session placed at once (API.md).

One unit of work under the locks of the session and its orders' producers, a fixed number of
reads whatever the number of orders, written in parts so that a checkout beside a close waits
for one part, not all (bench/close.py, bench/close_beside.py). `SessionClose` is mixed into
`OrderBook`, whose ledger moves and forwarder it uses.
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import NamedNode

from app import queries
from app.catalog import prices
from app.domain import documents as docs
from app.domain import lifecycle, sessions, order_documents as orders
from app.domain.statuses import PLACED
from app.errors import NotFound
from app.events import order_events
from app.orders import lock_keys
from app.rdf.terms import instant_literal

# Orders a close writes per update. Measured (bench/close_beside.py, 1,000 orders, two app
# processes on one oxigraph serve): in one update, the slowest checkout at another producer
# waited 0.5-0.6 s behind it (0.24-0.31 of the close); in parts of 100, 0.16-0.18 s (0.08-0.10).
CLOSE_PART = 100


class SessionClose:
    def close_session(self, session: NamedNode, now: dt.datetime | None = None,
                      agent: NamedNode | None = None) -> tuple[bool, list[NamedNode]]:
        """Place every draft wholesale order of a session, once; (closed now?, the orders placed).

        One unit of work, a fixed number of reads whatever the number of orders: list them,
        read them all at once, move each to placed (pure), read their items at once; then one
        update per `close_part` orders, under the same locks (`Store.commit_part`). The session
        is closed, and its close's event recorded, by the last; a close cut short leaves it open,
        and (closed now?, placed) tells of the run that ended it.
        """
        now = now or self.clock.now()
        # A hold that ended is the expirer's to cancel, whichever worker runs first: the close
        # must not commit its stock (each cancelled in its own unit of work, as the expirer does).
        self.expire_session_holds(session, now)
        owner = docs.enterprise_of(session.value, self.base_url)
        hub = NamedNode(docs.Namespace(self.base_url, owner).iri) if owner else session
        # Only the session's own hub's orders: another buyer naming it completes nothing.
        bindings = {"session": session, "hub": hub}
        # Its orders' producers, found first, then checked under their locks (and the session's).
        held = self.store.select(queries.load("session_held_orders"), bindings)
        keys = {session.value, *(lock_keys.enterprise(r["order"].value, self.base_url) for r in held)}
        for attempt in self.store.attempts(keys):
            with attempt as tx:
                tx.leaves_catalogue()
                doc = tx.graph(session)
                if not doc:
                    raise NotFound(f"no sale session at {session.value}")
                if sessions.closed_at(doc, session) is not None:
                    return False, []
                completed = [r["order"] for r in tx.select(queries.load("session_held_orders"), bindings)]
                before = tx.graphs(completed)
                placed = {order: lifecycle.move(current, order, PLACED, agent or hub, now, "the sale session closed",
                                                lifecycle.status_of(current, order))
                          for order, current in before.items()}
                placed = list(self._priced(tx, placed, hub, now).items())
                items = {item for order, new in placed for item in orders.usage(new, order)}
                lock_keys.cover(tx, self.base_url, {**dict(placed), **tx.graphs(sorted(items, key=lambda n: n.value))},
                                [session])
                # In parts: each its orders, the ledgers as far as they moved, and its orders'
                # events; the last closes the session. A close cut short leaves it open, and
                # its next run places the orders still in draft.
                parts = [placed[at:at + self.close_part] for at in range(0, len(placed), self.close_part)] or [[]]
                for k, part in enumerate(parts):
                    usage: orders.Usage = {}
                    for order, new in part:
                        usage = orders.usage_plus(usage, orders.usage_minus(orders.usage(new, order),
                                                                           orders.usage(before[order], order)))
                        tx.put(order, new)
                    for name, triples in self._moves(tx, usage, {}).items():
                        tx.put(name, triples)
                    if k < len(parts) - 1:
                        order_events.session_orders_placed(tx, session, hub, [o for o, _ in part], self.base_url, now)
                        self.store.commit_part(tx)
                tx.append(queries.load("close_session"), {"session": session, "now": instant_literal(now)})
                order_events.session_closed(tx, session, hub, [o for o, _ in parts[-1]], self.base_url, now)
                tx.append(queries.load("forwarded_pending"), bindings)     # partners must hear of the close
        if self.forwarder is not None:
            self.forwarder.push_session(session, hub)
        return True, completed

    def _priced(self, tx, placed: dict, buyer: NamedNode, now: dt.datetime) -> dict:
        """Orders of one buyer placed together, each line priced and frozen: one pricing per
        seller for all their lines, not one per order (a close places hundreds at once)."""
        by_seller: dict = {}
        for order in placed:
            seller = docs.enterprise_of(order.value, self.base_url)
            if seller is not None:
                by_seller.setdefault(seller, []).append(order)
        out = dict(placed)
        for seller, mine in by_seller.items():
            todo = [line for order in mine for line in prices.unpriced(placed[order], order)]
            if todo:
                quotes = prices.quotes(tx, docs.Namespace(self.base_url, seller), buyer, todo, now)
                out.update({order: prices.freeze(placed[order], order, quotes) for order in mine})
        return out

    def close_due(self, grace: dt.timedelta, now: dt.datetime | None = None) -> list[NamedNode]:
        """Close every session whose end date plus the grace period has passed; return them."""
        now = now or self.clock.now()
        closed = []
        for row in self.store.select(queries.load("open_sessions")):
            end = sessions.instant(row["end"], end=True)
            if end is not None and sessions.shifted(end, grace) <= now and self.close_session(row["session"], now)[0]:
                closed.append(row["session"])
        return closed
