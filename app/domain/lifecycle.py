"""Who may move a wholesale order from one status to another, and what a move writes.

`TABLE` is the one declaration of the lifecycle (README "The supplier lifecycle" shows it and
tests/test_lifecycle_matrix.py is generated from it): each row a (from, to, role, how). The
consumer is the order's buyer, the supplier its seller; `how` says whether a client asks for
the move by name (POST …/status or a PUT) or whether it happens by shipping deliveries. The
functions here are pure: the order book reads the order, calls them, and writes the result with
the stock it moves in one unit of work.
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import Literal, NamedNode, Triple

from app.domain import deliveries, order_documents as orders
from app.domain import documents as docs
from app.domain.statuses import (CANCELATION_REQUESTED, CANCELED_BY_CONSUMER, CANCELED_BY_SUPPLIER,
                                 CONFIRMED, DFC, DRAFT, FINAL, OPEN, PARTIALLY_SHIPPED, PLACED, PRODUCING,
                                 REMAINDER_CANCELED, SHIPPED, STATUSES, TRANSFER_FAILED, TRANSFERRED, name)
from app.errors import Conflict, Forbidden, ShapeViolation, violation
from app.namespaces import RDF_TYPE, T, hub
from app.rdf.terms import instant_literal
from app.rdf.triples import Indexed, first, objects, without

CONSUMER, SUPPLIER = "consumer", "supplier"
BY_STATUS, BY_SHIPPING, BY_ANSWER = "status", "ship", "answer"   # answer: back where it came from
_ASKED_FROM = (TRANSFERRED, TRANSFER_FAILED, CONFIRMED, PRODUCING, PARTIALLY_SHIPPED)
_SHIPPABLE = (CONFIRMED, PRODUCING, PARTIALLY_SHIPPED)

TABLE: tuple[tuple[NamedNode, NamedNode, str, str], ...] = (
    # The consumer places, cancels while nothing is processed, and later may only ask.
    (DRAFT, PLACED, CONSUMER, BY_STATUS),
    (DRAFT, CANCELED_BY_CONSUMER, CONSUMER, BY_STATUS),
    (PLACED, CANCELED_BY_CONSUMER, CONSUMER, BY_STATUS),
    *((s, CANCELATION_REQUESTED, CONSUMER, BY_STATUS) for s in _ASKED_FROM),
    # The supplier moves every other step.
    (PLACED, TRANSFERRED, SUPPLIER, BY_STATUS),
    (PLACED, TRANSFER_FAILED, SUPPLIER, BY_STATUS),
    (PLACED, CONFIRMED, SUPPLIER, BY_STATUS),
    (TRANSFER_FAILED, TRANSFERRED, SUPPLIER, BY_STATUS),
    (TRANSFERRED, CONFIRMED, SUPPLIER, BY_STATUS),
    (CONFIRMED, PRODUCING, SUPPLIER, BY_STATUS),
    *((s, PARTIALLY_SHIPPED, SUPPLIER, BY_SHIPPING) for s in _SHIPPABLE),
    *((s, SHIPPED, SUPPLIER, BY_SHIPPING) for s in _SHIPPABLE),
    *((s, CANCELED_BY_SUPPLIER, SUPPLIER, BY_STATUS) for s in STATUSES if s not in FINAL),
    (PARTIALLY_SHIPPED, REMAINDER_CANCELED, SUPPLIER, BY_STATUS),
    # The supplier answers a cancellation request: yes, or back to the status it came from.
    (CANCELATION_REQUESTED, CANCELED_BY_CONSUMER, SUPPLIER, BY_STATUS),
    *((CANCELATION_REQUESTED, s, SUPPLIER, BY_ANSWER) for s in _ASKED_FROM),
)


def roles(agent, seller_iris, buyer) -> frozenset[str]:
    """The roles an agent holds on an order: the admin both, the seller supplier, the buyer consumer."""
    if agent is None:
        return frozenset()
    if agent.admin:
        return frozenset({CONSUMER, SUPPLIER})
    out = set()
    if agent.iri in seller_iris:
        out.add(SUPPLIER)
    if isinstance(buyer, NamedNode) and buyer.value == agent.iri:
        out.add(CONSUMER)
    return frozenset(out)


def status_of(doc, order) -> NamedNode:
    """The order's lifecycle status; an order written before the lifecycle gets its DFC meaning."""
    found = first(doc, order, T.status)
    if found in DFC:
        return found
    # Complete is `placed` even when a client had marked it Fulfilled: its stock is still
    # committed in the ledger, and only `placed` keeps counting it (app/queries/lifecycle_statuses.ru).
    dfc = orders.status(doc, order)
    if dfc == T.Complete:
        return PLACED
    return CANCELED_BY_CONSUMER if dfc == T.Cancelled else DRAFT


