"""What is a person's: who is one, and what a customer's order may say and still reach analysts.

Both are decided by allowing, because a list of what is personal misses the next vocabulary
(a `foaf:mbox`, a `schema:telephone`, an `rdfs:comment` once passed such lists).

A checkout's buyer is an enterprise only when it is named as one: by an IRI typed
`dfc-b:Enterprise` (and no person type), or by one of this server's enterprise IRIs. Any
other buyer the payload says anything about, in any vocabulary, is a person, and so are
buyers named by an IRI that says who they are (`mailto:`, `tel:`) or that lies in an
enterprise's persons' collection here, described or not (`is_person`).

A customer's order enters the analysts' dataset only if every statement in it is one of those
known to say nothing about the customer (`CUSTOMER_ORDER_TERMS`: a term with the kinds of value
it may have); anything else, a note in any vocabulary, a string where a date belongs, keeps the
whole order out (app/queries/analyst_graphs.rq).
"""
from __future__ import annotations

import datetime as dt
import re

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.domain import documents as docs
from app.domain.statuses import HOLD_EXPIRED
from app.rdf.checks import LEXICAL
from app.namespaces import FOAF, RDF_TYPE, SCHEMA, SCHEMA_HTTPS, TRUE, VCARD, W3C_PERSON, XSD, T

# Classes of people in the vocabularies platforms use: a node typed so is a person, whatever
# else it is typed (a sole trader sent as Person and Enterprise keeps their details private).
PERSON_TYPES = frozenset({T.Person, NamedNode(FOAF + "Person"), NamedNode(SCHEMA + "Person"),
                          NamedNode(SCHEMA_HTTPS + "Person"), NamedNode(VCARD + "Individual"),
                          NamedNode(W3C_PERSON + "Person")})
# IRI schemes that are a person's contact, not an identifier of an enterprise.
CONTACT_SCHEMES = ("mailto:", "tel:")
CONTACT_PATTERN = "^(" + "|".join(s.rstrip(":") for s in CONTACT_SCHEMES) + "):"    # in SPARQL
PERSONS = "persons"      # the collection under an enterprise that holds its customers
# What follows `{hub}/persons/` in a person IRI the server mints or accepts back.
PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_person(triples, node, ns: docs.Namespace, base_url: str) -> bool:
    """Tell whether an order's buyer is a person the payload describes or names.

    This hub's own person IRI sent alone (a returning customer named by IRI) is not: the order
    book finds that person in the store, and keeps what it holds of them. Any other IRI in a
    persons' collection (another hub's, a placeholder, one no person could have) is.
    """
    if node is None:
        return False
    about = [t for t in triples if t.subject == node]
    types = {t.object for t in about if t.predicate == RDF_TYPE}
    if types & PERSON_TYPES:
        return True
    if isinstance(node, NamedNode):
        if node.value.lower().startswith(CONTACT_SCHEMES) or is_persons_iri(node, base_url):
            return bool(about) or person_iri(node, ns, base_url) is None
        if T.Enterprise in types or docs.is_enterprise(node.value, base_url):
            return False
    return bool(about)


def is_persons_iri(node, base_url: str) -> bool:
    """Tell whether an IRI lies in some enterprise's persons' collection on this server."""
    if not isinstance(node, NamedNode) or docs.enterprise_of(node.value, base_url) is None:
        return False
    parts = node.value[len(base_url + "/api/dfc/"):].split("/")    # enterprises/{eid}/persons…
    return len(parts) > 2 and parts[2] == PERSONS


def person_iri(node, ns: docs.Namespace, base_url: str) -> NamedNode | None:
    """The IRI as the server gives persons (`{hub}/persons/{id}`, nothing deeper), or None.

    Any other IRI a client gives a person (a catalogue item, another customer's order) is
    pseudonymised instead: writing the person there would replace that document (issue 9).
    """
    if not isinstance(node, NamedNode):
        return None
    for spelling in docs.variants(node.value, base_url):
        head, _, pid = spelling.rpartition("/")
        if head == ns.iri + "/" + PERSONS and PERSON_ID.fullmatch(pid):
            return NamedNode(spelling)
    return None


# The kinds of value a statement may have (app/queries/analyst_graphs.rq names each value's
# kind alike): an IRI (not an email's or phone number's), a blank node, a valid number (of any
# XSD numeric type), date-time, date or boolean. A string is no kind: only the exact strings
# listed are allowed.
IRI, NODE = NamedNode("urn:x-dfc-hub:kind:iri"), NamedNode("urn:x-dfc-hub:kind:blank-node")
NUMBER, INSTANT, DAY, BOOLEAN = (NamedNode(XSD + n) for n in ("decimal", "dateTime", "date", "boolean"))

