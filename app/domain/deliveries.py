"""Deliveries of a wholesale order: which part of which line goes where and when, and shipping.

Deliveries live in their order's document (`{order}/deliveries/{did}`, their lines
`{delivery}/lines/{n}`), as order lines do, so the order and everything that decides its
stock are written together in one update and an order's ledger usage can be read from the
order alone (what shipped no longer counts as committed: app/domain/order_documents.py `usage`).
In `hub:complete` mode the server keeps one delivery equal to the lines; in `hub:split` mode
the consumer's deliveries may carry less than the lines (the rest is `hub:unallocated`),
never more (409).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from decimal import Decimal

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.domain import order_documents as orders
from app.errors import Conflict, InvalidValue, NotFound, PayloadTooLarge, ShapeViolation, violation
from app.namespaces import RDF_TYPE, T, XSD
from app.queries import as_term
from app.rdf.terms import instant_literal
from app.rdf.triples import Indexed, first, number, objects, without

ZERO = Decimal(0)
_DATES = (T.desiredDeliveryDate, T.confirmedDeliveryDate)
# What a client may say of a delivery; the rest (shippedAt, its lines' IRIs) is the server's.
_SENT = (T.deliveryPlace, T.desiredDeliveryDate, T.confirmedDeliveryDate, T.hasDeliveryLine)
MAX_LINES = 10_000
# A delivery carries at least this much of a line, in steps of it (or the whole of a smaller
# line): a gram of a kilogram line, not a millionth, so that no line is split without end.
FLOOR = Decimal("0.001")
# Statements that may describe a delivery's place (an address: street, postcode, city, …).
MAX_PLACE = 100


@dataclasses.dataclass(frozen=True)
class Delivery:
    iri: NamedNode
    shipped: bool
    lines: dict          # order line → quantity


def read(doc, order) -> list[Delivery]:
    """The order's deliveries, in the order they were made."""
    index = Indexed(doc)
    out = []
    for node in index.objects(order, T.hasDelivery):
        quantities: dict = {}
        for line in index.objects(node, T.hasDeliveryLine):
            of = index.first(line, T.ofOrderLine)
            quantities[of] = quantities.get(of, ZERO) + (number(index.first(line, T.quantity)) or ZERO)
        out.append(Delivery(node, index.first(node, T.shippedAt) is not None, quantities))
    return sorted(out, key=lambda d: d.iri.value)


def find(doc, order, did: str) -> Delivery:
    """The delivery `did` of the order, or 404."""
    for delivery in read(doc, order):
        if delivery.iri.value.rsplit("/", 1)[-1] == did:
            return delivery
    raise NotFound(f"order {order.value} has no delivery {did}")


def triples_of(doc, delivery: NamedNode) -> list[Triple]:
    """A delivery's own triples: itself, its place, its lines."""
    index = Indexed(doc)
    return index.subtree(delivery, *index.objects(delivery, T.hasDeliveryLine))


def mode(doc, order) -> NamedNode | None:
    return first(doc, order, T.deliveryMode)


def at_placed(doc, order) -> list[Triple]:
    """At `placed`: one delivery with every line if the consumer made none (mode complete), else split."""
    if read(doc, order):
        return _set_mode(doc, order, T.split)
    return refresh(_set_mode(doc, order, T.complete), order)


def check_room(doc, order, limit: int) -> None:
    """Refuse (413) one more delivery to an order that has `limit` (the one the server made gives way)."""
    made_by_server = mode(doc, order) == T.complete
    count = sum(1 for d in read(doc, order) if d.shipped or not made_by_server)
    if count >= limit:
        raise PayloadTooLarge(f"an order has at most {limit} deliveries and this one has {count}: change or "
                              "remove one of them (DFC_HUB_MAX_DELIVERIES)", maxDeliveries=limit, deliveries=count)


def refresh(doc, order) -> list[Triple]:
    """Keep the complete delivery equal to the lines, state what is unallocated, refuse over-allocation."""
    return _refreshed(doc, order, give_way=False)[0]


def giving_way(doc, order) -> tuple[list[Triple], list[NamedNode]]:
    """`refresh`, the unshipped deliveries cut back to what the lines now hold rather than refused;
    and the deliveries that changed.

    A session's draft wholesale order shrinks when a customer cancels or a hold ends, after its
    hub may have planned deliveries of it: the customer's cancellation must go through (API.md: it
    takes its lines back out at once), so the deliveries give way, the one wanted latest first
    (an undated one before any dated one); a line no delivery carries any more leaves it, and the
    delivery itself, its place and dates, stays.
    """
    return _refreshed(doc, order, give_way=True)