def came_from(doc, order) -> NamedNode | None:
    """The status a cancellation request was made from (where a "no" returns the order)."""
    last = None
    for change in _history(doc, order):
        if first(doc, change, T.toStatus) == CANCELATION_REQUESTED:
            last = first(doc, change, T.fromStatus)
    return last


def allowed(current: NamedNode, held_roles, origin: NamedNode | None, how=(BY_STATUS, BY_ANSWER)) -> list[NamedNode]:
    """The statuses the holder of `held_roles` may move an order in `current` to, by `how`."""
    out = []
    for source, target, role, way in TABLE:
        if source == current and role in held_roles and way in how and target not in out:
            if way != BY_ANSWER or target == origin:
                out.append(target)
    return out


def check(current: NamedNode, target: NamedNode, held_roles, origin, how=(BY_STATUS, BY_ANSWER)) -> None:
    """Refuse (409, with `allowed`) a move the agent may not make now."""
    if target in allowed(current, held_roles, origin, how):
        return
    could = allowed(current, held_roles, origin)
    why = "it is final" if current in FINAL else "only by shipping its deliveries" \
        if target in allowed(current, held_roles, origin, (BY_SHIPPING,)) else "not as " + (
            " and ".join(sorted(held_roles)) or "a party of it")
    raise Conflict(f"an order in {name(current)} cannot move to {name(target)} ({why})",
                   currentStatus=name(current), requestedStatus=name(target),
                   allowed=[name(s) for s in could])


def settle(doc, order, status: NamedNode) -> list[Triple]:
    """The document with `status` and the DFC order and fulfilment statuses it means."""
    dfc_order, fulfilment = DFC[status]
    keep_draft = status == DRAFT and orders.status(doc, order) == T.Draft    # a draft that reserves nothing
    out = without(doc, order, {T.status, T.hasOrderStatus, T.hasFulfilmentStatus})
    out.append(Triple(order, T.status, status))
    out.append(Triple(order, T.hasOrderStatus, T.Draft if keep_draft else dfc_order))
    if not keep_draft:
        out.append(Triple(order, T.hasFulfilmentStatus, fulfilment))
    return out


def record(doc, order, before: NamedNode | None, after: NamedNode, agent: NamedNode,
           now: dt.datetime, reason: str | None) -> list[Triple]:
    """The document with one more step in its history (`hub:statusChange`)."""
    step = NamedNode(f"{order.value}/status_changes/{len(_history(doc, order)) + 1}")
    out = [*doc, Triple(order, T.statusChange, step), Triple(step, RDF_TYPE, T.StatusChange),
           Triple(step, T.toStatus, after), Triple(step, T.changedBy, agent),
           Triple(step, T.changedAt, instant_literal(now))]
    if before is not None:
        out.append(Triple(step, T.fromStatus, before))
    if reason:
        out.append(Triple(step, T.reason, Literal(reason)))
    return out


