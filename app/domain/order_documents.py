"""Order documents: what a payload says of an order, and the order as the server stores it.

An order document holds the Order node, its lines and the blank nodes they embed (prices,
quantities, a session given only as `…/SalesSession/#`). Offers, products and people a payload
describes beside the order are references, not part of it: a buyer cannot write the seller's
catalogue by sending an order.
"""
from __future__ import annotations

import dataclasses
import secrets
from decimal import Decimal

from pyoxigraph import BlankNode, NamedNode, Triple

from app.rdf import vocabulary
from app.domain import documents as docs
from app.domain import statuses
from app.domain import personal
from app.domain.kinds import ORDERS
from app.errors import BadRequest, PayloadTooLarge, ShapeViolation, violation
from app.namespaces import RDF_TYPE, TRUE, T
from app.queries import as_term
from app.rdf.triples import Indexed, first, number, objects, subjects, subtree, without

STATUSES = (T.Draft, T.Held, T.Complete, T.Cancelled)
# What an order's lines count towards in the ledger of their items, by order status.
RESERVES = {T.Held: "held", T.Complete: "committed"}
# Terms only the server writes in an order (hub:serverWritten dfc-b:Order in ontology/hub.ttl);
# what a client sends of them is dropped.
SERVER_TERMS = vocabulary.OURS.server_written(T.Order)
# Terms the server writes on an order itself that a client's PUT keeps (they say what it is).
KEPT_ON_PUT = vocabulary.OURS.kept_on_put()
# Quantities beyond these are typing errors, and would outgrow exact decimal arithmetic.
MAX_QUANTITY, MAX_DECIMALS = Decimal(10) ** 12, 6


@dataclasses.dataclass(frozen=True)
class Line:
    iri: NamedNode
    offer: NamedNode | None
    quantity: Decimal
    stock_item: NamedNode | None = None
    wholesale_line: NamedNode | None = None
    unit: NamedNode | None = None        # the unit its dfc-b:hasQuantity names, if any


@dataclasses.dataclass
class Incoming:
    """An order as a client sent it, shaped as a document (ids minted, references dropped)."""
    iri: NamedNode
    triples: list[Triple]
    hints: dict[NamedNode, NamedNode]               # offer → product, as the payload describes them
    person: tuple[NamedNode, list[Triple]] | None   # the buyer when it is a person described inline


def status(triples, order) -> NamedNode | None:
    return first(triples, order, T.hasOrderStatus)


def buyer(triples, order):
    return first(triples, order, T.orderedBy)


def session(triples, order):
    return first(triples, order, T.belongsTo)


def is_customer(triples, order) -> bool:
    return Triple(order, T.customerOrder, TRUE) in triples


def lines(triples, order) -> list[Line]:
    """The order's lines, in the order the document lists them."""
    about: dict = {}
    for t in triples:      # one pass: documents are read many times per change
        about.setdefault(t.subject, {}).setdefault(t.predicate, t.object)
    parts = [t.object for t in triples if t.subject == order and t.predicate == T.hasPart]
    out = []
    for node in parts:
        props = about.get(node, {})
        qv = props.get(T.hasQuantity)
        measure = about.get(qv, {}) if qv is not None else {}
        quantity = number(measure.get(T.value))
        if quantity is None:
            quantity = number(props.get(T.quantity))
        out.append(Line(node, props.get(T.concerns), quantity or Decimal(0),
                        props.get(T.stockItem), props.get(T.wholesaleLine), measure.get(T.hasUnit)))
    return out


# What orders count in the ledgers: (held, committed) per stock item.
Usage = dict[NamedNode, tuple[Decimal, Decimal]]


def usage(triples, order) -> Usage:
    """What the order counts in each item's ledger: (held, committed) per stock item."""
    if triples is None or is_customer(triples, order):
        return {}
    bucket = RESERVES.get(status(triples, order))
    out: dict[NamedNode, tuple[Decimal, Decimal]] = {}
    lifecycle_status = first(triples, order, T.status)
    if bucket is None or (bucket == "committed" and lifecycle_status is not None
                          and not statuses.commits(lifecycle_status)):
        return out      # a final order (shipped, cancelled, the remainder cancelled) commits nothing
    gone = shipped(triples, order) if bucket == "committed" else {}
    for line in lines(triples, order):
        quantity = line.quantity - gone.get(line.iri, Decimal(0))
        if line.stock_item is not None and quantity:
            held, committed = out.get(line.stock_item, (Decimal(0), Decimal(0)))
            out[line.stock_item] = (held + quantity, committed) if bucket == "held" \
                else (held, committed + quantity)
    return out