# What a customer's order may state and still reach analysts: each term, with the kinds of its
# values (for rdf:type, the types). Listed because they say what was bought, when, where and
# at what price, never who bought it; its buyer is the server's pseudonym, which the query checks.
CUSTOMER_ORDER_TERMS: dict[NamedNode, tuple] = {
    RDF_TYPE: (T.Order, T.OrderLine, T.Price, T.QuantitativeValue, T.StatusChange),
    # DFC's terms of an order, its lines, their quantities and prices.
    T.orderedBy: (IRI,), T.soldBy: (IRI,), T.belongsTo: (IRI,), T.hasOrderStatus: (IRI,),
    T.hasFulfilmentStatus: (IRI,), T.date: (INSTANT, DAY), T.discount: (NUMBER,), T.hasPart: (IRI,),
    T.concerns: (IRI,), T.quantity: (NUMBER,), T.hasQuantity: (NODE,), T.hasPrice: (NODE,),
    T.value: (NUMBER,), T.hasUnit: (IRI,), T.VATrate: (NUMBER,),
    # Ours (ontology/hub.ttl): what the server notes of a checkout, and a hold's end.
    T.customerOrder: (BOOLEAN,), T.holdUntil: (INSTANT,), T.status: (IRI,), T.supplier: (IRI,),
    T.product: (IRI,), T.unitWeight: (NUMBER,), T.stockItem: (IRI,), T.wholesaleLine: (IRI,),
    T.contribution: (NUMBER,), T.statusChange: (IRI,), T.fromStatus: (IRI,), T.toStatus: (IRI,),
    T.changedBy: (IRI,), T.changedAt: (INSTANT,),
    # The server's own words when it ends a hold; any other reason is free text.
    T.reason: (Literal(HOLD_EXPIRED),),
}


def customer_order_rows() -> list[tuple]:
    """CUSTOMER_ORDER_TERMS as (term, kind) rows, for `VALUES (?p ?kind)`."""
    return [(term, kind) for term, kinds in CUSTOMER_ORDER_TERMS.items() for kind in kinds]


def is_customer_order(triples) -> bool:
    """Tell whether a document is a customer's order (the server marks each hub:customerOrder)."""
    return any(t.predicate == T.customerOrder and t.object == TRUE for t in triples)


def says_nothing(triple: Triple) -> bool:
    """Tell whether a statement of a customer's order is one CUSTOMER_ORDER_TERMS allows, as
    analyst_graphs.rq judges it (tests/test_personal.py holds the two to the same answers)."""
    return kind(triple) in CUSTOMER_ORDER_TERMS.get(triple.predicate, ())


def kind(triple: Triple):
    """The kind of a statement's value: the type itself for rdf:type, else IRI, NODE, NUMBER,
    INSTANT, DAY or BOOLEAN for a value of that kind, and the value itself for anything else."""
    value = triple.object
    if triple.predicate == RDF_TYPE:
        return value
    if isinstance(value, NamedNode):
        return value if value.value.lower().startswith(CONTACT_SCHEMES) else IRI
    if isinstance(value, BlankNode):
        return NODE
    if not isinstance(value, Literal):
        return value
    datatype, text = value.datatype.value, value.value
    if datatype in _NUMERIC and _NUMERIC[datatype].fullmatch(text):
        return NUMBER
    valid = {INSTANT.value: _instant, DAY.value: _day, BOOLEAN.value: lambda v: v in ("true", "false", "1", "0")}
    check = valid.get(datatype)
    return NamedNode(datatype) if check is not None and check(text) else value


# XSD's numeric datatypes, and the lexical forms Oxigraph reads as numbers (isNumeric): more than
# app/rdf/checks.py's LEXICAL lets in (Oxigraph takes "-1"^^xsd:nonNegativeInteger as a number),
# and the query's verdict is what this must agree with (tests/test_personal.py).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_FLOAT = re.compile(r"[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|INF)|NaN")
_NUMERIC = {XSD + "decimal": _DECIMAL, XSD + "double": _FLOAT, XSD + "float": _FLOAT,
            **{XSD + n: _INTEGER for n in ("integer", "nonPositiveInteger", "negativeInteger", "long", "int",
                                           "short", "byte", "nonNegativeInteger", "unsignedLong", "unsignedInt",
                                           "unsignedShort", "unsignedByte", "positiveInteger")}}
_ZONE = re.compile(r"(Z|[+-][0-9]{2}:[0-9]{2})?$")


# Dates and instants as Oxigraph casts them: the lexical form our input rules also use, then a
# day the calendar has.
def _instant(text: str) -> bool:
    return _on_the_calendar(text, LEXICAL[INSTANT.value], 19, dt.datetime.fromisoformat)


def _day(text: str) -> bool:
    return _on_the_calendar(text, LEXICAL[DAY.value], 10, dt.date.fromisoformat)


def _on_the_calendar(text: str, form: re.Pattern, width: int, read) -> bool:
    if not form.fullmatch(text):
        return False
    try:
        read(_ZONE.sub("", text)[:width])
    except ValueError:
        return False
    return True
