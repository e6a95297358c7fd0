"""Customer orders at a hub: a checkout's change carried into the hub's wholesale orders.

`read` fetches what a plan needs inside the order book's unit of work (app/orders/book.py);
`plan` is pure: which wholesale order and line each customer line goes to, by how much each
wholesale line changes, and the wholesale orders that makes (the ledgers' moves are planned
after, from the usage it returns), all or nothing. Each customer line is handled once
and each wholesale order changed in one pass, so a checkout costs its size (issue 9).
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal

from pyoxigraph import NamedNode, Triple

from app import queries
from app.domain import sessions, order_documents as orders
from app.orders import consolidation, holds
from app.catalog import hub_settings
from app.partners import records as forwarded
from app.orders.wholesale import Change
from app.domain import documents as docs
from app.domain.kinds import ORDERS
from app.errors import Conflict, ShapeViolation, violation
from app.namespaces import TRUE, T
from app.rdf.triples import Indexed, number


@dataclasses.dataclass
class Found:
    """What a customer order's change reads before it is planned."""
    session: NamedNode
    session_doc: list[Triple]
    settings: hub_settings.HubSettings
    by_producer: dict                   # producer → the hub's live wholesale order with it
    wholesale: dict                     # wholesale order → its document, every one the change reads


def read(reader, ns, iri, current, new, producers=None) -> Found:
    """Read the session, the hub's settings and wholesale orders a customer order's change needs.

    `producers`: those the change's lines go to (None: every one); only their wholesale orders
    (and those the current lines are in) are read, not all the hub's in the session.
    """
    session = _session(ns, iri, current, new)
    settings = hub_settings.read(reader, ns)
    by_producer, wholesale = _hub_orders(reader, ns, iri, session, current, settings, producers)
    return Found(session, reader.graph(session), settings, by_producer, wholesale)


def plan(found: Found, ns, iri, current, new, targets, now, base_url: str) -> Change:
    """A customer order's change, carried into the hub's wholesale orders (pure)."""
    session, settings, by_producer = found.session, found.settings, dict(found.by_producer)
    reserves = new is not None and orders.status(new, iri) in orders.RESERVES
    sessions.check_open(found.session_doc, session, now, growing=reserves)
    routing = _Routing({o: consolidation.OrderEdit(o, d) for o, d in found.wholesale.items()})
    _take_back(routing, current, iri)
    if new is not None:
        customer = iri if settings.per_customer_order else None
        sent = Indexed(new)
        stamps = [Triple(iri, T.customerOrder, TRUE)]
        if orders.status(new, iri) == T.Held and (current is None or orders.status(current, iri) != T.Held):
            stamps += holds.default(new, iri, settings.hold_minutes, now)     # the hub's, from now
        for line in orders.lines(new, iri):
            target = targets[line.offer]
            wline = contribution = None
            if reserves:
                order = by_producer.get(target.producer)
                if order is None:
                    order = by_producer[target.producer] = _open_wholesale(
                        base_url, routing, NamedNode(ns.iri), target, session, customer)
                else:
                    _refuse_other_partner(routing.edits[order], target, line)
                wline = routing.edits[order].line_for(target)
                contribution = line.quantity * target.per_unit
                routing.change[wline] += contribution
                routing.asked[wline].append((line.offer, line.quantity))
            stamps += consolidation.stamp(line.iri, target, wline, contribution,
                                          priced=sent.first(line.iri, T.hasPrice) is not None)
        new = new + stamps
    change = _apply(routing)
    if new is not None:
        change.documents[iri] = new
    return change


def _refuse_other_partner(edit: consolidation.OrderEdit, target, line) -> None:
    """409 for a line that would grow the hub's order with a producer through another partner
    platform than the one it is forwarded to: the hub removed that partner (and configured the
    producer's platform again under another name) since. Its order there cannot be sent any more."""
    sent_to = edit.partner
    if sent_to != target.partner:
        raise Conflict(
            f"the hub's order with {target.producer.value} in this session "
            + (f"is forwarded to the partner platform {sent_to.value}" if sent_to is not None else "is placed here")
            + (f", and its products now come through {target.partner.value}" if target.partner is not None
               else ", and its products are now sold here")
            + ": no line can be added to it. The hub restores that partner, or the session's close ends the order",
            offer=line.offer.value, forwardedTo=sent_to.value if sent_to is not None else None)