def shipped(triples, order) -> dict[NamedNode, Decimal]:
    """What the order's shipped deliveries carried of each line (it left stock when they shipped)."""
    index = Indexed(triples)
    out: dict[NamedNode, Decimal] = {}
    for delivery in index.objects(order, T.hasDelivery):
        if index.first(delivery, T.shippedAt) is None:
            continue
        for node in index.objects(delivery, T.hasDeliveryLine):
            line = index.first(node, T.ofOrderLine)
            out[line] = out.get(line, Decimal(0)) + (number(index.first(node, T.quantity)) or Decimal(0))
    return out


def usage_minus(a: Usage, b: Usage) -> Usage:
    """a − b, item by item."""
    out = dict(a)
    for item, (h, c) in b.items():
        h0, c0 = out.get(item, (Decimal(0), Decimal(0)))
        out[item] = (h0 - h, c0 - c)
    return out


def usage_plus(a: Usage, b: Usage) -> Usage:
    """a + b, item by item."""
    return usage_minus(a, {k: (-h, -c) for k, (h, c) in b.items()})


def order_of_line(line: NamedNode | None) -> NamedNode | None:
    """The order a line IRI belongs to (lines are minted under their order's IRI)."""
    if line is None or "/order_lines/" not in line.value:
        return None
    return NamedNode(line.value.rsplit("/order_lines/", 1)[0])


def check_size(triples: list[Triple], max_lines: int) -> None:
    """Refuse (413) a payload with more order lines than one order may have."""
    count = len({*(t.object for t in triples if t.predicate == T.hasPart),
                 *(t.subject for t in triples if t.predicate == RDF_TYPE and t.object == T.OrderLine)})
    if count > max_lines:
        raise PayloadTooLarge(f"an order may have at most {max_lines} lines; this one has {count}: "
                              "split it into several orders", maxLines=max_lines, lines=count)


def from_payload(triples: list[Triple], target: NamedNode | None, ns: docs.Namespace,
                 base_url: str, pseudonym=None) -> Incoming:
    """Shape a payload into the order document it asks for (POST: target None).

    `pseudonym(persons, foreign_id)` names a person another platform identifies
    (app/persons/pseudonyms.py); without it, such a person is refused."""
    collection = ns.collection(ORDERS)
    iri, triples = docs.single_document(triples, ORDERS, target, collection, base_url)
    hints = {t.subject: t.object for t in triples
             if t.predicate in (T.offers, T.hubOfferedItem, T.offeredItem) and isinstance(t.subject, NamedNode)
             and isinstance(t.object, NamedNode)}
    # Lines: what hasPart names, and OrderLine nodes the order forgot to list.
    line_nodes = list(dict.fromkeys([*objects(triples, iri, T.hasPart), *subjects(triples, RDF_TYPE, T.OrderLine)]))
    renames = {}
    for node in line_nodes:
        # A line keeps its id only as a member of the order's lines: named anywhere under the
        # order (`…/status_changes/1`), it took in the supplier's history steps the server wrote there.
        if not (isinstance(node, NamedNode) and docs.in_collection(node.value, f"{iri.value}/order_lines", base_url)):
            renames[node] = NamedNode(f"{iri.value}/order_lines/{secrets.token_hex(4)}")
    placeholder_session = session(triples, iri)
    if isinstance(placeholder_session, NamedNode) and placeholder_session.value.endswith("#"):
        renames[placeholder_session] = BlankNode()   # `…/SalesSession/#`: described, not named
    triples = docs.rename(triples, renames)
    line_nodes = [renames.get(n, n) for n in line_nodes]
    person = _person(triples, iri, line_nodes, ns, base_url, pseudonym)
    # One walk from the order, its lines and a described session: each triple is taken once,
    # however many lines share a blank node, so a big order costs its size, not its size squared.
    roots = [iri, *line_nodes]
    if isinstance(described := session(triples, iri), BlankNode):
        roots.append(described)
    sent = Indexed(triples)
    body = [t for t in sent.subtree(*roots) if not (t.subject == iri and t.predicate == T.hasPart)]
    body += [Triple(iri, T.hasPart, node) for node in line_nodes]
    body = [t for t in dict.fromkeys(body) if t.predicate not in SERVER_TERMS]
    doc = Indexed(body)
    _one_value_each(doc, iri, line_nodes)
    for node in line_nodes:
        _check_line(doc, node)
        if not doc.has(Triple(node, RDF_TYPE, T.OrderLine)):
            body.append(Triple(node, RDF_TYPE, T.OrderLine))
    body = quantities_as_values(body, line_nodes)
    if person is not None:
        # The person's details live in the person's graph only (DESIGN.md storage model); the
        # order keeps a reference, or analysts and producers reading orders would see them.
        about_person = {t.subject for t in sent.subtree(person[2])}
        body = [t for t in body if t.subject not in about_person]
        body = docs.rename(body, {person[2]: person[0]})
    return Incoming(iri, body, hints, person[:2] if person else None)