def _refreshed(doc, order, give_way: bool) -> tuple[list[Triple], list[NamedNode]]:
    lines = orders.lines(doc, order)
    found = read(doc, order)
    if mode(doc, order) == T.complete:
        unshipped = [d for d in found if not d.shipped]
        if not found or (unshipped and len(found) == 1):
            target = found[0].iri if found else NamedNode(f"{order.value}/deliveries/{secrets.token_hex(4)}")
            wanted = {line.iri: line.quantity for line in lines if line.quantity > 0}
            doc = _write(doc, order, target, {**_details(doc, target)}, wanted)
            found = read(doc, order)
    carried, cut = _carried(found), []
    if give_way:
        quantities = {line.iri: line.quantity for line in lines}
        excess = {line: total - quantities.get(line, ZERO) for line, total in carried.items()
                  if total > quantities.get(line, ZERO)}
        if excess:
            doc, cut = _give_way(doc, order, found, excess)
            carried = _carried(read(doc, order))
    _check(lines, carried)
    return _unallocated(doc, lines, carried), cut


def _give_way(doc, order, found: list[Delivery], excess: dict) -> tuple[list[Triple], list[NamedNode]]:
    index = Indexed(doc)

    def latest_first(delivery: Delivery) -> tuple:
        day = index.first(delivery.iri, T.desiredDeliveryDate)
        return (day is None, day.value if day is not None else "", delivery.iri.value)
    changed: list[NamedNode] = []
    for delivery in sorted(found, key=latest_first, reverse=True):
        if delivery.shipped or not any(excess.get(line) for line in delivery.lines):
            continue
        wanted = dict(delivery.lines)
        for line, quantity in delivery.lines.items():
            take = min(quantity, excess.get(line, ZERO))
            if take > 0:
                wanted[line], excess[line] = quantity - take, excess[line] - take
        doc = _write(doc, order, delivery.iri, _details(doc, delivery.iri), {k: v for k, v in wanted.items() if v > 0})
        changed.append(delivery.iri)
    return doc, changed


def _check(lines, carried: dict) -> None:
    """Refuse (409) deliveries that carry more of a line than it has."""
    quantities = {line.iri: line.quantity for line in lines}
    over = []
    for line, total in carried.items():
        if total > quantities.get(line, ZERO):
            over.append({"orderLine": line.value, "ordered": _num(quantities.get(line, ZERO)),
                         "allocated": _num(total)})
    if over:
        raise Conflict(f"deliveries carry more than {len(over)} line(s) of the order have",
                       overAllocated=over)


def _carried(found: list[Delivery]) -> dict:
    out: dict = {}
    for delivery in found:
        for line, quantity in delivery.lines.items():
            out[line] = out.get(line, ZERO) + quantity
    return out


def put(doc, order, delivery: NamedNode, sent: list[Triple], as_supplier: bool, as_consumer: bool) -> list[Triple]:
    """The order with one delivery written as a party sent it (a new one, or a change)."""
    current = next((d for d in read(doc, order) if d.iri == delivery), None)
    if current is not None and current.shipped:
        raise Conflict(f"the delivery {delivery.value} has shipped; it cannot change", delivery=delivery.value)
    details = {p: objects(sent, delivery, p) for p in (T.deliveryPlace, *_DATES)}
    wanted = _wanted(sent, delivery, doc, order, current.lines if current is not None else {})
    if not as_consumer:
        # The supplier only confirms a date: everything else stays as the consumer wrote it.
        if current is None:
            raise Conflict("only the consumer makes deliveries; the supplier confirms their dates")
        mine = _details(doc, delivery)
        if wanted != current.lines or any(objects(sent, delivery, p) != mine.get(p, []) for p in _SENT[:2]):
            raise Conflict("the supplier may only set hub:confirmedDeliveryDate on a delivery")
        return refresh(_write(doc, order, delivery, {**mine, T.confirmedDeliveryDate: details[T.confirmedDeliveryDate]},
                              wanted, place_from=doc), order)
    if not as_supplier:     # the confirmed date is the supplier's: kept as it was
        details[T.confirmedDeliveryDate] = _details(doc, delivery).get(T.confirmedDeliveryDate, [])
    if mode(doc, order) == T.complete:
        # The consumer plans its own deliveries now: the one the server made gives way.
        for made in read(doc, order):
            if not made.shipped and made.iri != delivery:
                doc = _drop(doc, order, made.iri)
    if mode(doc, order) is not None:
        doc = _set_mode(doc, order, T.split)
    return refresh(_write(doc, order, delivery, details, wanted, place_from=sent), order)


