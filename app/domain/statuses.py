"""The twelve lifecycle statuses of a wholesale order and the DFC statuses each one means.

The statuses and their DFC meaning are declared once, in ontology/hub.ttl (concepts of
hub:OrderLifecycle, each `skos:broadMatch` its DFC order status and, where it differs, its
fulfilment status); this module reads them. Who may move an order from one to another is
app/domain/lifecycle.py.
"""
from __future__ import annotations

from pyoxigraph import NamedNode

from app.errors import InvalidValue, echoed
from app.rdf import vocabulary
from app.namespaces import HUB, SKOS, T, hub

_IN_SCHEME, _BROAD_MATCH = NamedNode(SKOS + "inScheme"), NamedNode(SKOS + "broadMatch")
ORDER_STATES = (T.Draft, T.Held, T.Complete, T.Cancelled)
FULFILMENT_STATES = (T.Held, T.Unfulfilled, T.Fulfilled, T.Cancelled)


def _declared() -> dict[NamedNode, tuple[NamedNode, NamedNode]]:
    """Each status → (DFC order status, DFC fulfilment status), in the order hub.ttl lists them."""
    quads = vocabulary.OURS.quads
    names = [q.subject for q in quads if q.predicate == _IN_SCHEME and q.object == hub("OrderLifecycle")]
    out = {}
    for name in names:
        matches = [q.object for q in quads if q.subject == name and q.predicate == _BROAD_MATCH]
        order = next(m for m in matches if m in ORDER_STATES)
        fulfilment = next((m for m in matches if m in FULFILMENT_STATES), order)
        out[name] = (order, fulfilment)
    return out


DFC = _declared()
STATUSES = tuple(DFC)
DRAFT, PLACED, TRANSFERRED, TRANSFER_FAILED, CONFIRMED, PRODUCING, PARTIALLY_SHIPPED, SHIPPED, \
    CANCELATION_REQUESTED, CANCELED_BY_CONSUMER, CANCELED_BY_SUPPLIER, REMAINDER_CANCELED = (
        hub(n) for n in ("draft", "placed", "transferred", "transfer_failed", "confirmed", "producing",
                         "partially_shipped", "shipped", "cancelation_requested", "canceled_by_consumer",
                         "canceled_by_supplier", "partially_shipped_remainder_canceled"))
# Nothing changes an order in one of these.
FINAL = frozenset({SHIPPED, CANCELED_BY_CONSUMER, CANCELED_BY_SUPPLIER, REMAINDER_CANCELED})
# A consumer changes lines and deliveries only here.
OPEN = frozenset({DRAFT, PLACED})


def name(status: NamedNode) -> str:
    """The status's local name as clients write it (`placed`)."""
    return status.value[len(HUB):]


def parse(text) -> NamedNode | None:
    """The status a client names (`placed`, `hub:placed` or the full IRI), or None."""
    if not isinstance(text, str):
        return None
    local = text[4:] if text.startswith("hub:") else text[len(HUB):] if text.startswith(HUB) else text
    # Looked up by name: a client's text ("placed now", "<x>") may be no IRI at all.
    return _BY_NAME.get(local)


_BY_NAME = {name(s): s for s in STATUSES}

MAX_REASON = 2000      # characters of the reason a move may give
# The reason the server gives when it cancels an order whose hold ended (app/orders/holds.py):
# the one reason a customer's order may carry and still reach analysts (app/domain/personal.py).
HOLD_EXPIRED = "hold expired"


def requested(status, reason) -> tuple[NamedNode, str | None]:
    """A move a client asked for (the API's JSON, a page's form): its status and reason; 422 naming
    what is wrong (`/status` with the twelve `allowed`, or `/reason`)."""
    target = parse(status)
    if target is None:
        raise InvalidValue(f"{echoed(status)} is not a status of the order lifecycle", pointer="/status",
                           allowed=[name(s) for s in STATUSES])
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise InvalidValue(f"reason must be a string of at most {MAX_REASON} characters", pointer="/reason")
    return target, reason


def commits(status: NamedNode | None) -> bool:
    """Tell whether an order in this status keeps its unshipped quantities committed."""
    return status is not None and DFC[status][0] == T.Complete and status not in FINAL