# Terms the order rules read once per node: a second value would be reserved by one reading and
# released by another (issue 9). The shapes say so too; this holds whatever reached the domain.
ONE_PER_ORDER = (T.hasOrderStatus, T.hasFulfilmentStatus, T.status, T.orderedBy, T.belongsTo, T.date, T.discount)
ONE_PER_LINE = (T.concerns, T.quantity, T.hasQuantity, T.hasPrice, T.discount)
ONE_PER_AMOUNT = (T.value, T.hasUnit)


def _one_value_each(doc: Indexed, order, line_nodes) -> None:
    """Refuse (422) an order or line stating a single-valued term twice, or two quantities that differ."""
    problems = []

    def once(node, terms):
        for term in terms:
            values = doc.objects(node, term)
            if len(values) > 1:
                problems.append(violation(node, term, ", ".join(v.value for v in values),
                                          f"{term.value.rsplit('#', 1)[-1]} must have one value, "
                                          f"not {len(values)}"))

    once(order, ONE_PER_ORDER)
    for node in line_nodes:
        once(node, ONE_PER_LINE)
        for amount in (doc.first(node, T.hasQuantity), doc.first(node, T.hasPrice)):
            if isinstance(amount, BlankNode):
                once(amount, ONE_PER_AMOUNT)
        qv = doc.first(node, T.hasQuantity)
        given = number(doc.first(qv, T.value)) if qv is not None else None
        plain = number(doc.first(node, T.quantity))
        if given is not None and plain is not None and given != plain:
            problems.append(violation(node, T.quantity, str(plain), f"dfc-b:quantity {plain} and "
                                      f"dfc-b:hasQuantity {given} disagree: send one of them"))
    if problems:
        raise ShapeViolation(f"{len(problems)} term(s) with more than one value", violations=problems)


def _check_line(doc: Indexed, node) -> None:
    """Refuse (422) a line with no offer, no quantity, or a quantity beyond reason."""
    if not isinstance(doc.first(node, T.concerns), NamedNode):
        raise ShapeViolation("an order line names no offer", violations=[violation(
            node, T.concerns, None, "An OrderLine must reference the Offer it buys by IRI with dfc-b:concerns.")])
    quantity = _quantity(doc, node)
    if quantity is None:
        raise ShapeViolation("an order line has no quantity", violations=[violation(
            node, T.hasQuantity, None, "An OrderLine needs a quantity: dfc-b:quantity or dfc-b:hasQuantity.")])
    if quantity > MAX_QUANTITY or -quantity.as_tuple().exponent > MAX_DECIMALS:
        raise ShapeViolation("an order line's quantity is out of range", violations=[violation(
            node, T.quantity, str(quantity), f"A quantity must be at most {MAX_QUANTITY:,} with at most "
                                             f"{MAX_DECIMALS} decimals.")])


def _quantity(doc: Indexed, line) -> Decimal | None:
    qv = doc.first(line, T.hasQuantity)
    q = number(doc.first(qv, T.value)) if qv is not None else None
    return q if q is not None else number(doc.first(line, T.quantity))


def quantities_as_values(triples: list[Triple], line_nodes) -> list[Triple]:
    """The document with each line's quantity in DFC's current form, dfc-b:hasQuantity (a
    QuantitativeValue in the line's unit; none when it was sent as the literal dfc-b:quantity),
    which every reader here (the ledger, the summary, analysts) reads. The deprecated literal is
    kept beside it, equal, for the official DFC connector (1.0.0-beta.2 reads only that)."""
    index = Indexed(triples)
    strip, added = set(), []
    for node in line_nodes:
        quantity = _quantity(index, node)
        qv = index.first(node, T.hasQuantity)
        strip.add((node, T.quantity))
        if quantity is None:
            continue
        if qv is None:
            qv = BlankNode()
            added += [Triple(node, T.hasQuantity, qv), Triple(qv, RDF_TYPE, T.QuantitativeValue)]
        elif not index.has(Triple(qv, RDF_TYPE, T.QuantitativeValue)):
            added.append(Triple(qv, RDF_TYPE, T.QuantitativeValue))
        strip.add((qv, T.value))
        added += [Triple(qv, T.value, as_term(quantity)), Triple(node, T.quantity, as_term(quantity))]
    return [t for t in triples if (t.subject, t.predicate) not in strip] + added


