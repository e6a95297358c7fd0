"""Which events the order flow records, and to whom (API.md "Events and webhooks").

Called inside the unit of work that makes the change, so each event commits with it. A wholesale
order's status is its `hub:status` (the supplier lifecycle) where it has one; else its DFC status
stands for it as API.md's table maps them: Held is `draft`, Complete is `placed`, Cancelled (or
a DELETE) is `canceled_by_consumer` when the buyer cancels and `canceled_by_supplier` when the
seller does.
Customer orders (a person's) record nothing: their parties are the hub and a person.
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import NamedNode

from app import queries
from app.domain import documents as docs
from app.domain import events, orders
from app.namespaces import T, hub

_STATUS = {T.Held: "draft", T.Draft: "draft", T.Complete: "placed"}
_LIFECYCLE = hub("status")


def order_written(tx, order: NamedNode, current, new, seller: docs.Namespace, agent,
                  now: dt.datetime) -> None:
    """Record what a wholesale order's write changed: `placed` → order_received and a status
    change; a cancellation → a status change. `current`/`new`: the documents before and after
    (None: absent, deleted); `agent` made the change."""
    if any(doc is not None and orders.is_customer(doc, order) for doc in (current, new)):
        return
    by_supplier = agent is not None and agent.iri in seller.iris
    before = _status(current, order, by_supplier)
    after = _status(new, order, by_supplier) if new is not None else \
        (_cancelled(by_supplier) if before is not None and not before.startswith("canceled") else before)
    if after == before or after is None or (after == "draft" and before is None):
        return
    doc = new if new is not None else current
    transition(tx, order, NamedNode(seller.iri), orders.buyer(doc, order), before, after, now,
               session=orders.session(doc, order))


def session_closed(tx, session: NamedNode, hub: NamedNode, completed: list[NamedNode], base_url: str,
                   now: dt.datetime) -> None:
    """Record a session's close (to its hub and each producer with an order in it) and each
    wholesale order it completed (`placed`: order_received to its producer, a status change)."""
    rows = tx.select(queries.load("session_orders"), {"session": session, "hub": hub})
    producers = [p for p in dict.fromkeys(_supplier(r["order"], base_url) for r in rows) if p is not None]
    events.record(tx, events.SESSION_CLOSED, [hub, *producers], {"session": session, "hub": hub}, now)
    for order in completed:
        supplier = _supplier(order, base_url)
        if supplier is not None:
            transition(tx, order, supplier, hub, "draft", "placed", now, session=session)


def transition(tx, order: NamedNode, supplier: NamedNode, consumer, before: str | None, after: str,
               now: dt.datetime, session=None, reason: str | None = None) -> None:
    """Record a wholesale order's move from `before` to `after` (`hub:status` names): a status
    change to both parties, and order_received to the supplier when it becomes `placed`.
    `consumer` is the buyer (told only when it is an IRI); `session` its sale session, if any."""
    data = {"order": order, "supplier": supplier, "from": before, "to": after}
    if isinstance(consumer, NamedNode):
        data["consumer"] = consumer
    if isinstance(session, NamedNode):
        data["session"] = session
    if reason:
        data["reason"] = reason
    if after == "placed":
        events.record(tx, events.ORDER_RECEIVED, [supplier], data, now)
    events.record(tx, events.ORDER_STATUS_CHANGED, _parties(supplier, consumer), data, now)


def delivery_changed(tx, order: NamedNode, delivery: NamedNode, supplier: NamedNode, consumer, change: str,
                     now: dt.datetime, status: str | None = None) -> None:
    """Record a change of one of an order's deliveries (`change`: created, changed, deleted,
    shipped), to both parties; `status` is the order's `hub:status` after it."""
    data = {"order": order, "delivery": delivery, "supplier": supplier, "change": change}
    if isinstance(consumer, NamedNode):
        data["consumer"] = consumer
    if status:
        data["status"] = status
    events.record(tx, events.DELIVERY_CHANGED, _parties(supplier, consumer), data, now)


def _parties(supplier: NamedNode, consumer) -> list[NamedNode]:
    return [supplier, *([consumer] if isinstance(consumer, NamedNode) and consumer != supplier else [])]


def _status(doc, order, by_supplier: bool) -> str | None:
    """The order's lifecycle status: its `hub:status` where it has one, else its DFC status's."""
    if doc is None:
        return None
    lifecycle = next((t.object for t in doc if t.subject == order and t.predicate == _LIFECYCLE), None)
    if isinstance(lifecycle, NamedNode):
        return lifecycle.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    if lifecycle is not None:
        return lifecycle.value
    found = orders.status(doc, order)
    return _cancelled(by_supplier) if found == T.Cancelled else _STATUS.get(found)


def _cancelled(by_supplier: bool) -> str:
    return "canceled_by_supplier" if by_supplier else "canceled_by_consumer"


def _supplier(order: NamedNode, base_url: str) -> NamedNode | None:
    """The enterprise whose namespace holds an order: its seller."""
    eid = docs.enterprise_of(order.value, base_url)
    return NamedNode(docs.Namespace(base_url, eid).iri) if eid else None
