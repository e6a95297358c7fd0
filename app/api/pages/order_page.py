"""An order's page: lines, deliveries, history, and a button per move the lifecycle allows this agent now."""
from __future__ import annotations

from app.api.context import services
from app.domain import deliveries, lifecycle, policy, statuses
from app.domain import documents as docs
from app.domain import order_documents as orders
from app.domain.kinds import ORDERS
from app.errors import Forbidden, NotFound, Unauthorized
from app.namespaces import T, b
from app.api.pages import charts, reading
from app.api.pages.reading import NAME
from app.rdf.triples import first

# What a button says for a move to each status; the answer to a cancellation request is its own.
LABELS = {"placed": "Place the order", "confirmed": "Confirm", "transferred": "Mark as transferred",
          "transfer_failed": "Mark the transfer as failed", "producing": "Mark as producing",
          "cancelation_requested": "Ask to cancel", "canceled_by_consumer": "Cancel",
          "canceled_by_supplier": "Cancel (as the supplier)", "remainder_canceled": "Cancel the remainder"}


def find(who, ns: docs.Namespace, oid: str):
    """The order at (ns, oid), readable by the agent (row order read), or 404/401/403."""
    book = services().orders
    iri = f"{ns.collection(ORDERS)}/{oid}"
    found = book.find(iri)
    if found is None:
        raise NotFound(f"no order at {iri}")
    book.readable(who, ns, found[1], found[0])
    return found


def page(who, ns: docs.Namespace, oid: str) -> dict:
    iri, doc = find(who, ns, oid)
    known = reading.names()
    customer = orders.is_customer(doc, iri)
    buyer = orders.buyer(doc, iri)
    products: dict = {}
    lines = [{"n": i + 1, "product": _offer_name(line.offer, products), "quantity": charts.show(line.quantity)}
             for i, line in enumerate(orders.lines(doc, iri))]
    numbers = {line.iri: i + 1 for i, line in enumerate(orders.lines(doc, iri))}
    found = deliveries.read(doc, iri)
    shown = [{"id": d.iri.value.rsplit("/", 1)[-1], "shipped": d.shipped,
              "date": _value(first(doc, d.iri, T.confirmedDeliveryDate) or first(doc, d.iri, T.desiredDeliveryDate)),
              "lines": ", ".join(f"line {numbers.get(line, '?')}: {charts.show(q)}" for line, q in d.lines.items())}
             for d in found]
    steps = [{**s, "by": reading.party(s["by"], known)} for s in reading.history(doc, iri)]
    moves, ships, why = ([], [], "") if customer else _moves(who, ns, doc, iri, buyer, found)
    return {"eid": ns.eid, "id": oid, "customer": customer, "status": reading.status_of(doc, iri),
            "seller": known.get(ns.iri, ns.eid), "buyer": reading.party(buyer, known), "lines": lines,
            "deliveries": shown, "history": steps, "moves": moves, "ships": ships, "why": why,
            "session": _session_page(doc, iri, who, ns)}


def _moves(who, ns, doc, iri, buyer, found) -> tuple[list, list, str]:
    """The moves (status, label) and shipments this agent may make now, or why none."""
    held = lifecycle.roles(who, ns.iris, buyer)
    try:
        policy.require(who, "order", "transition", owner=ns, buyers=[buyer], order=iri.value)
    except (Unauthorized, Forbidden) as e:
        return [], [], e.detail
    current = lifecycle.status_of(doc, iri)
    origin = lifecycle.came_from(doc, iri)
    moves = []
    for target in lifecycle.allowed(current, held, origin):
        name = statuses.name(target)
        label = LABELS.get(name, name)
        if current == statuses.CANCELATION_REQUESTED and target == origin:
            label = f"Refuse the cancellation (back to {name.replace('_', ' ')})"
        elif current == statuses.CANCELATION_REQUESTED and name == "canceled_by_consumer":
            label = "Accept the cancellation"
        moves.append({"status": name, "label": label})
    ships = []
    if lifecycle.allowed(current, held, origin, (lifecycle.BY_SHIPPING,)):
        try:
            policy.require(who, "order", "ship", owner=ns)
            ships = [d.iri.value.rsplit("/", 1)[-1] for d in found if not d.shipped]
        except (Unauthorized, Forbidden):
            ships = []
    return moves, ships, "" if moves or ships else "no move is open to you now"


def _offer_name(offer, cache: dict) -> str:
    """The product an order line's offer sells (offer → item → product), from the public catalogue."""
    if offer is None:
        return "(no offer)"
    if offer not in cache:
        cache[offer] = _follow(offer.value, [b("offeredItem"), b("references")]) or offer.value.rsplit("/", 1)[-1]
    return cache[offer]


def _follow(iri: str, path: list) -> str | None:
    catalog = services().catalog
    for predicate in [*path, None]:
        try:
            node, triples = catalog.load(iri)
        except NotFound:
            return None
        if predicate is None:
            found = first(triples, node, NAME)
            return found.value if found is not None else None
        nxt = first(triples, node, predicate)
        if nxt is None or not hasattr(nxt, "value"):
            return None
        iri = nxt.value
    return None


def _value(term) -> str:
    return term.value if term is not None else ""


def _session_page(doc, iri, who, ns) -> str | None:
    """The session board of a customer order, for its hub."""
    session = orders.session(doc, iri)
    if session is None or not ns.owns(session.value) or who is None or not (who.admin or who.iri in ns.iris):
        return None
    return f"/pages/enterprises/{ns.eid}/sale_sessions/{session.value.rsplit('/', 1)[-1]}"