def _person(triples, order, line_nodes, ns: docs.Namespace, base_url: str, pseudonym=None):
    """The buyer when it is a person the payload describes or names (app/domain/personal.py):
    (IRI, its triples, node as sent)."""
    node = buyer(triples, order)
    if node is None or not personal.is_person(triples, node, ns, base_url):
        return None
    if node == order or node in line_nodes:
        raise ShapeViolation("an order cannot be bought by itself or one of its lines", violations=[violation(
            order, T.orderedBy, node, "dfc-b:orderedBy names the buyer: an enterprise, or a person")])
    persons = ns.iri + "/" + personal.PERSONS
    if isinstance(node, BlankNode) or docs.is_placeholder(node, persons):
        iri = NamedNode(f"{persons}/{secrets.token_hex(6)}")
    else:
        iri = personal.person_iri(node, ns, base_url)    # a person IRI of this hub's: the same person again
    if iri is None:
        # Another platform's id for the person (perhaps a mailto:) is neither ours to write
        # nor safe to show: the hub keeps a stable, keyed pseudonym of it, in its own namespace.
        if pseudonym is None:
            raise BadRequest("a person another platform names cannot be stored here", pointer="/orderedBy")
        iri = pseudonym(persons, node.value)
    described = list(dict.fromkeys([*subtree(triples, node), Triple(node, RDF_TYPE, T.Person)]))
    return iri, docs.rename(described, {node: iri}), node


def set_status(triples, order, new_status: NamedNode) -> list[Triple]:
    """The document with an order status and the fulfilment status that goes with it."""
    fulfilment = {T.Held: T.Held, T.Complete: T.Unfulfilled, T.Cancelled: T.Cancelled}.get(new_status)
    current = first(triples, order, T.hasFulfilmentStatus)
    out = without(triples, order, {T.hasOrderStatus})
    out.append(Triple(order, T.hasOrderStatus, new_status))
    # A fulfilment status the client set later in the lifecycle (Fulfilled) is kept.
    if fulfilment is not None and (current is None or current in (T.Held, T.Unfulfilled, T.Cancelled)):
        out = without(out, order, {T.hasFulfilmentStatus}) + [Triple(order, T.hasFulfilmentStatus, fulfilment)]
    return out


def set_quantity(triples, line, quantity: Decimal) -> list[Triple]:
    """The document with a line's quantity changed: dfc-b:hasQuantity's value (in the line's unit),
    and the literal the DFC connector reads (quantities_as_values)."""
    qv = first(triples, line, T.hasQuantity)
    out = without(triples, line, {T.quantity})
    out.append(Triple(line, T.quantity, as_term(quantity)))
    if qv is None:
        qv = BlankNode()
        out += [Triple(line, T.hasQuantity, qv), Triple(qv, RDF_TYPE, T.QuantitativeValue)]
    out = [t for t in out if not (t.subject == qv and t.predicate == T.value)]
    out.append(Triple(qv, T.value, as_term(quantity)))
    return out


def drop_line(triples, order, line) -> list[Triple]:
    gone = {t.subject for t in subtree(triples, line)}
    return [t for t in triples if t.subject not in gone and not (t.subject == order and t.object == line)]


def line_triples(triples, line) -> list[Triple]:
    return subtree(triples, line)


def line_from_payload(triples: list[Triple], line: NamedNode) -> list[Triple]:
    """The one line a payload describes, under the line's own IRI (PUT on a line)."""
    nodes = [n for n in subjects(triples, RDF_TYPE, T.OrderLine)] or \
        [s for s in dict.fromkeys(t.subject for t in triples) if s == line]
    if len(nodes) != 1:
        raise BadRequest(f"the payload must describe exactly one dfc-b:OrderLine, it describes {len(nodes)}")
    node = nodes[0]
    if isinstance(node, NamedNode) and node != line and not node.value.endswith("#"):
        raise BadRequest(f"the payload describes {node.value}, not {line.value}", pointer="/@id")
    return docs.rename(subtree(triples, node), {node: line})


def replace_line(triples, order, line, sent: list[Triple]) -> list[Triple]:
    """The order document with one line replaced by what a client sent for it."""
    return [*drop_line(triples, order, line), Triple(order, T.hasPart, line), *sent]


