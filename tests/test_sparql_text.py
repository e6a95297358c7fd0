"""What app/analytics reads of an analyst's SPARQL text before any store sees it: where a
service could be called (as Oxigraph's parser reads the text, not as our tokens split it), and
escapes that name no character. The endpoint's own tests (tests/test_sparql.py) show that a
refused query reaches no server, embedded or remote.
"""
from __future__ import annotations

import random
import re
import time

import pytest

from app.analytics.service_calls import find
from app.analytics.text import read_query
from app.errors import InvalidQuery, QueryRefused

U = "http://127.0.0.1:9/sparql"
SCHEMA = "PREFIX schema: <http://schema.org/> "


@pytest.mark.parametrize("query, near", [
    # Oxigraph reads keywords in any case, glued to what comes before or after them.
    (f"SELECT * WHERE {{ SERVICESILENT <{U}> {{ }} }}", "SERVICESILENT"),
    (f"SELECT * WHERE {{ ?s ?p ?o OPTIONALSERVICE <{U}> {{ }} }}", "OPTIONALSERVICE"),
    (f"SELECT * WHERE {{ ?a ?b trueSERVICE <{U}> {{ }} }}", "trueSERVICE"),
    (f"select * where {{ ?a ?b 1sErViCe <{U}> {{ }} }}", "sErViCe"),
    (f"SELECT * WHERE {{ ?a ?b <urn:x:o>SERVICE<{U}>{{ }} }}", "SERVICE"),
    # A prefixed name that starts with "service" is the keyword and a prefixed name.
    (f"PREFIX : <{U}#> SELECT * WHERE {{ SERVICE:x {{ }} }}", "SERVICE:x"),
    (f"PREFIX X: <{U}#> SELECT * WHERE {{ serviceX:y {{ }} }}", "serviceX:y"),
    (f"PREFIX silentX: <{U}#> SELECT * WHERE {{ SERVICEsilentX:y {{ }} }}", "SERVICEsilentX:y"),
])
def test_a_keyword_glued_to_a_word_or_a_prefixed_name_is_refused_by_its_token(query, near):
    with pytest.raises(QueryRefused) as refused:
        read_query(query)
    problem = refused.value.problem()
    assert problem["near"] == near and "SERVICE is refused" in problem["detail"]
    assert find(query) is not None          # the text search finds every one of them too


@pytest.mark.parametrize("query", [
    # `<` read as less-than, `#>` then a comment: our tokens saw an IRI `<?b)SERVICE:x#>`.
    f"PREFIX : <{U}#> SELECT * WHERE {{ BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE:x#>\n{{ }} }}",
    # `s:SERVICE:e` is no IRI (`http://aSERVICE:e`: a port that is no number), so Oxigraph reads
    # the prefix `s:` alone, then the keyword, then `:e`.
    f"PREFIX s: <http://a> PREFIX : <{U}#> SELECT * WHERE {{ ?a ?b s:SERVICE:e{{ }} }}",
    # A local name ends before a second dot group: `s:x.y`, `.`, then the keyword.
    f"PREFIX s: <urn:x:> SELECT * WHERE {{ ?a ?b s:x.y.SERVICE<{U}>{{ }} }}",
    # Oxigraph 0.5 leaves `\u0022` alone in a string; replaced first, it opened a long string.
    f'SELECT * WHERE {{ BIND("\\u0022" AS ?q) SERVICE <{U}> {{ }} BIND(""" """ AS ?r) }}',
    # ... and an engine that replaces escapes first reads this one.
    f"SELECT * WHERE {{ \\u0053ERVICE <{U}> {{ }} }}",
    # Comments and new lines anywhere between the keyword and the group.
    f"SELECT * WHERE {{ ?s ?p ?o SERVICE # {{\n# }}\nSILENT#\n\t<{U}>#x\n{{ }} }}",
    f"SELECT * WHERE {{ VALUES ?e {{ <{U}> }}SERVICE $e{{ }} }}",
    f"PREFIX e: <{U}#> SELECT * WHERE {{ ?s ?p ?o }} # SERVICE e:a\\#b{{",
])
def test_a_service_call_our_tokens_cannot_see_is_refused(query):
    with pytest.raises(QueryRefused) as refused:
        read_query(query)
    assert "SERVICE is refused" in refused.value.problem()["detail"]


