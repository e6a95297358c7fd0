"""Nothing that leaves the hub names a customer (API.md "Personal data"): wholesale orders as the
producer reads them, analysts' SPARQL over every graph they may see, the session summary,
webhook deliveries and event logs, and every call to a partner platform.

Two customers buy at hub A in full detail (name, email, phone, address; one of them named by
another platform's `mailto:` IRI; notes naming them on an order and on lines); every output is
scanned
with tests/support/leaks.py. The scan itself is shown to find what it looks for.
"""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import ADMIN, make_app, token_for
from support.leaks import BARNABE, ZEPHYRINE, assert_no_personal_data, checkout_by, findings, spellings, stored
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


def test_webhooks_and_event_logs_name_no_customer():
    """Every event of the session (the close, the wholesale order placed at the farm, its status)
    as delivered to real receivers of the farm and the hub, and as their event logs show it."""
    from app.events import outbox as events
    from support.webhook_receiver import receiving

    client = make_app(clock=ManualClock(MONDAY), webhook_allow_private=True).test_client()
    hub_a = token_for(client, HUB_A)
    with receiving() as receiver:
        for eid in ("jean-farm", "hub-a"):
            r = client.post(f"/api/dfc/enterprises/{eid}/webhooks", headers={"Authorization": f"Bearer {ADMIN}"},
                            json={"url": receiver.url, "events": list(events.TYPES)})
            assert r.status_code == 201, r.get_data(as_text=True)
        gift = {"dfc-b:description": f"for {ZEPHYRINE.first_name}"}
        assert checkout_by(client, hub_a, ZEPHYRINE, (CARROTS_AT_A, 2, gift), note=ZEPHYRINE.phone).status_code == 201
        assert checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1), buyer=f"mailto:{BARNABE.email}").status_code == 201
        assert client.post(f"{SESSION}/close", headers=hub_a).status_code == 200
        client.application.extensions["dfc_hub"].dispatcher.drain()
        got = receiver.wait_for(3)
        assert {d.json()["type"] for d in got} >= {"procurement.order_received", "dfc.sale_session_closed"}
        for delivery in got:
            assert_no_personal_data(repr(delivery.headers).encode() + delivery.body, CUSTOMERS, "a webhook")
    for eid in ("jean-farm", "hub-a"):
        log = _get(client, f"/api/dfc/enterprises/{eid}/events", {"Authorization": f"Bearer {ADMIN}"}, "application/json")
        assert b"evt_" in log
        assert_no_personal_data(log, CUSTOMERS, f"{eid}'s event log")


def test_partner_calls_name_no_customer(tmp_path):
    """Checkouts with a line on a partner platform (a second server of ours on loopback, behind a
    proxy that keeps every request the hub sends it), a cancellation and the session close:
    no request carries a customer, and nothing of theirs reaches the partner's store."""
    import requests

    from support.faulty_proxy import FaultyProxy
    from support.threaded_server import serving

    clock = ManualClock(MONDAY)
    admin_h = {"Authorization": f"Bearer {ADMIN}"}
    proxy = FaultyProxy()
    proxy.start()
    jean_app = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'jean'}", public_base_url=proxy.url)

    def put(http, iri, node):
        r = http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers=admin_h)
        assert r.status_code in (200, 201), r.text
    try:
        with serving(lambda base: jean_app) as jean_base, \
                serving(lambda base: make_app(demo=False, clock=clock, public_base_url=base,
                                              webhook_allow_private=True)) as hub:
            proxy.target = jean_base
            http = requests.Session()
            jean = f"{proxy.url}/api/dfc/enterprises/jean-farm"
            put(http, jean, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Jean"})
            put(http, f"{jean}/supplied_products/beets", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "beets"})
            put(http, f"{jean}/catalog_items/beets", {"@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 50,
                                                      "dfc-b:references": f"{jean}/supplied_products/beets"})
            put(http, f"{jean}/offers/beets", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{jean}/catalog_items/beets",
                                               "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2,
                                                                  "dfc-b:hasUnit": "dfc-m:Euro"}})
            hub_a = f"{hub}/api/dfc/enterprises/hub-a"
            put(http, hub_a, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"})
            put(http, f"{hub_a}/sale_sessions/week-48", {
                "@type": "dfc-b:SaleSession", "dfc-b:startDate": (MONDAY - dt.timedelta(hours=1)).isoformat(),
                "dfc-b:endDate": (MONDAY + dt.timedelta(days=4)).isoformat()})
            put(http, f"{hub_a}/catalog_items/remote-beets", {"@type": "dfc-b:CatalogItem",
                                                              "dfc-b:references": f"{jean}/supplied_products/beets"})
            put(http, f"{hub_a}/offers/remote-beets", {"@type": "dfc-b:Offer",
                                                       "dfc-b:offeredItem": f"{hub_a}/catalog_items/remote-beets",
                                                       "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 3,
                                                                          "dfc-b:hasUnit": "dfc-m:Euro"}})
            partner_token = http.post(f"{proxy.url}/api/admin/tokens", json={"agent": hub_a, "scopes": []},
                                      headers=admin_h).json()["token"]
            r = http.put(f"{hub_a}/partners/jean", headers=admin_h, json={
                "enterprise": jean, "catalog": f"{jean}/catalog", "orders": f"{jean}/orders", "token": partner_token})
            assert r.status_code == 201, r.text
            assert http.post(f"{hub_a}/partners/jean/sync", headers=admin_h).status_code == 200
            remote = f"{hub_a}/offers/remote-beets"

            def buy(person, quantity, status="dfc-v:Held", order="#", buyer="_:buyer"):
                line = {"@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity, "dfc-b:concerns": remote,
                        "dfc-b:description": f"for {person.first_name}"}
                doc = {"@context": CTX, "@graph": [
                    {"@id": order, "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer, "dfc-b:hasOrderStatus": status,
                     "dfc-b:description": person.phone, "dfc-b:belongsTo": f"{hub_a}/sale_sessions/week-48",
                     "dfc-b:hasPart": line}, person.jsonld(buyer)]}
                send = http.put if order != "#" else http.post
                r = send(order if order != "#" else f"{hub_a}/orders", json=doc, headers=admin_h)
                assert r.status_code in (200, 201), r.text
                return r.headers.get("Location", order)
            zephyrine = buy(ZEPHYRINE, 3)
            buy(BARNABE, 2, buyer=f"mailto:{BARNABE.email}")
            buy(ZEPHYRINE, 3, status="dfc-v:Cancelled", order=zephyrine)         # shrinks the partner's order
            assert http.post(f"{hub_a}/sale_sessions/week-48/close", headers=admin_h).status_code == 200
        calls = [method for method, path in proxy.seen if "/jean-farm/orders" in path]
        assert "POST" in calls and calls.count("PUT") >= 2, proxy.seen      # placed, shrunk, completed
        for sent in proxy.sent:
            assert_no_personal_data(sent, CUSTOMERS, "a call to the partner")
        jean_store = jean_app.extensions["dfc_hub"].store
        assert [n for n in (ZEPHYRINE, BARNABE) if stored(jean_store, n)] == []
    finally:
        proxy.stop()
