"""Holds that expire (API.md "Holds that expire"): the pure rules of a Held order's `hub:holdUntil`.

A customer order at a hub, or a draft wholesale order its buyer keeps Held at a seller, may
carry `hub:holdUntil`; a hub's `hub:holdMinutes` gives its new customer orders one. Once it has
passed and the order is still Held, every write is refused (409) and the server cancels the
order (app/orders/expiry.py), reason "hold expired".
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import Literal, NamedNode, Triple

from app.domain import lifecycle, sessions, order_documents as orders
from app.domain.statuses import CANCELED_BY_CONSUMER, DRAFT, HOLD_EXPIRED
from app.errors import Conflict, InvalidValue
from app.namespaces import TRUE, T
from app.rdf.terms import instant_literal
from app.rdf.triples import Indexed, first


def until(doc, order) -> dt.datetime | None:
    """When the order's hold ends (a date-time without offset is UTC), or None: no hold of its own."""
    return sessions.instant(first(doc, order, T.holdUntil))


def is_held(doc, order) -> bool:
    """Held and reserving: a customer order Held, a wholesale order a Held draft."""
    if orders.status(doc, order) != T.Held:
        return False
    return orders.is_customer(doc, order) or lifecycle.status_of(doc, order) == DRAFT


def ended(doc, order, now: dt.datetime) -> bool:
    """The order is still Held and its hold has ended: the server cancels it."""
    end = until(doc, order)
    return end is not None and end <= now and is_held(doc, order)


def expired(doc, order) -> bool:
    """The server cancelled the order because its hold ended (a step of its history says so)."""
    index = Indexed(doc)
    return any(index.first(step, T.reason) == Literal(HOLD_EXPIRED) for step in index.objects(order, T.statusChange))


def refuse_ended(doc, order, now: dt.datetime) -> None:
    """Refuse (409) a write to an order whose hold has ended: the server's to cancel, or cancelled.

    Refused alike before and after the server cancelled it, so a buyer's write racing the
    expirer gets one answer whichever comes first.
    """
    if doc and (ended(doc, order, now) or expired(doc, order)):
        end = first(doc, order, T.holdUntil)
        raise Conflict(f"the hold on {order.value} ended{' at ' + end.value if end is not None else ''}: "
                       "the server cancels the order (reason \"hold expired\"); place a new order",
                       holdUntil=end.value if end is not None else None)


def refuse_on_consolidated(current, new, order) -> None:
    """Refuse (422) a hold of its own on a hub's consolidated wholesale order: its customers'
    orders draw on it, and it is held until their session closes. Cancelled when such a hold
    ended, it released the producer's stock and left them Held with nothing reserved upstream."""
    if new is None or first(new, order, T.holdUntil) is None:
        return
    if any(doc and Triple(order, T.consolidated, TRUE) in doc for doc in (current, new)):
        raise InvalidValue(f"{order.value} consolidates its hub's customer orders, which draw on it: it is held "
                           "until their session closes, and takes no hub:holdUntil (give the customers' orders one)",
                           pointer="/hub:holdUntil")


def refuse_passed(current, new, order, now: dt.datetime) -> None:
    """Refuse (422) a write that asks to hold an order until a time already gone: it would reserve
    stock only for the server to release it at its next round, with two events to tell of it.
    A hold the write keeps (`kept`: a Draft's, made Held) asks it as much as one it states."""
    if new is None:
        return
    status = orders.status(new, order) or (orders.status(current, order) if current is not None else None)
    if status not in (None, T.Held):
        return
    held = [*new, *kept(current, new, order)]
    end = until(held, order)
    if end is not None and end <= now:
        value = first(held, order, T.holdUntil).value
        raise InvalidValue(f"hub:holdUntil {value} has passed already (it is {now.isoformat()} here): "
                           "give a later time, or none", pointer="/hub:holdUntil", holdUntil=value)


def kept(current, new, order) -> list[Triple]:
    """What a PUT that leaves `hub:holdUntil` out keeps of it: the hold it had."""
    if current is None or first(new, order, T.holdUntil) is not None:
        return []
    had = first(current, order, T.holdUntil)
    return [Triple(order, T.holdUntil, had)] if had is not None else []


def default(new, order, minutes: int | None, now: dt.datetime) -> list[Triple]:
    """A customer order that becomes Held without a hold of its own gets its hub's `hub:holdMinutes` from now."""
    if not minutes or first(new, order, T.holdUntil) is not None:
        return []
    return [Triple(order, T.holdUntil, instant_literal(sessions.shifted(now, dt.timedelta(minutes=minutes))))]


def cancelled_customer(doc, order, hub: NamedNode, now: dt.datetime) -> list[Triple]:
    """A customer order's document cancelled by the server, the reason in one step of history."""
    return lifecycle.record(orders.set_status(doc, order, T.Cancelled), order, T.Held, T.Cancelled,
                            hub, now, HOLD_EXPIRED)


def cancelled_wholesale(doc, order, seller: NamedNode, now: dt.datetime) -> list[Triple]:
    """A draft wholesale order cancelled by the server for its buyer (`canceled_by_consumer`)."""
    return lifecycle.move(doc, order, CANCELED_BY_CONSUMER, seller, now, HOLD_EXPIRED, DRAFT)