def remove(doc, order, delivery: NamedNode) -> list[Triple]:
    """The order without one delivery (never a shipped one)."""
    found = next((d for d in read(doc, order) if d.iri == delivery), None)
    if found is None:
        raise NotFound(f"no delivery {delivery.value}")
    if found.shipped:
        raise Conflict(f"the delivery {delivery.value} has shipped; it cannot be deleted", delivery=delivery.value)
    doc = _drop(doc, order, delivery)
    if mode(doc, order) == T.complete:
        doc = _set_mode(doc, order, T.split)
    return refresh(doc, order)


def ship(doc, order, delivery: NamedNode, now: dt.datetime) -> tuple[list[Triple], dict, bool]:
    """(the order with the delivery shipped, what leaves each item's stock, whether all has shipped)."""
    found = next((d for d in read(doc, order) if d.iri == delivery), None)
    if found is None:
        raise NotFound(f"no delivery {delivery.value}")
    if found.shipped:
        raise Conflict(f"the delivery {delivery.value} has shipped already", delivery=delivery.value)
    if not any(found.lines.values()):
        raise Conflict(f"the delivery {delivery.value} carries nothing to ship", delivery=delivery.value)
    items = {line.iri: line.stock_item for line in orders.lines(doc, order)}
    moved: dict = {}
    for line, quantity in found.lines.items():
        item = items.get(line)
        if item is not None:
            moved[item] = moved.get(item, ZERO) + quantity
    doc = [*doc, Triple(delivery, T.shippedAt, instant_literal(now))]
    sent = orders.shipped(doc, order)
    done = all(sent.get(line.iri, ZERO) >= line.quantity for line in orders.lines(doc, order))
    return doc, moved, done


def from_payload(triples: list[Triple], delivery: NamedNode) -> list[Triple]:
    """A delivery as a client sent it, named `delivery` (its lines renamed under it); 422 if not one."""
    index = Indexed(_renamed(triples, delivery))
    problems: list = []
    out = [Triple(delivery, RDF_TYPE, T.Delivery),
           *_place(index, delivery, problems), *_dates(index, delivery, problems),
           *_lines(index, delivery, problems)]
    if problems:
        raise ShapeViolation(f"{len(problems)} problem(s) in the delivery", violations=problems)
    return out


def _renamed(triples: list[Triple], delivery: NamedNode) -> list[Triple]:
    """The payload with its one hub:Delivery named `delivery`; 422 unless it holds exactly one."""
    roots = [t.subject for t in triples if t.predicate == RDF_TYPE and t.object == T.Delivery]
    found = list(dict.fromkeys(roots or [t.subject for t in triples if t.subject == delivery]))
    if len(found) != 1:
        raise InvalidValue(f"send one hub:Delivery (this body has {len(found)})", pointer="/@type")
    sent = found[0]
    return [Triple(delivery if t.subject == sent else t.subject, t.predicate,
                   delivery if t.object == sent else t.object) for t in triples]


def _place(index: Indexed, delivery: NamedNode, problems: list) -> list[Triple]:
    """Where it goes: one hub:deliveryPlace, an IRI or a node of at most MAX_PLACE statements."""
    if len(index.objects(delivery, T.deliveryPlace)) > 1:
        problems.append(violation(delivery, T.deliveryPlace, None, f"{_local(T.deliveryPlace)} must have one value"))
    out = []
    for o in index.objects(delivery, T.deliveryPlace):
        out += [Triple(delivery, T.deliveryPlace, o), *(index.subtree(o) if isinstance(o, BlankNode) else ())]
    if len(out) > MAX_PLACE:
        problems.append(violation(delivery, T.deliveryPlace, None, f"a delivery's place is said in at most "
                                  f"{MAX_PLACE} statements, not {len(out)}"))
    return out


def _dates(index: Indexed, delivery: NamedNode, problems: list) -> list[Triple]:
    """Its dates, one of each at most, each an xsd:date."""
    out = []
    for term in _DATES:
        values = index.objects(delivery, term)
        if len(values) > 1:
            problems.append(violation(delivery, term, None, f"{_local(term)} must have one value"))
        if values and (day := _date(values[0])) is None:
            problems.append(violation(delivery, term, getattr(values[0], "value", None),
                                      f"{_local(term)} must be a date (xsd:date, e.g. 2026-12-01)"))
        elif values:
            out.append(Triple(delivery, term, Literal(day.isoformat(), datatype=XSD_DATE)))
    return out


