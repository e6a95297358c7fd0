"""`bind`: values become single terms, and only real variables are replaced."""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pyoxigraph as ox
import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.queries import as_term, bind, load

XSD = "http://www.w3.org/2001/XMLSchema#"
IRI = NamedNode("http://example.org/x")


def typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + datatype))


def evaluate(query: str, bindings: dict) -> list[dict]:
    """Bind, then let Oxigraph parse and run the text (on an empty store)."""
    solutions = ox.Store().query(bind(query, bindings))
    names = [v.value for v in solutions.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in solutions]


def test_question_mark_and_dollar_variables_are_both_replaced():
    assert bind("SELECT * WHERE { ?x ?p $x }", {"x": IRI}) == \
        "SELECT * WHERE { <http://example.org/x> ?p <http://example.org/x> }"


def test_a_binding_name_may_carry_its_sigil():
    assert bind("ASK { ?x ?p ?o }", {"?x": IRI}) == bind("ASK { ?x ?p ?o }", {"$x": IRI}) == \
        "ASK { <http://example.org/x> ?p ?o }"


def test_no_bindings_leaves_the_text_alone():
    text = "SELECT * WHERE { ?s ?p ?o }"
    assert bind(text, None) is text
    assert bind(text, {}) is text


@pytest.mark.parametrize("template", [
    "<http://example.org/a?x=1>",
    "<http://example.org/a#$x>",
    "<./rel?x>",
    '"?x and $x"',
    "'?x and $x'",
    '"escaped \\" quote ?x"',
    "'escaped \\' quote ?x'",
    '"""long\n?x "quoted" ""?x\n"""',
    "'''long\n?x 'quoted' ''?x\n'''",
    "# a comment about ?x and $x",
    "ex:?x".replace("?x", "local"),  # prefixed names carry no variables
])
def test_variables_inside_iris_strings_and_comments_are_left_alone(template):
    assert bind(template, {"x": IRI}) == template


def test_replacement_resumes_after_a_string_or_comment():
    text = 'SELECT * { ?s ?p "a \\"?x\\" b" # ?x\n ?s ?q ?x }'
    assert bind(text, {"x": 1}) == \
        'SELECT * { ?s ?p "a \\"?x\\" b" # ?x\n ?s ?q "1"^^<http://www.w3.org/2001/XMLSchema#integer> }'


def test_a_variable_that_prefixes_another_is_not_confused():
    out = bind("?order ?o ?o_ $orders ?oé ?o·x", {"o": IRI})
    assert out == "?order <http://example.org/x> ?o_ $orders ?oé ?o·x"
    assert bind("?order ?o", {"order": 1, "o": 2}) == \
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer> "2"^^<http://www.w3.org/2001/XMLSchema#integer>'


def test_comparison_operators_are_not_read_as_iris():
    rows = evaluate("SELECT ?r WHERE { BIND(?a<?b&&?c>?d AS ?r) }", {"a": 1, "b": 2, "c": 4, "d": 3})
    assert rows == [{"r": typed("true", "boolean")}]
    rows = evaluate("SELECT ?r WHERE { BIND(?a<=?b AS ?r) }", {"a": 3, "b": 2})
    assert rows == [{"r": typed("false", "boolean")}]


NASTY_STRINGS = [
    'quote " inside',
    '"} ; DROP ALL ; INSERT DATA {',
    "'} ; DROP ALL ; INSERT DATA { # '",
    "} } ; CLEAR ALL",
    "?x $x <http://example.org/x> # not a comment",
    "new\nline\r\nand\ttab",
    'triple """ and \'\'\' quotes',
    "back\\slash \\\" \\n \\u0041 (escapes stay text)",
    "unicode é ß 🥕 \u2028 \u2029 \u0085",
    "".join(chr(c) for c in range(1, 32)),
    "",
]


@pytest.mark.parametrize("value", NASTY_STRINGS)
def test_a_string_always_becomes_exactly_one_literal(value):
    rows = evaluate("SELECT ?w ?n WHERE { BIND(?v AS ?w) BIND(STRLEN(?v) AS ?n) }", {"v": value})
    assert rows == [{"w": Literal(value), "n": typed(str(len(value)), "integer")}]


def test_an_injection_attempt_stays_inside_its_literal_in_an_update():
    store = ox.Store()
    store.update('INSERT DATA { <http://example.org/keep> <http://example.org/p> "kept" }')
    store.update(bind("INSERT DATA { ?s ?p ?v }", {"s": IRI, "p": IRI, "v": '"} ; DROP ALL ; INSERT DATA {'}))
    assert len(store) == 2
    assert Literal('"} ; DROP ALL ; INSERT DATA {') in {q.object for q in store}


