"""Nothing that leaves the hub names a customer (API.md "Personal data"): wholesale orders as the
producer reads them, analysts' SPARQL over every graph they may see, the session summary.

Two customers buy at hub A in full detail (name, email, phone, address; one of them named by
another platform's `mailto:` IRI; notes naming them on an order and on lines); every output is
scanned
with tests/support/leaks.py. The scan itself is shown to find what it looks for.
"""
from __future__ import annotations

import pytest

from conftest import ADMIN, make_app, token_for
from support.leaks import BARNABE, ZEPHYRINE, assert_no_personal_data, checkout_by, findings, spellings
from support.orders import CTX, HUB_A, JEAN, MONDAY, main_node, path_of
from app.domain.clock import ManualClock

CARROTS_AT_A = f"{HUB_A}/offers/jean-carrots"
SESSION = "/api/dfc/enterprises/hub-a/sale_sessions/week-48"
EVERY_GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
EVERY_LITERAL = "SELECT ?g ?s ?p ?o WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } FILTER(isLiteral(?o)) }"
CUSTOMERS = [*ZEPHYRINE.values(), *BARNABE.values()]


@pytest.fixture(scope="module")
def sold():
    """Hub A's session with both customers' checkouts; tokens of hub A, Jean's farm, an analyst."""
    client = make_app(clock=ManualClock(MONDAY)).test_client()
    hub_a = token_for(client, HUB_A)
    gift = {"dfc-b:description": f"a gift for {ZEPHYRINE.first_name}, {ZEPHYRINE.street}"}
    zephyrine = checkout_by(client, hub_a, ZEPHYRINE, (CARROTS_AT_A, 2, gift),
                            note=f"{ZEPHYRINE.first_name} {ZEPHYRINE.family_name} collects; {ZEPHYRINE.phone}",
                            **{"Idempotency-Key": "leaks-1"})
    barnabe = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1, {"dfc-b:description": f"{BARNABE.family_name}'s"}),
                          buyer=f"mailto:{BARNABE.email}")
    assert (zephyrine.status_code, barnabe.status_code) == (201, 201), barnabe.get_data(as_text=True)
    return client, {"hub": hub_a, "jean": token_for(client, JEAN),
                    "analyst": token_for(client, "https://analysts.example/ana", ["Analytics"]),
                    "admin": {"Authorization": f"Bearer {ADMIN}"}}, \
        [path_of(r.headers["Location"]) for r in (zephyrine, barnabe)]


def _get(client, path, token, accept="application/ld+json", **kw):
    r = client.get(path, headers={**token, "Accept": accept}, **kw)
    assert r.status_code == 200, (path, r.get_data(as_text=True))
    return r.get_data()


def test_the_customers_are_in_the_hubs_own_orders_so_the_scan_has_something_to_miss(sold):
    client, tokens, orders = sold
    person = main_node(client.get(orders[0], headers=tokens["hub"]).get_json())["dfc-b:orderedBy"]
    body = _get(client, path_of(person) + "/export", tokens["hub"])
    assert len(findings(body, ZEPHYRINE)) == len(ZEPHYRINE.values())      # every one of them


@pytest.mark.parametrize("accept", ["application/ld+json", "text/turtle", "application/n-triples"])
def test_the_producer_reads_its_wholesale_orders_without_a_customer_in_them(sold, accept):
    client, tokens, _ = sold
    listing = _get(client, "/api/dfc/enterprises/jean-farm/orders", tokens["jean"], accept)
    assert b"jean-farm/orders/" in listing
    assert_no_personal_data(listing, CUSTOMERS, "the producer's orders")
    [order] = client.get("/api/dfc/enterprises/jean-farm/orders", headers=tokens["jean"]).get_json()["@graph"][:1]
    assert_no_personal_data(_get(client, path_of(order["@id"]), tokens["jean"], accept), CUSTOMERS,
                            "a wholesale order")
    assert_no_personal_data(_get(client, SESSION + "/wholesale_orders", tokens["hub"], accept), CUSTOMERS,
                            "the hub's wholesale orders")


@pytest.mark.parametrize("accept", ["application/ld+json", "text/csv"])
def test_the_session_summary_names_no_customer(sold, accept):
    client, tokens, _ = sold
    body = _get(client, SESSION + "/summary", tokens["hub"], accept)
    assert b"carrots" in body
    assert_no_personal_data(body, CUSTOMERS, "the session summary")


@pytest.mark.parametrize("who", ["analyst", "admin"])
@pytest.mark.parametrize("query,accept", [(EVERY_GRAPH, "text/turtle"), (EVERY_GRAPH, "application/ld+json"),
                                          (EVERY_LITERAL, "application/sparql-results+json"),
                                          (EVERY_LITERAL, "text/csv")])
def test_analysts_find_no_customer_in_any_graph(sold, who, query, accept):
    client, tokens, orders = sold
    body = _get(client, "/sparql", tokens[who], accept, query_string={"query": query})
    assert b"jean-farm" in body                          # the dataset is there, the customers are not
    assert_no_personal_data(body, CUSTOMERS, f"/sparql ({who}, {accept})")


def test_analysts_asking_for_a_customer_by_iri_get_nothing_of_theirs(sold):
    client, tokens, orders = sold
    person = main_node(client.get(orders[0], headers=tokens["hub"]).get_json())["dfc-b:orderedBy"]
    for query in (f"DESCRIBE <{person}>", f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{person}> {{ ?s ?p ?o }} }}",
                  f"DESCRIBE <mailto:{BARNABE.email}>"):
        body = _get(client, "/sparql", tokens["analyst"], "text/turtle", query_string={"query": query})
        assert_no_personal_data(body, CUSTOMERS, query)


def test_the_scan_finds_a_value_however_the_output_spells_it():
    assert findings('{"dfc-b:firstName": "Z\\u00e9phyrine"}', ZEPHYRINE)               # JSON-escaped
    assert findings("to=zephyrine.qv%40example.org&x=1", ZEPHYRINE)                      # URL-encoded
    assert findings("QUARTERON-VASSEUR", ZEPHYRINE)                                      # any case
    for phone in ("+33.6.47.29.81.53", "0033 (6) 47 29 81 53", "06-47-29-81-53"):     # however grouped
        assert findings(f"tel: {phone}", ZEPHYRINE), phone
    assert findings("tel: +33 6 47 29 81 54", ZEPHYRINE) == []
    assert findings(b"Saint-Aubin-des-Ormeaux", ZEPHYRINE)                               # bytes too
    assert findings(f'{{"@context": "{CTX}", "dfc-b:name": "Carrots", "quantity": 85473}}', ZEPHYRINE) == []
    assert "zephyrine.qv%40example.org" in spellings(ZEPHYRINE.email)
    with pytest.raises(AssertionError, match="Quarteron"):
        assert_no_personal_data("Ms Quarteron-Vasseur", ZEPHYRINE)