def _lines(index: Indexed, delivery: NamedNode, problems: list) -> list[Triple]:
    """Its lines, renamed `{delivery}/lines/{k}`: each names one order line and carries a quantity above 0."""
    lines = index.objects(delivery, T.hasDeliveryLine)
    if len(lines) > MAX_LINES:
        problems.append(violation(delivery, T.hasDeliveryLine, None, f"a delivery has at most {MAX_LINES} lines"))
        return []
    out = []
    for k, node in enumerate(lines, 1):
        of, quantity = index.objects(node, T.ofOrderLine), index.objects(node, T.quantity)
        amount = number(quantity[0]) if len(quantity) == 1 else None
        if len(of) != 1 or not isinstance(of[0], NamedNode):
            problems.append(violation(node, T.ofOrderLine, None, "a delivery line names one order line (hub:ofOrderLine)"))
        elif amount is None or amount <= 0 or amount > orders.MAX_QUANTITY:
            problems.append(violation(node, T.quantity, quantity[0].value if quantity else None,
                                      "a delivery line carries one quantity, a number above 0 (dfc-b:quantity)"))
        else:
            line = NamedNode(f"{delivery.value}/lines/{k}")
            out += [Triple(delivery, T.hasDeliveryLine, line), Triple(line, RDF_TYPE, T.DeliveryLine),
                    Triple(line, T.ofOrderLine, of[0]), Triple(line, T.quantity, as_term(amount))]
    return out


# --- helpers --------------------------------------------------------------------------------

XSD_DATE = NamedNode(XSD + "date")


def _wanted(sent, delivery, doc, order, before: dict) -> dict:
    """Each order line → what the sent delivery carries of it; 422 for a line of another order, or a
    quantity below the floor (one the delivery carried `before` stays as it is: stored earlier)."""
    index = Indexed(sent)
    mine = {line.iri: line.quantity for line in orders.lines(doc, order)}
    out, problems = {}, []
    for node in index.objects(delivery, T.hasDeliveryLine):
        of, quantity = index.first(node, T.ofOrderLine), number(index.first(node, T.quantity))
        if of not in mine:
            problems.append(violation(node, T.ofOrderLine, of, f"{of.value} is not a line of {order.value}"))
        elif of in out:
            problems.append(violation(node, T.ofOrderLine, of, f"{of.value} is named by two lines of the delivery"))
        elif quantity not in (mine[of], before.get(of)) and (quantity < FLOOR or quantity % FLOOR):
            problems.append(violation(node, T.quantity, _num(quantity), f"a delivery line carries at least {FLOOR} "
                                      f"of its line, in steps of {FLOOR}, or the whole line ({_num(mine[of])})"))
        else:
            out[of] = quantity
    if problems:
        raise ShapeViolation(f"{len(problems)} delivery line(s) refused: each names a line of this order "
                             "once, and carries at least the floor of it", violations=problems)
    return out


def _details(doc, delivery) -> dict:
    return {p: objects(doc, delivery, p) for p in (T.deliveryPlace, *_DATES)}


def _write(doc, order, delivery, details: dict, wanted: dict, place_from=None) -> list[Triple]:
    """The order with `delivery` (re)written: its details and one line per order line carried."""
    place_from = doc if place_from is None else place_from
    index = Indexed(place_from)
    out = _drop(doc, order, delivery)
    out += [Triple(order, T.hasDelivery, delivery), Triple(delivery, RDF_TYPE, T.Delivery)]
    for p, values in details.items():
        for o in values:
            out.append(Triple(delivery, p, o))
            if isinstance(o, BlankNode):
                out += [t for t in index.subtree(o)]
    for k, (line, quantity) in enumerate(sorted(wanted.items(), key=lambda kv: kv[0].value), 1):
        node = NamedNode(f"{delivery.value}/lines/{k}")
        out += [Triple(delivery, T.hasDeliveryLine, node), Triple(node, RDF_TYPE, T.DeliveryLine),
                Triple(node, T.ofOrderLine, line), Triple(node, T.quantity, as_term(quantity))]
    return out


def _drop(doc, order, delivery) -> list[Triple]:
    gone = {t.subject for t in triples_of(doc, delivery)}
    return [t for t in doc if t.subject not in gone and not (t.subject == order and t.object == delivery)]


def _set_mode(doc, order, value) -> list[Triple]:
    return [*without(doc, order, {T.deliveryMode}), Triple(order, T.deliveryMode, value)]


def _unallocated(doc, lines, carried: dict) -> list[Triple]:
    out = [t for t in doc if t.predicate != T.unallocated]
    for line in lines:
        left = line.quantity - carried.get(line.iri, ZERO)
        if left > 0:
            out.append(Triple(line.iri, T.unallocated, as_term(left)))
    return out


def _date(term) -> dt.date | None:
    if not isinstance(term, Literal) or term.datatype.value not in (XSD + "date", XSD + "dateTime", XSD + "string"):
        return None
    try:
        return dt.date.fromisoformat(term.value[:10])
    except ValueError:
        return None


def _local(term) -> str:
    return "hub:" + term.value.rsplit("#", 1)[-1]


def _num(value) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