@pytest.mark.parametrize(("value", "term"), [
    (IRI, IRI),
    ("text", Literal("text")),
    (True, typed("true", "boolean")),
    (0, typed("0", "integer")),
    (-12, typed("-12", "integer")),
    (10**30, typed(str(10**30), "integer")),
    (Decimal("0.10"), typed("0.10", "decimal")),
    (Decimal("1E+3"), typed("1000", "decimal")),
    (1.5, typed("1.5", "double")),
    (math.inf, typed("INF", "double")),
    (-math.inf, typed("-INF", "double")),
    (dt.datetime(2024, 8, 22, 5, 40, 38, tzinfo=dt.timezone(dt.timedelta(hours=2))),
     typed("2024-08-22T05:40:38+02:00", "dateTime")),
    (dt.datetime(2024, 8, 22, 5, 40), typed("2024-08-22T05:40:00", "dateTime")),
    (dt.date(2024, 8, 22), typed("2024-08-22", "date")),
])
def test_python_values_become_typed_terms(value, term):
    assert as_term(value) == term
    rows = evaluate("SELECT ?w WHERE { BIND(?v AS ?w) }", {"v": value})
    assert rows[0]["w"].datatype == term.datatype if isinstance(term, Literal) else rows[0]["w"] == term


def test_nan_is_the_xsd_spelling():
    assert as_term(math.nan) == typed("NaN", "double")


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity")])
def test_decimals_without_a_value_are_refused(value):
    with pytest.raises(ValueError):
        as_term(value)


@pytest.mark.parametrize("value", [None, object(), b"bytes", {1}, [None]])
def test_other_python_values_are_refused(value):
    with pytest.raises(TypeError):
        bind("ASK { ?s ?p ?v }", {"v": value})


def test_a_list_binds_the_rows_of_values():
    hostile = 'x" } } ; DROP ALL ; #'
    rows = evaluate("SELECT ?w WHERE { VALUES ?w { $list } }", {"list": [NamedNode("urn:a"), hostile, 3]})
    assert [r["w"] for r in rows] == [NamedNode("urn:a"), Literal(hostile), typed("3", "integer")]
    assert evaluate("SELECT ?w WHERE { VALUES ?w { $list } }", {"list": []}) == []


def test_a_list_of_tuples_binds_one_row_per_tuple():
    hostile = 'x" ) } } ; DROP ALL ; #'
    rows = evaluate("SELECT ?a ?b WHERE { VALUES (?a ?b) { $rows } }",
                    {"rows": [(NamedNode("urn:a"), 1), (hostile, NamedNode("urn:b"))]})
    assert rows == [{"a": NamedNode("urn:a"), "b": typed("1", "integer")},
                    {"a": Literal(hostile), "b": NamedNode("urn:b")}]


def test_none_in_a_row_leaves_that_variable_unbound_and_an_insert_writes_nothing_of_it():
    rows = evaluate("SELECT ?a ?b WHERE { VALUES (?a ?b) { $rows } }", {"rows": [(NamedNode("urn:a"), None)]})
    assert rows == [{"a": NamedNode("urn:a")}]
    store = ox.Store()
    store.update(bind("INSERT { ?a <urn:p> ?b ; <urn:q> 1 } WHERE { VALUES (?a ?b) { $rows } }",
                      {"rows": [(NamedNode("urn:a"), None), (NamedNode("urn:c"), "x")]}))
    assert sorted(str(q) for q in store) == sorted([
        '<urn:a> <urn:q> "1"^^<http://www.w3.org/2001/XMLSchema#integer>',
        '<urn:c> <urn:p> "x"', '<urn:c> <urn:q> "1"^^<http://www.w3.org/2001/XMLSchema#integer>'])


def test_no_two_queries_share_a_name():
    # load() takes the .rq before the .ru: a second file of the same name would never be read.
    from importlib import resources
    names = [p.name.rsplit(".", 1)[0] for p in resources.files("app.queries").iterdir() if p.name.endswith((".rq", ".ru"))]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_blank_nodes_cannot_be_bound():
    # `_:b` in a pattern is a fresh variable: binding it would silently match anything.
    with pytest.raises(TypeError):
        bind("ASK { ?s ?p ?o }", {"s": BlankNode()})
    with pytest.raises(TypeError):
        bind("ASK { ?s ?p ?o }", {"o": Triple(BlankNode(), IRI, IRI)})


def test_a_triple_term_is_written_as_a_triple_term():
    t = Triple(IRI, IRI, Literal("x"))
    rows = evaluate("SELECT ?w WHERE { BIND(?v AS ?w) }", {"v": t})
    assert rows == [{"w": t}]


def test_load_refuses_an_unknown_name():
    with pytest.raises(KeyError):
        load("no/such/query")


def test_an_operation_sent_with_every_request_goes_without_its_comments():
    # Lock operations and the commit marker ride along every remote commit and renewal.
    from app.queries import operation
    for name in ("lock_fence", "lock_renew", "commit_marker"):
        text = operation(name)
        assert load(name).lstrip().startswith("#") and "#" not in [line.lstrip()[:1] for line in text.splitlines()]
        assert text.strip() and text.strip() in load(name)
