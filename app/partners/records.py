"""A hub's wholesale order with a remote producer, as the hub records it: pure functions.

The document lives here under `{hub}/forwarded_orders/{id}`, is planned by the same checkout
code as any wholesale order (its lines name no stock item: the partner keeps the ledger), and
carries what forwarding needs: the partner (`hub:forwardedTo`), the partner's own IRIs for the
order and its lines, and whether the partner has acknowledged it as it stands (`hub:syncState`).
From it, the JSON-LD a partner receives is built the way Open Food Network sends backorders to
the FDC Shopify app: the Order (POSTed with the collection URL as @id, PUT at its own IRI), its
lines with a literal `dfc-b:quantity` and the offer they concern, each offer with its product.
"""
from __future__ import annotations

from decimal import Decimal

from pyoxigraph import Literal, NamedNode, Triple

from app.domain import order_documents as orders
from app.domain.agents import valid_iri
from app.namespaces import RDF_TYPE, T, hub
from app.rdf.terms import instant_literal
from app.rdf.triples import Indexed, first, without

COLLECTION = "forwarded_orders"
SYNCED, PENDING = "synced", "pending"
DFC_CONTEXT = "https://www.datafoodconsortium.org"
FORWARDED_TO, REMOTE_ORDER, REMOTE_LINE = hub("forwardedTo"), hub("remoteOrder"), hub("remoteLine")
SYNC_STATE, SYNCED_AT, SYNC_ERROR = hub("syncState"), hub("syncedAt"), hub("syncError")
PENDING_POST, PENDING_BODY = hub("pendingPost"), hub("pendingBody")
# What the partner's answers and our attempts write; everything else is what the partner is sent.
BOOKKEEPING = (REMOTE_ORDER, SYNC_STATE, SYNCED_AT, SYNC_ERROR, PENDING_POST, PENDING_BODY)
_STATUS_NAMES = {T.Held: "dfc-v:Held", T.Complete: "dfc-v:Complete", T.Cancelled: "dfc-v:Cancelled",
                 T.Draft: "dfc-v:Draft"}


def marks(order: NamedNode, partner: NamedNode) -> list[Triple]:
    """What makes a new wholesale order a forwarded one."""
    return [Triple(order, FORWARDED_TO, partner), Triple(order, SYNC_STATE, Literal(PENDING))]


def partner_of(doc, order) -> NamedNode | None:
    return first(doc, order, FORWARDED_TO)


def pending(doc, order) -> list[Triple]:
    """The document marked as changed here since the partner last acknowledged it."""
    return [*without(doc, order, {SYNC_STATE}), Triple(order, SYNC_STATE, Literal(PENDING))]


def state(doc, order) -> str | None:
    found = first(doc, order, SYNC_STATE)
    return found.value if found is not None else None


def what_is_sent(doc, order) -> tuple:
    """What the partner is told of the order: its status and each offer's quantity (for comparisons)."""
    return (orders.status(doc, order), tuple(sorted((line.offer.value, line.quantity)
                                                    for line in orders.lines(doc, order) if line.quantity)))


def has_lines(doc, order) -> bool:
    return any(line.quantity for line in orders.lines(doc, order))


def body(doc, order, buyer: NamedNode, at: str, remote: NamedNode | None) -> dict:
    """The JSON-LD a partner receives: POSTed at its orders URL (remote None) or PUT at `remote`."""
    index = Indexed(doc)
    parts, nodes, offers = [], [], {}
    for n, line in enumerate(orders.lines(doc, order), 1):
        if not line.quantity:
            continue
        known = index.first(line.iri, REMOTE_LINE) if remote is not None else None
        node_id = known.value if known is not None else (f"{at}/OrderLines/{n}" if remote is None else f"_:l{n}")
        parts.append(node_id)
        nodes.append({"@id": node_id, "@type": "dfc-b:OrderLine", "dfc-b:quantity": _number(line.quantity),
                      "dfc-b:concerns": line.offer.value})
        product = index.first(line.iri, T.product)
        offers[line.offer.value] = {"@id": line.offer.value, "@type": "dfc-b:Offer",
                                    **({"dfc-b:offeredItem": product.value} if product is not None else {})}
    head = {"@id": at if remote is None else remote.value, "@type": "dfc-b:Order",
            "dfc-b:orderedBy": buyer.value,
            "dfc-b:hasOrderStatus": _STATUS_NAMES.get(orders.status(doc, order), "dfc-v:Held")}
    if parts:
        head["dfc-b:hasPart"] = parts
    return {"@context": DFC_CONTEXT, "@graph": [head, *nodes, *offers.values()]}