@pytest.mark.parametrize("query", [
    SCHEMA + "SELECT ?service ?type { ?service schema:serviceType ?type }",
    SCHEMA + "SELECT $service { $service a schema:Service . OPTIONAL { ?x schema:service ?y } }",
    SCHEMA + 'SELECT ?service WHERE { ?service schema:name "SERVICE" } # SERVICE {',
    SCHEMA + "SELECT * WHERE { ?s <urn:x:SERVICE> ?o . <http://schema.org/service#x> ?p ?o }",
    SCHEMA + "SELECT * WHERE { ?s ?p ?o FILTER(?o < ?service || ?o = schema:service) }",
    SCHEMA + "SELECT * WHERE { ?s schema:service ?o # a { in a comment\n }",
    SCHEMA + "SELECT * WHERE { ?s ?p ?o FILTER(?o = <urn:x:services/service-1>) }",
])
def test_a_term_or_a_variable_named_service_is_no_service_call(query):
    assert read_query(query).form == "SELECT"


def test_a_comment_or_string_that_holds_a_whole_service_call_is_refused_too():
    """The price of reading the text as Oxigraph might: we cannot tell which `#` starts a comment."""
    for query in ("SELECT * WHERE { ?s ?p ?o } # SERVICE <x:y> {",
                  'SELECT * WHERE { ?s ?p "SERVICE <x:y> {" }'):
        with pytest.raises(QueryRefused):
            read_query(query)


@pytest.mark.parametrize("escape", ["\\U00110000", "\\UFFFFFFFF", "\\uD800", "\\uDFFF"])
def test_an_escape_that_names_no_character_is_a_400_naming_it(escape):
    with pytest.raises(InvalidQuery) as caught:
        read_query(f'SELECT * WHERE {{ ?s ?p "{escape}" }}')
    problem = caught.value.problem()
    assert caught.value.status == 400 and problem["escape"] == escape and escape in problem["detail"]
    assert read_query('SELECT * WHERE { ?s ?p "\\U0010FFFF\\u00e9" }').form == "SELECT"


# The search written as one backtracking regular expression: quadratic, so only for short texts.
_GAP = r"(?:[ \t\n\r]|#[^\n\r]*[\n\r])*"
_LOCAL = r"(?:[^ \t\n\r#{\\]|\\[\s\S])*"
_CALL = re.compile(r"(?i:service)" + _GAP + r"(?:(?i:silent)" + _GAP + r")?"
                   r"(?:<[^>]*>|[?$][^ \t\n\r#{?$]*|[^ \t\n\r#{<:?$][^ \t\n\r#{<:]*:" + _LOCAL + "|:" + _LOCAL + ")"
                   + _GAP + r"\{")
_NAME = r"[A-Za-z_0-9\u00b7\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u037d\u037f-\u1fff\u200c\u200d\u203f\u2040]"
_IN_A_VARIABLE = re.compile(rf"[?$]{_NAME}*\Z")


def calls_by_regex(text: str) -> bool:
    return any(_CALL.match(text, m.start()) for m in re.finditer("(?i)service", text)
               if not _IN_A_VARIABLE.search(text[:m.start()]))


def test_the_search_finds_what_the_regular_expression_finds():
    rng = random.Random(48)
    parts = ["service", "SERVICE", "Silent", " ", "\n", "\t", "#", "{", "}", "<", ">", "?", "$", ":", "x",
             "\\", ".", "é", "1"]
    found = 0
    for _ in range(20_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 12)))
        expected = calls_by_regex(text)
        assert (find(text) is not None) == expected, text
        found += expected
    assert found > 200


@pytest.mark.parametrize("unit", ["service:", "service#", "serviceX", "service\n#", "<service", "service silent:"])
def test_the_search_takes_linear_time(unit):
    """The backtracking regular expression took 19 s over 100 kB of `service:` (each candidate
    rescans the rest); this search takes about 0.6 s for 1 MB on the machine it was written on."""
    text = unit * (400_000 // len(unit))
    began = time.perf_counter()
    assert find(text) is None
    assert time.perf_counter() - began < 10