def _session(ns, iri, current, new) -> NamedNode:
    """The hub's sale session a customer order names (422), the same as it named before (409)."""
    session = orders.session(new if new is not None else current, iri)
    if current is not None and new is not None and orders.session(current, iri) != session:
        raise Conflict("a customer order cannot move to another sale session")
    if not isinstance(session, NamedNode) or not ns.owns(session.value):
        raise ShapeViolation("a customer order must name one of the hub's sale sessions", violations=[violation(
            iri, T.belongsTo, session, f"dfc-b:belongsTo must name a sale session of {ns.eid}")])
    return session


def _hub_orders(store, ns, iri, session, current, settings, producers=None) -> tuple[dict, dict]:
    """The hub's live wholesale orders by producer, and every wholesale order the change reads."""
    query, bindings = ("wholesale_orders_of_customer", {"customer": iri}) if settings.per_customer_order \
        else ("wholesale_orders", {"session": session, "hub": NamedNode(ns.iri)})
    rows = store.select(queries.load(query), bindings)
    by_producer = {r["producer"]: r["order"] for r in rows}
    wholesale = {o: store.graph(o) for p, o in by_producer.items() if producers is None or p in producers}
    for line in orders.lines(current, iri) if current is not None else []:
        order = orders.order_of_line(line.wholesale_line)
        if order is not None and order not in wholesale:
            wholesale[order] = store.graph(order)   # made under the other consolidation mode
    return by_producer, wholesale


def _open_wholesale(base_url, routing: _Routing, hub, target, session, customer) -> NamedNode:
    """A new Held wholesale order of the hub with a producer, to be written with the change.

    With a partner's producer, it is the hub's record of the order forwarded to the partner
    (app/partners/records.py), kept under the hub.
    """
    producer = target.producer
    if target.partner is not None:
        order = docs.mint(f"{hub.value}/{forwarded.COLLECTION}")
        doc = consolidation.new_order(order, hub, producer, session, customer) + forwarded.marks(order, target.partner)
    else:
        order = docs.mint(docs.Namespace(base_url, docs.enterprise_of(producer.value, base_url)).collection(ORDERS))
        doc = consolidation.new_order(order, hub, producer, session, customer)
    routing.edits[order] = consolidation.OrderEdit(order, doc)
    routing.created.add(order)
    return order


def _apply(routing: _Routing) -> Change:
    """The wholesale orders a routed change writes and what it moves; 409 where one is no longer Held."""
    by_order: dict[NamedNode, dict] = defaultdict(dict)
    for wline, delta in routing.change.items():
        by_order[orders.order_of_line(wline)][wline] = delta
    graphs: dict[NamedNode, list[Triple]] = {}
    usage_delta: orders.Usage = {}
    wanted: dict[NamedNode, list] = defaultdict(list)
    for order, edit in routing.edits.items():
        touched = by_order.get(order, {})
        if not touched and order not in routing.created:
            continue
        before = edit.doc
        status = orders.status(before, order)
        if status == T.Cancelled and all(d <= 0 for d in touched.values()):
            continue        # its hub cancelled it, releasing everything: nothing left to take out
        if status != T.Held:
            raise Conflict(f"the wholesale order {order.value} is no longer Held", order=order.value)
        after = consolidation.add_all(before, order, touched)
        if forwarded.partner_of(after, order) is not None:
            after = forwarded.pending(after, order)     # the partner must hear of it
        for line in orders.lines(after, order):
            if touched.get(line.iri, 0) > 0 and line.stock_item is not None:
                wanted[line.stock_item] += routing.asked[line.iri]
        old_usage = {} if order in routing.created else orders.usage(before, order)
        usage_delta = orders.usage_plus(usage_delta, orders.usage_minus(orders.usage(after, order), old_usage))
        graphs[order] = after
    return Change(graphs, usage_delta, dict(wanted), set(routing.created))


@dataclasses.dataclass
class _Routing:
    """Where one customer order's change goes upstream, before anything is written."""
    edits: dict                 # wholesale order → consolidation.OrderEdit
    change: dict = dataclasses.field(default_factory=lambda: defaultdict(Decimal))   # wholesale line → delta
    asked: dict = dataclasses.field(default_factory=lambda: defaultdict(list))       # wholesale line → [(offer, q)]
    created: set = dataclasses.field(default_factory=set)


def _take_back(routing: _Routing, current, iri) -> None:
    """Count out what a customer order's current lines added upstream (when it reserves)."""
    if current is None or orders.status(current, iri) not in orders.RESERVES:
        return
    doc = Indexed(current)
    for line in orders.lines(current, iri):
        if line.wholesale_line is not None:
            given = number(doc.first(line.iri, T.contribution))
            routing.change[line.wholesale_line] -= line.quantity if given is None else given