def _number(q: Decimal):
    return int(q) if q == q.to_integral_value() else float(q)


def acknowledged(doc, order, remote: NamedNode, remote_lines: dict, now) -> list[Triple]:
    """The document once the partner acknowledged it: its IRIs noted, nothing pending."""
    drop = {t.subject for t in doc if t.predicate == REMOTE_LINE}
    out = [t for t in doc if not (t.subject == order and t.predicate in BOOKKEEPING)
           and not (t.subject in drop and t.predicate == REMOTE_LINE)]
    out += [Triple(order, REMOTE_ORDER, remote), Triple(order, SYNC_STATE, Literal(SYNCED)),
            Triple(order, SYNCED_AT, instant_literal(now))]
    out += [Triple(line, REMOTE_LINE, found) for line, found in remote_lines.items()]
    return out


def acknowledged_empty(doc, order, now) -> list[Triple]:
    """The document with nothing to tell a partner that holds nothing of it yet: nothing pending."""
    out = [t for t in doc if not (t.subject == order and t.predicate in (SYNC_STATE, SYNC_ERROR, SYNCED_AT))]
    return [*out, Triple(order, SYNC_STATE, Literal(SYNCED)), Triple(order, SYNCED_AT, instant_literal(now))]


def failed(doc, order, reason: str) -> list[Triple]:
    """The document after an attempt that did not reach the partner: still pending, and why."""
    return [*without(doc, order, {SYNC_STATE, SYNC_ERROR}), Triple(order, SYNC_STATE, Literal(PENDING)),
            Triple(order, SYNC_ERROR, Literal(reason[:500]))]


def with_pending_post(doc, order, key: str, text: str) -> list[Triple]:
    """The document noting a first POST about to be sent, so a lost answer is retried as the same POST."""
    return [*without(doc, order, {PENDING_POST, PENDING_BODY}), Triple(order, PENDING_POST, Literal(key)),
            Triple(order, PENDING_BODY, Literal(text))]


def without_pending_post(doc, order) -> list[Triple]:
    return without(doc, order, {PENDING_POST, PENDING_BODY})


def remote_lines(answer: list[Triple], remote: NamedNode, doc, order) -> dict[NamedNode, NamedNode]:
    """Our line → the partner's line, matched by offer, else by the product the partner's offer offers.

    FDC servers answer with offers of their own spelling (`…/Offers/{id}`) that only the
    product ties back to the offer we sent.
    """
    index = Indexed(answer)
    theirs_by_offer, theirs_by_product = {}, {}
    for line in index.objects(remote, T.hasPart):
        offer = index.first(line, T.concerns)
        if offer is None:
            continue
        theirs_by_offer.setdefault(offer, line)
        product = next((p for term in (T.hubOfferedItem, T.offers, T.offeredItem)
                        if (p := index.first(offer, term)) is not None), None)
        if product is not None:
            theirs_by_product.setdefault(product, line)
    ours = Indexed(doc)
    out = {}
    for line in orders.lines(doc, order):
        found = theirs_by_offer.get(line.offer)
        if found is None:
            product = ours.first(line.iri, T.product)
            found = theirs_by_product.get(product) if product is not None else None
        if found is not None:
            out[line.iri] = found
    return out


def answered_order(answer: list[Triple], location: str | None) -> NamedNode | None:
    """The order a partner's answer to our POST names: its Location, else its one Order node."""
    if location:
        # A Location no IRI can be (a space, a bad escape) names no order we can keep or PUT.
        return NamedNode(location) if valid_iri(location) else None
    found = [t.subject for t in answer if t.predicate == RDF_TYPE and t.object == T.Order
             and isinstance(t.subject, NamedNode)]
    return found[0] if len(found) == 1 else None