def move(doc, order, target: NamedNode, agent: NamedNode, now: dt.datetime, reason: str | None = None,
         before: NamedNode | None = None) -> list[Triple]:
    """The document after a move already allowed: status, DFC statuses, history, deliveries."""
    before = status_of(doc, order) if before is None else before
    out = record(settle(doc, order, target), order, before, target, agent, now, reason)
    if target == PLACED:
        out = deliveries.at_placed(out, order)
    return out


def on_write(current, new, order, held_roles, agent: NamedNode, now: dt.datetime) -> list[Triple]:
    """A client's whole new document (POST or PUT) under the lifecycle's rules.

    The move it asks for (a changed `hub:status`, or a changed DFC status meaning one) must be
    allowed; lines change only in draft and placed; history and deliveries are the server's.
    """
    before = status_of(current, order) if current is not None else None
    if CONSUMER not in held_roles:
        _keep_consumers_part(current, new, order)
    target = _asked(current, new, order, before, held_roles)
    if current is not None:
        new = carry(current, _same_lines(current, new, order), order)
    start = before or DRAFT
    if current is not None and _lines_changed(current, new, order) and (start not in OPEN or target in FINAL):
        raise Conflict(f"the lines of an order in {name(start)} cannot change any more",
                       currentStatus=name(start))
    if current is None:
        new = record(settle(new, order, DRAFT), order, None, DRAFT, agent, now, None)
    if target is None or target == start:
        return deliveries.refresh(settle(new, order, start), order)
    check(start, target, held_roles, came_from(current or [], order))
    return deliveries.refresh(move(new, order, target, agent, now, before=start), order)


# What the consumer decides of its order: whose it is, in which session, under which contract,
# until when it holds, its discount and date. With its lines, a supplier that is not also the
# buyer sends them back as they are.
CONSUMERS_TERMS = {T.orderedBy: "dfc-b:orderedBy", T.belongsTo: "dfc-b:belongsTo", T.holdUntil: "hub:holdUntil",
                   T.discount: "dfc-b:discount", T.date: "dfc-b:date", hub("underContract"): "hub:underContract"}
# What a PUT that leaves it out keeps (app/orders/holds.py kept): leaving it out changes nothing,
# whoever sends the PUT.
KEPT_WHEN_LEFT_OUT = frozenset({T.holdUntil})


def _keep_consumers_part(current, new, order) -> None:
    """403 when a supplier makes an order in its consumer's name or changes what the consumer decides.

    API.md: the buyer POSTs its orders and changes lines only in draft and placed; the supplier
    moves statuses. Else a producer could commit a hub to buy, or move the hub's order to another.
    """
    if current is None:
        raise Forbidden("a supplier does not make an order in its consumer's name: the buyer POSTs it",
                        buyer=_value(orders.buyer(new, order)))
    changed = [term for p, term in CONSUMERS_TERMS.items()
               if set(objects(current, order, p)) != set(objects(new, order, p))
               and not (p in KEPT_WHEN_LEFT_OUT and not set(objects(new, order, p)))]
    if _lines_changed(current, new, order):
        changed.append("dfc-b:hasPart")
    if changed:
        raise Forbidden(f"only the order's consumer changes {', '.join(changed)}; a supplier sends them back "
                        "as they are and moves the status", terms=changed)


def _value(node) -> str | None:
    return node.value if isinstance(node, NamedNode) else None


def settled(doc, name, now: dt.datetime) -> tuple[list[Triple], list[NamedNode]]:
    """A wholesale order as the checkout path leaves it: status and DFC statuses agree, unallocated
    stated; and the deliveries its shrinking lines cut back (deliveries.giving_way), for their events.

    The checkout path writes the hub's wholesale orders without `on_write` (it never moves
    them), so they get their status here: a new one starts its history as a draft.
    """
    if orders.is_customer(doc, name) or Triple(name, RDF_TYPE, T.Order) not in doc:
        return doc, []
    if first(doc, name, T.status) is None and not _history(doc, name):
        buyer = orders.buyer(doc, name)
        doc = record(doc, name, None, status_of(doc, name), buyer if isinstance(buyer, NamedNode) else name,
                     now, None)
    return deliveries.giving_way(settle(doc, name, status_of(doc, name)), name)


