"""An enterprise's board: a producer's stock and who holds it, a hub's sessions and partners."""
from __future__ import annotations

from decimal import Decimal

from app.api.context import services
from app.domain import documents as docs
from app.domain import order_documents as orders
from app.domain import sessions, stock
from app.domain.kinds import KINDS
from app.namespaces import T, b
from app.api.pages import charts, reading
from app.api.pages.reading import NAME, Refused, guarded
from app.rdf.triples import first

ZERO = Decimal(0)
REFERENCES = b("references")


def board(who, ns: docs.Namespace, page: int = 1) -> dict:
    """Everything the board shows, page `page` of its wholesale orders; each section is Refused where
    the policy table says no."""
    reading.require(who, "enterprise_board", "read", ns)
    name, _ = reading.enterprise(ns)
    known = reading.names()
    sold = guarded(lambda: reading.order_documents(who, ns))
    items = _items(ns, sold, known)
    sessions_ = _sessions(ns, sold)
    return {"name": name, "eid": ns.eid, "items": items, "wholesale": _wholesale(sold, known, page),
            "sessions": sessions_, "partners": guarded(lambda: _partners(who, ns)),
            "hub": bool(sessions_), "producer": bool(items)}


def _items(ns, sold, known) -> list[dict]:
    """Per catalogue item: its product, its ledger, a chart of it, and the buyers holding and committing it."""
    triples = services().catalog.catalog(ns, owner=True)
    found = sorted({t.subject for t in triples if t.predicate == T.onHand or t.predicate == T.held}
                   | {t.subject for t in triples if t.object == T.CatalogItem}, key=lambda n: n.value)
    holders = _holders(sold, known) if not isinstance(sold, Refused) else sold
    out = []
    for item in found:
        product = first(triples, item, REFERENCES)
        # A hub's items that sell a producer's product are the producer's stock, not the hub's.
        if not ns.owns(item.value) or (product is not None and not ns.owns(product.value)):
            continue
        ledger = stock.read(triples, item)
        label = first(triples, product, NAME) if product is not None else None
        figures = [("on hand", ledger.on_hand), ("held", ledger.held), ("committed", ledger.committed),
                   ("available", ledger.available)]
        out.append({"iri": item.value, "id": item.value.rsplit("/", 1)[-1],
                    "product": label.value if label is not None else item.value.rsplit("/", 1)[-1],
                    "figures": [(k, charts.show(v) if v is not None else "unlimited") for k, v in figures],
                    "chart": charts.bars("Stock of " + (label.value if label is not None else "the item"),
                                         [(k, v) for k, v in figures if v is not None]),
                    "holders": holders if isinstance(holders, Refused) else holders.get(item, [])})
    return out


def _holders(sold, known) -> dict:
    """item → [(buyer, held, committed)]: what each buyer's open orders count in the item's ledger."""
    by_item: dict = {}
    for iri, doc in sold:
        buyer = reading.party(orders.buyer(doc, iri), known)
        for item, (held, committed) in orders.usage(doc, iri).items():
            row = by_item.setdefault(item, {}).setdefault(buyer, [ZERO, ZERO])
            row[0] += held
            row[1] += committed
    return {item: _largest(rows) for item, rows in by_item.items()}


# Buyers a holders' table names: an item a hub sells to its own customers may have thousands.
HOLDERS_SHOWN = 20


def _largest(rows: dict) -> list[dict]:
    """The buyers holding or committing the most of an item (by name), the rest summed in one row."""
    counted = [(buyer, h, c) for buyer, (h, c) in rows.items() if h or c]
    shown = sorted(sorted(counted, key=lambda r: (-(r[1] + r[2]), r[0]))[:HOLDERS_SHOWN])
    out = [{"buyer": buyer, "held": charts.show(h), "committed": charts.show(c)} for buyer, h, c in shown]
    named = {r[0] for r in shown}
    rest = [r for r in counted if r[0] not in named]
    if rest:
        out.append({"buyer": f"{len(rest)} other buyer{'s' if len(rest) > 1 else ''}",
                    "held": charts.show(sum(r[1] for r in rest)), "committed": charts.show(sum(r[2] for r in rest))})
    return out


def _wholesale(sold, known, page):
    """A page of the wholesale orders the enterprise sold, newest first, with their statuses and pages."""
    if isinstance(sold, Refused):
        return sold
    rows = [{"id": iri.value.rsplit("/", 1)[-1], "page": reading.order_path(iri.value),
             "buyer": reading.party(orders.buyer(doc, iri), known), "status": reading.status_of(doc, iri),
             "at": reading.placed_at(doc, iri)}
            for iri, doc in sold if not orders.is_customer(doc, iri)]
    return reading.paged(sorted(rows, key=lambda r: (r["at"], r["id"]), reverse=True), page)


def _sessions(ns, sold) -> list[dict]:
    """The hub's sale sessions: open, coming, closed, with how many customer orders each has."""
    catalog = services().catalog
    names = catalog.listing(ns, KINDS["sale_sessions"])
    triples = catalog.documents(names)
    now = services().orders.clock.now()
    counts: dict = {}
    if not isinstance(sold, Refused):
        for iri, doc in sold:
            if orders.is_customer(doc, iri):
                session = orders.session(doc, iri)
                counts[session] = counts.get(session, 0) + 1
    out = []
    for session in names:
        start, end = sessions.window(triples, session)
        closed = sessions.closed_at(triples, session) is not None or (end is not None and end < now)
        state = "closed" if closed else "coming" if start is not None and start > now else "open"
        label = first(triples, session, NAME)
        out.append({"id": session.value.rsplit("/", 1)[-1], "state": state,
                    "name": label.value if label is not None else session.value.rsplit("/", 1)[-1],
                    "start": charts.when(start), "end": charts.when(end), "sort": start.isoformat() if start else "",
                    "orders": "—" if isinstance(sold, Refused) else counts.get(session, 0)})
    order = {"open": 0, "coming": 1, "closed": 2}
    return sorted(out, key=lambda s: (order[s["state"]], s["sort"]))


def _partners(who, ns) -> list[dict]:
    """The hub's partner platforms and their sync state (row partner read: never a token)."""
    reading.require(who, "partner", "read", ns)
    return services().partners.states(ns)
