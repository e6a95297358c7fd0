"""A hub's session board: the summary with a chart, the customer orders, the wholesale orders; closing it."""
from __future__ import annotations

from app.api.context import services
from app.domain import documents as docs
from app.domain import order_documents as orders
from app.domain import sessions
from app.domain.kinds import KINDS
from app.errors import NotFound
from app.api.pages import charts, reading
from app.api.pages.reading import NAME, Refused, guarded
from app.rdf.triples import first


def _session(ns: docs.Namespace, sid: str):
    return services().orders.session(f"{ns.collection(KINDS['sale_sessions'])}/{sid}")


def board(who, ns: docs.Namespace, sid: str, page: int = 1) -> dict:
    """The session's board for its hub (row session_summary read), each other section under its own row;
    page `page` of its customer orders."""
    reading.require(who, "session_summary", "read", ns)
    book = services().orders
    session = _session(ns, sid)
    doc = book.document(session)
    known = reading.names()
    label = first(doc, session, NAME)
    start, end = sessions.window(doc, session)
    rows = [_row(entry, known) for entry in book.summary(session, ns)]
    chart = charts.bars("Ordered per product", [(f"{r['product']} ({r['producer']})", r["ordered_n"]) for r in rows])
    return {"id": sid, "eid": ns.eid, "name": label.value if label is not None else sid,
            "hub": reading.enterprise(ns)[0], "closed": sessions.closed_at(doc, session) is not None,
            "start": charts.when(start), "end": charts.when(end),
            "rows": rows, "chart": chart, "customers": guarded(lambda: reading.paged(_customers(who, ns, session), page)),
            "wholesale": guarded(lambda: _wholesale(who, ns, session, known)),
            "forwarded": [{"order": f["order"].value.rsplit("/", 1)[-1], "state": f["state"].value}
                          for f in book.forwarded(session, ns)]}


def close(who, ns: docs.Namespace, sid: str) -> int:
    """Close the session as POST …/close does (row sale_session close); how many orders completed."""
    reading.require(who, "sale_session", "close", ns)
    _, completed = services().orders.close_session(_session(ns, sid))
    return len(completed)


def _row(entry: dict, known: dict) -> dict:
    product = entry["product"]
    return {"producer": reading.party(entry["producer"], known),
            "product": _product_name(product) if product is not None else "(no product)",
            "ordered_n": entry["ordered"],
            **{c: charts.show(entry[c]) for c in ("ordered", "held", "completed", "cancelled", "kilograms", "value")}}


def _product_name(product) -> str:
    try:
        node, triples = services().catalog.load(product.value)
    except NotFound:
        return product.value.rsplit("/", 1)[-1]
    found = first(triples, node, NAME)
    return found.value if found is not None else product.value.rsplit("/", 1)[-1]


def _customers(who, ns, session) -> list[dict]:
    """The session's customer orders, each customer under a pseudonym (row order list)."""
    out = []
    for iri, doc in reading.order_documents(who, ns):
        if orders.is_customer(doc, iri) and orders.session(doc, iri) == session:
            quantity = sum((line.quantity for line in orders.lines(doc, iri)), start=0)
            out.append({"id": iri.value.rsplit("/", 1)[-1], "page": reading.order_path(iri.value),
                        "customer": reading.pseudonym(getattr(orders.buyer(doc, iri), "value", iri.value)),
                        "status": reading.status_of(doc, iri), "quantity": charts.show(quantity)})
    return out


def _wholesale(who, ns, session, known) -> list[dict] | Refused:
    """The wholesale order the hub placed at each producer for the session (row wholesale_orders list)."""
    reading.require(who, "wholesale_orders", "list", ns)
    book = services().orders
    out = []
    for iri in book.placed_for(session, ns):
        doc = book.document(iri)
        seller = iri.value.split("/orders/")[0]
        out.append({"id": iri.value.rsplit("/", 1)[-1], "page": reading.order_path(iri.value),
                    "producer": known.get(seller, seller.rsplit("/", 1)[-1]), "status": reading.status_of(doc, iri),
                    "dfc": (orders.status(doc, iri).value.rsplit("#", 1)[-1] if orders.status(doc, iri) else "")})
    return out