def _asked(current, new, order, before, held_roles) -> NamedNode | None:
    """The status a written document asks for: its hub:status, else what its DFC status means."""
    sent = first(new, order, T.status)
    if sent is not None and sent not in DFC:
        raise ShapeViolation(f"{sent.value} is not a status of the order lifecycle", violations=[violation(
            order, T.status, sent, "hub:status names one of the lifecycle's statuses, as an IRI "
                                   "(hub:placed): " + ", ".join(name(s) for s in STATUSES))])
    if sent is not None and sent != before:
        return sent
    dfc = orders.status(new, order)
    if dfc is None or (before is not None and dfc == DFC[before][0]) or (before == DRAFT and dfc in (T.Held, T.Draft)):
        return before
    if dfc == T.Complete:
        return PLACED
    if dfc == T.Cancelled:
        return CANCELED_BY_CONSUMER if CONSUMER in held_roles else CANCELED_BY_SUPPLIER
    if dfc in (T.Held, T.Draft) and before is None:
        return None
    raise Conflict(f"an order in {name(before)} cannot go back to {dfc.value.rsplit('#', 1)[-1]}",
                   currentStatus=name(before))


def carry(current, new, order) -> list[Triple]:
    """`new` with the history and deliveries the server keeps from `current` (a client's are dropped)."""
    kept = {T.statusChange, T.hasDelivery, T.deliveryMode}
    out = [t for t in new if not (t.subject == order and t.predicate in kept)]
    out += [t for t in current if t.subject == order and t.predicate in kept]
    ours = _owned(current, order)
    out = [t for t in out if t.subject not in ours] + [t for t in current if t.subject in ours]
    return reachable(out, order)


def _owned(doc, order) -> set:
    """The subjects of the order's history and deliveries (and the blank nodes they embed)."""
    index = Indexed(doc)
    roots = [n for p in (T.statusChange, T.hasDelivery) for n in index.objects(order, p)]
    roots += [n for d in index.objects(order, T.hasDelivery) for n in index.objects(d, T.hasDeliveryLine)]
    return {t.subject for t in index.subtree(*roots)} | set(roots)


def reachable(doc, order) -> list[Triple]:
    """The triples of `doc` about the order and what it leads to (what a client left dangling goes)."""
    index = Indexed(doc)
    seen, stack = {order}, [order]
    while stack:
        for t in index.about(stack.pop()):
            if t.object not in seen and index.about(t.object):
                seen.add(t.object)
                stack.append(t.object)
    return [t for t in doc if t.subject in seen]


def _same_lines(current, new, order) -> list[Triple]:
    """`new` with each line the client resent without its IRI given back the IRI it has.

    A client that PUTs an order back without line ids (a DFC client that does not keep them)
    would otherwise replace every line by a new one, and deliveries, prices and stock items
    refer to lines by IRI. A new line takes the IRI of a current line it no longer names that
    buys the same offer, first come first served.
    """
    old = orders.lines(current, order)
    fresh = orders.lines(new, order)
    named = {line.iri for line in fresh}
    free = [line for line in old if line.iri not in named]
    known = {line.iri for line in old}
    renames = {}
    for line in fresh:
        if line.iri in known:
            continue
        match = next((o for o in free if o.offer == line.offer), None)
        if match is not None:
            renames[line.iri] = match.iri
            free.remove(match)
    return docs.rename(new, renames) if renames else new


def _history(doc, order) -> list:
    return sorted(objects(doc, order, T.statusChange), key=lambda n: int(n.value.rsplit("/", 1)[-1] or 0))


def _lines_changed(current, new, order) -> bool:
    def shape(doc):
        # By what they buy: a client resending the same lines without their IRIs changes nothing.
        return sorted((line.offer.value if line.offer else "", line.quantity) for line in orders.lines(doc, order))
    return shape(current) != shape(new)
