"""What a customer's order may say and still reach analysts, judged alike in SPARQL and in Python.

app/queries/analyst_graphs.rq keeps an order out of the analysts' dataset when one of its
statements is not allowed; erasure (app/domain/erasure.py) drops the same statements with
`personal.says_nothing`. Were the two to disagree, an erased order would keep what analysts may
not see, or lose what they count. Each statement below goes into an order of its own in a
store, and the query's verdict is the function's.
"""
from __future__ import annotations

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from app import queries
from app.analytics import dataset_bindings
from app.domain import personal
from app.namespaces import DFC_M, RDF_TYPE, RDFS, TRUE, XSD, T, b
from app.store import open_store
from support.orders import MONDAY

API = "http://hub.test/api/dfc/"


def typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + datatype))


# The demo's Monday, whatever year the tests run in: its day, and a month no calendar has.
DAY = MONDAY.date().isoformat()
NO_MONTH = f"{MONDAY.year}-13-{MONDAY.day:02d}"


SAMPLES = [
    (T.quantity, typed("2", "decimal")), (T.quantity, typed("+2.50", "decimal")), (T.quantity, typed("2", "integer")),
    (T.quantity, typed("1e3", "double")), (T.quantity, typed("7", "byte")), (T.quantity, typed("Ali", "decimal")),
    (T.quantity, typed("2.5", "integer")), (T.quantity, Literal("2")), (T.quantity, NamedNode("http://x.example/2")),
    (T.date, typed(f"{DAY}T10:00:00Z", "dateTime")), (T.date, typed(f"{DAY}T10:00:00.5+01:00", "dateTime")),
    (T.date, typed(f"{DAY}T10:00:00", "dateTime")), (T.date, typed(DAY, "date")),
    (T.date, typed(NO_MONTH, "date")), (T.date, typed("3 rue des Lilas", "dateTime")),
    (T.date, Literal("3 rue des Lilas")), (T.date, Literal(f"{DAY}T10:00:00Z")),
    (T.customerOrder, typed("true", "boolean")), (T.customerOrder, typed("yes", "boolean")),
    (T.customerOrder, Literal("true")),
    (T.reason, Literal("hold expired")), (T.reason, Literal("hold expired", language="en")),
    (T.reason, Literal("Ali Ben Salah")),
    (T.hasUnit, NamedNode(DFC_M + "Euro")), (T.hasUnit, NamedNode("mailto:ali@example.org")),
    (T.hasUnit, NamedNode("MAILTO:ali@example.org")), (T.hasUnit, NamedNode("tel:+33647298153")),
    (T.hasUnit, typed("1", "decimal")),
    (T.hasPrice, BlankNode("price")), (T.hasPrice, NamedNode("http://x.example/price")),
    (RDF_TYPE, T.Order), (RDF_TYPE, T.StatusChange), (RDF_TYPE, NamedNode("http://schema.org/Order")),
    (NamedNode(RDFS + "comment"), Literal("door code 4711")), (b("orderNumber"), Literal("17")),
    (b("description"), Literal("ring twice")),
]


@pytest.fixture(scope="module")
def verdicts():
    """The query's verdict on each sample: the orders the analysts' dataset keeps."""
    store = open_store("memory:")
    quads = []
    for i, (predicate, value) in enumerate(SAMPLES):
        order = NamedNode(f"{API}enterprises/hub-a/orders/{i}")
        # Said of a line: a type on the order itself would make it another kind of document.
        line = NamedNode(f"{order.value}/order_lines/1")
        for triple in (Triple(order, RDF_TYPE, T.Order), Triple(order, T.customerOrder, TRUE),
                       Triple(order, T.hasPart, line), Triple(line, predicate, value)):
            quads.append(Quad(triple.subject, triple.predicate, triple.object, order))
    store.bulk_load(quads)
    allowed = {r["g"].value for r in store.select(queries.load("analyst_graphs"), dataset_bindings(API))}
    return {i: f"{API}enterprises/hub-a/orders/{i}" in allowed for i in range(len(SAMPLES))}


@pytest.mark.parametrize("i", range(len(SAMPLES)), ids=[f"{p.value.rsplit('#', 1)[-1]} {v}" for p, v in SAMPLES])
def test_the_query_and_the_function_judge_each_statement_alike(verdicts, i):
    predicate, value = SAMPLES[i]
    assert personal.says_nothing(Triple(NamedNode("http://hub.test/o"), predicate, value)) is verdicts[i]


def test_the_samples_hold_both_verdicts():
    assert len(set(personal.says_nothing(Triple(NamedNode("http://hub.test/o"), p, v)) for p, v in SAMPLES)) == 2
