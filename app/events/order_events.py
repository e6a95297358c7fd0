"""Which events the order flow records, and to whom (API.md "Events and webhooks").

Called inside the unit of work that makes the change, so each event commits with it. A
wholesale order's status is its `hub:status` (app/domain/lifecycle.py); a DELETE of a draft is
`canceled_by_consumer` when the buyer deletes it and `canceled_by_supplier` when the seller does.
Customer orders (a person's) record nothing: their parties are the hub and a person.
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import NamedNode

from app import queries
from app.domain import documents as docs
from app.domain import lifecycle, statuses, order_documents as orders
from app.events import outbox as events

def order_written(tx, order: NamedNode, current, new, seller: docs.Namespace, agent,
                  now: dt.datetime) -> None:
    """Record what a wholesale order's write changed: `placed` → order_received and a status
    change; a cancellation → a status change. `current`/`new`: the documents before and after
    (None: absent, deleted); `agent` made the change."""
    if any(doc is not None and orders.is_customer(doc, order) for doc in (current, new)):
        return
    by_supplier = agent is not None and agent.iri in seller.iris
    # A new order starts as a draft, whatever it was written as: its history says draft → placed.
    before = _status(current, order, by_supplier) if current is not None else "draft" if new is not None else None
    after = _status(new, order, by_supplier) if new is not None else \
        (_cancelled(by_supplier) if before is not None and not before.startswith("canceled") else before)
    if after == before or after is None or after == "draft":
        return
    doc = new if new is not None else current
    _transition(tx, order, NamedNode(seller.iri), orders.buyer(doc, order), before, after,
                orders.session(doc, order), now)


def session_closed(tx, session: NamedNode, hub: NamedNode, completed: list[NamedNode], base_url: str,
                   now: dt.datetime) -> None:
    """Record a session's close (to its hub and each producer with an order in it) and each
    wholesale order it completed (`placed`: order_received to its producer, a status change)."""
    rows = tx.select(queries.load("session_orders"), {"session": session, "hub": hub})
    producers = [p for p in dict.fromkeys(_supplier(r["order"], base_url) for r in rows) if p is not None]
    events.record(tx, events.SESSION_CLOSED, [hub, *producers], {"session": session, "hub": hub}, now)
    session_orders_placed(tx, session, hub, completed, base_url, now)


def session_orders_placed(tx, session: NamedNode, hub: NamedNode, completed: list[NamedNode], base_url: str,
                          now: dt.datetime) -> None:
    """Record each wholesale order a session's close completed, without the close itself (the
    parts of a large close written before its last)."""
    for order in completed:
        supplier = _supplier(order, base_url)
        if supplier is not None:
            _transition(tx, order, supplier, hub, "draft", "placed", session, now)


def _transition(tx, order, supplier: NamedNode, consumer, before, after, session, now) -> None:
    data = {"order": order, "supplier": supplier, "from": before, "to": after}
    if isinstance(consumer, NamedNode):
        data["consumer"] = consumer
    if isinstance(session, NamedNode):
        data["session"] = session
    if after == "placed":
        events.record(tx, events.ORDER_RECEIVED, [supplier], data, now)
    parties = [supplier, *([consumer] if isinstance(consumer, NamedNode) else [])]
    events.record(tx, events.ORDER_STATUS_CHANGED, parties, data, now)


def _status(doc, order, by_supplier: bool) -> str | None:
    if doc is None:
        return None
    return statuses.name(lifecycle.status_of(doc, order))


def delivery_changed(tx, order: NamedNode, doc, delivery: NamedNode, seller: docs.Namespace,
                     now: dt.datetime, shipped: bool = False) -> None:
    """Record a delivery made, changed, removed or shipped (to both parties)."""
    _delivery_event(tx, order, doc, delivery, NamedNode(seller.iri), now, shipped)


def deliveries_gave_way(tx, order: NamedNode, doc, cut: list[NamedNode], base_url: str,
                        now: dt.datetime) -> None:
    """Record each delivery a customer's cancellation cut back (app/domain/deliveries.py giving_way)."""
    supplier = _supplier(order, base_url)
    for delivery in cut:
        _delivery_event(tx, order, doc, delivery, supplier, now, False)


def _delivery_event(tx, order, doc, delivery, supplier: NamedNode, now: dt.datetime, shipped: bool) -> None:
    consumer = orders.buyer(doc, order)
    data = {"order": order, "delivery": delivery, "supplier": supplier,
            "status": statuses.name(lifecycle.status_of(doc, order)), "shipped": shipped}
    if isinstance(consumer, NamedNode):
        data["consumer"] = consumer
    events.record(tx, events.DELIVERY_CHANGED, [supplier, *([consumer] if isinstance(consumer, NamedNode) else [])],
                  data, now)


def _cancelled(by_supplier: bool) -> str:
    return "canceled_by_supplier" if by_supplier else "canceled_by_consumer"


def _supplier(order: NamedNode, base_url: str) -> NamedNode | None:
    """The enterprise whose namespace holds an order: its seller."""
    eid = docs.enterprise_of(order.value, base_url)
    return NamedNode(docs.Namespace(base_url, eid).iri) if eid else None
