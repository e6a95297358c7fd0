"""A hub's customers: it reads, exports and erases their personal data (API.md "Personal data").

Erasure is checked where it matters: a SPARQL scan over every graph of the store (not the
analyst view) finds none of the person's literals afterwards, and did find them before; their
orders stay and still add up in the session summary.
"""
from __future__ import annotations

import json
import logging
import os

from pyoxigraph import NamedNode

from app.rdf.answer_context import names
from conftest import ADMIN, BASE, make_app, token_for
from support.leaks import BARNABE, ZEPHYRINE, assert_no_personal_data, checkout_by, stored
from support.orders import (HUB_A, HUB_B, JEAN, MONDAY, client, clock, hub_a, hub_b, jean,  # noqa: F401 (fixtures)
                            ledger, main_node, path_of, wholesale_quantities)

PERSONS = "/api/dfc/enterprises/hub-a/persons"
CARROTS_AT_A = f"{HUB_A}/offers/jean-carrots"
SUMMARY = "/api/dfc/enterprises/hub-a/sale_sessions/week-48/summary"
# Every graph that names an IRI, as subject or object.
NAMING = "SELECT DISTINCT ?g WHERE { { GRAPH ?g { ?s ?p ?iri } } UNION { GRAPH ?g { ?iri ?p ?o } } }"


def store_of(client):
    return client.application.extensions["dfc_hub"].store


def literals(client, person) -> set[tuple[str, str]]:
    """(value, graph) for each of the person's values some literal of some graph contains."""
    return stored(store_of(client), person)


def bought(client, token, person=ZEPHYRINE, quantity=2, **kw) -> tuple[str, str]:
    """A checkout by `person`: (their IRI, the order's path)."""
    r = checkout_by(client, token, person, (CARROTS_AT_A, quantity), **kw)
    assert r.status_code == 201, r.get_data(as_text=True)
    return main_node(r.get_json())["dfc-b:orderedBy"], path_of(r.headers["Location"])


def pid(iri: str) -> str:
    return iri.rsplit("/", 1)[1]


def nodes(body: dict) -> dict:
    return {n["@id"]: n for n in body.get("@graph", [body])}


def test_the_hub_reads_its_customer_and_exports_them_with_every_order_they_placed(client, hub_a):
    person, first = bought(client, hub_a)
    again, second = bought(client, hub_a, quantity=1, buyer=person)      # the IRI sent back: the same person
    _, other = bought(client, hub_a, BARNABE)
    assert again == person and person.startswith(f"{HUB_A}/persons/")
    r = client.get(f"{PERSONS}/{pid(person)}", headers=hub_a)
    assert r.status_code == 200 and r.headers["ETag"]
    doc = r.get_json()
    # The DFC context URL, then ours inline, trimmed to the terms the answer uses.
    assert doc["@context"][0] == names()[0] and doc["@context"][1].items() <= names()[1].items()
    assert (doc["@id"], doc["dfc-b:firstName"], doc["dfc-b:email"]) == (person, "Zéphyrine", ZEPHYRINE.email)
    r = client.get(f"{PERSONS}/{pid(person)}/export", headers=hub_a)
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    body = r.get_json()
    assert body["@context"][0] == names()[0] and body["@context"][1].items() <= names()[1].items()
    got = nodes(body)
    assert got[person]["dfc-b:familyName"] == "Quarteron-Vasseur"
    orders = {i for i, n in got.items() if n.get("@type") == "dfc-b:Order"}
    assert orders == {BASE + first, BASE + second}               # Barnabé's order is his
    assert BASE + other not in got
    assert sum(1 for n in got.values() if n.get("@type") == "dfc-b:OrderLine") == 2
    turtle = client.get(f"{PERSONS}/{pid(person)}/export", headers={**hub_a, "Accept": "text/turtle"})
    assert turtle.status_code == 200 and "Quarteron-Vasseur" in turtle.get_data(as_text=True)


def test_erasure_leaves_no_literal_of_the_person_in_any_graph_and_their_orders_add_up(client, hub_a, jean):
    person, first = bought(client, hub_a, note=f"{ZEPHYRINE.first_name} collects, call {ZEPHYRINE.phone}",
                           **{"Idempotency-Key": "zephyrine-1"})
    _, second = bought(client, hub_a, quantity=1, buyer=person)
    bought(client, hub_a, BARNABE, quantity=3)
    summary = client.get(SUMMARY, headers={**hub_a, "Accept": "text/csv"}).get_data(as_text=True)
    held, upstream = ledger(client)["held"], wholesale_quantities(client, hub_a)
    # The scan sees every value: in the person's graph, her note, and the answer kept for a retry.
    before = literals(client, ZEPHYRINE)
    assert {v for v, _ in before} == set(ZEPHYRINE.values())
    assert {g for _, g in before} >= {person, BASE + first} and any(g.startswith("urn:x-dfc-hub:idempotency:")
                                                                    for _, g in before)

    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204

    assert literals(client, ZEPHYRINE) == set()
    assert {v for v, _ in literals(client, BARNABE)} == set(BARNABE.values())    # nobody else's
    # Her orders stay, as they were but for the note, under one fresh pseudonym.
    buyers = set()
    for path in (first, second):
        r = client.get(path, headers=hub_a)
        assert r.status_code == 200
        order = main_node(r.get_json())
        assert "dfc-b:description" not in order
        buyers.add(order["dfc-b:orderedBy"])
    [pseudonym] = buyers
    assert pseudonym != person and pseudonym.startswith(f"{HUB_A}/persons/")
    # Nothing names the erased IRI any more but its tombstone.
    assert [r["g"].value for r in store_of(client).select(NAMING, {"iri": NamedNode(person)})] == [person]
    assert client.get(SUMMARY, headers={**hub_a, "Accept": "text/csv"}).get_data(as_text=True) == summary
    assert ledger(client)["held"] == held and wholesale_quantities(client, hub_a) == upstream


def test_erasure_on_a_remote_store_leaves_no_literal_of_the_person_either(tmp_path, clock):
    """The same unit of work against `oxigraph serve` (DFC_HUB_STORE=sparql:…), where several app
    processes share the store."""
    from support.oxigraph_server import running_oxigraph

    with running_oxigraph(tmp_path) as url:
        client = make_app(clock=clock, store=f"sparql:{url}").test_client()
        token = token_for(client, HUB_A)
        person, order = bought(client, token, note=ZEPHYRINE.email, **{"Idempotency-Key": "remote-1"})
        assert {v for v, _ in literals(client, ZEPHYRINE)} == set(ZEPHYRINE.values())
        assert client.delete(f"{PERSONS}/{pid(person)}", headers=token).status_code == 204
        assert literals(client, ZEPHYRINE) == set()
        assert client.get(f"{PERSONS}/{pid(person)}", headers=token).status_code == 410
        assert main_node(client.get(order, headers=token).get_json())["dfc-b:orderedBy"] != person


def test_an_erased_person_answers_410_with_a_tombstone_that_holds_nothing_of_theirs(client, hub_a):
    person, _ = bought(client, hub_a)
    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204
    for method, path in (("GET", ""), ("GET", "/export"), ("DELETE", "")):
        r = client.open(f"{PERSONS}/{pid(person)}{path}", method=method, headers=hub_a)
        assert (r.status_code, r.mimetype) == (410, "application/problem+json"), (method, path)
        assert r.get_json()["erasedAt"] == MONDAY.strftime("%Y-%m-%dT%H:%M:%SZ")    # the hub's clock
    tombstone = store_of(client).graph(NamedNode(person))
    assert sorted(t.predicate.value.rsplit("#", 1)[1] for t in tombstone) == ["erasedAt", "type"]


def test_a_retry_after_erasure_replays_the_first_answer_without_the_personal_data(client, hub_a):
    key = {"Idempotency-Key": "zephyrine-retry"}
    note = f"for {ZEPHYRINE.first_name}"
    first = checkout_by(client, hub_a, ZEPHYRINE, (CARROTS_AT_A, 2), note=note, **key)
    assert first.status_code == 201
    assert ZEPHYRINE.first_name in first.get_data(as_text=True)      # the note was in the answer
    person = main_node(first.get_json())["dfc-b:orderedBy"]
    count = client.get("/api/dfc/enterprises/hub-a/orders", headers=hub_a).headers["X-Total-Count"]
    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204
    retry = checkout_by(client, hub_a, ZEPHYRINE, (CARROTS_AT_A, 2), note=note, **key)
    assert retry.status_code == 201 and retry.headers["Location"] == first.headers["Location"]
    assert_no_personal_data(retry.get_data(), ZEPHYRINE, "the replayed answer")
    assert person not in retry.get_data(as_text=True)
    assert client.get("/api/dfc/enterprises/hub-a/orders", headers=hub_a).headers["X-Total-Count"] == count


def test_an_erased_persons_iri_is_never_filled_again_but_the_customer_may_come_back(client, hub_a):
    person, _ = bought(client, hub_a)
    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204
    store = store_of(client)
    written = store.generation
    r = checkout_by(client, hub_a, ZEPHYRINE, (CARROTS_AT_A, 1), buyer=person)
    assert (r.status_code, r.mimetype) == (410, "application/problem+json"), r.get_data(as_text=True)
    assert store.generation == written
    bare = {"@context": "https://www.datafoodconsortium.org", "@id": "#", "@type": "dfc-b:Order",
            "dfc-b:orderedBy": person, "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
            "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": CARROTS_AT_A}}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, json=bare)      # named by IRI alone
    assert r.status_code == 410 and store.generation == written, r.get_data(as_text=True)
    # A new person (a blank node) is new; one another platform names gets a new pseudonym.
    fresh, _ = bought(client, hub_a)
    assert fresh != person
    mailto, _ = bought(client, hub_a, BARNABE, buyer=f"mailto:{BARNABE.email}")
    assert client.delete(f"{PERSONS}/{pid(mailto)}", headers=hub_a).status_code == 204
    back, _ = bought(client, hub_a, BARNABE, buyer=f"mailto:{BARNABE.email}")
    assert back != mailto and client.get(f"{PERSONS}/{pid(back)}", headers=hub_a).status_code == 200
    again, _ = bought(client, hub_a, BARNABE, buyer=f"mailto:{BARNABE.email}")
    assert again == back                                                   # and keeps it
    assert client.get(f"{PERSONS}/{pid(mailto)}", headers=hub_a).status_code == 410


def test_only_the_hub_that_holds_a_person_reads_exports_or_erases_them(client, hub_a, hub_b, jean):
    person, order = bought(client, hub_a)
    store = store_of(client)
    written = store.generation
    mine = f"{PERSONS}/{pid(person)}"
    reader = token_for(client, HUB_A, ["ReadOrders"])
    products = token_for(client, HUB_A, ["ReadProducts"])
    herself = token_for(client, "https://people.example/zephyrine")
    store_written = store.generation        # issuing tokens writes; the requests below must not
    cases = [({}, 401), (hub_b, 403), (jean, 403), (products, 403), (herself, 403)]
    for headers, status in cases:
        for method, path in (("GET", mine), ("GET", mine + "/export"), ("DELETE", mine)):
            r = client.open(path, method=method, headers=headers)
            assert (r.status_code, r.mimetype) == (status, "application/problem+json"), (headers, method, path)
    # May read, may not erase: erasure needs WriteOrders.
    assert client.get(mine, headers=reader).status_code == 200
    assert client.delete(mine, headers=reader).status_code == 403
    # Hub B asking in its own namespace for hub A's person, or for an id that names an order.
    assert client.delete(f"/api/dfc/enterprises/hub-b/persons/{pid(person)}", headers=hub_b).status_code == 404
    assert client.delete(f"{PERSONS}/{order.rsplit('/', 1)[1]}", headers=hub_a).status_code == 404
    assert client.get(f"{PERSONS}/{pid(person)}x", headers=hub_a).status_code == 404
    # Ids no person has: a dot, `..`, too long, an IRI (its slashes route nowhere).
    for bad in ("a.b", "..", "x" * 65, "%2E%2E"):
        r = client.delete(f"{PERSONS}/{bad}", headers=hub_a)
        assert (r.status_code, r.mimetype) == (400, "application/problem+json"), bad
    r = client.delete(f"{PERSONS}/{BASE}{order}".replace("://", "%3A%2F%2F"), headers=hub_a)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert store.generation == store_written and written <= store_written
    # The CamelCase spelling names the same person; and she is all there still.
    camel = f"/api/dfc/Enterprises/hub-a/persons/{pid(person)}"
    assert client.get(camel, headers=hub_a).get_json()["dfc-b:firstName"] == "Zéphyrine"
    assert client.delete(camel, headers=hub_a).status_code == 204
    assert client.get(mine, headers=hub_a).status_code == 410
    assert client.get(mine, headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 410


def test_the_access_log_names_no_person(client, hub_a, caplog):
    caplog.set_level(logging.INFO, logger="app.access")
    person, order = bought(client, hub_a, note=f"ask for {ZEPHYRINE.family_name}")
    for method, path in (("GET", f"{PERSONS}/{pid(person)}"), ("GET", f"{PERSONS}/{pid(person)}/export"),
                         ("GET", order), ("GET", SUMMARY), ("DELETE", f"{PERSONS}/{pid(person)}")):
        with client.open(path, method=method, headers=hub_a) as r:     # a line is written as it closes
            assert r.status_code < 300
    lines = [r.getMessage() for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 5
    assert_no_personal_data("\n".join(lines), ZEPHYRINE, "the access log")


def test_erasure_removes_the_snapshot_analysts_read_at_once(tmp_path, clock):
    """A snapshot of the whole store (app/store/snapshots.py) otherwise stays on disk, erased
    person included, until the next analyst query."""
    app = make_app(clock=clock, store=f"oxigraph:{tmp_path / 'store'}")
    try:
        client = app.test_client()
        hub_a = token_for(client, HUB_A)
        analyst = token_for(client, "https://analysts.example/ana", ["Analytics"])
        person, _ = bought(client, hub_a)
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers=analyst).status_code == 200
        snapshots = tmp_path / "store-snapshots"
        assert os.listdir(snapshots)
        assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204
        assert os.listdir(snapshots) == []
        r = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                       headers=analyst)
        assert r.status_code == 200 and os.listdir(snapshots)
    finally:
        app.extensions["dfc_hub"].close()


def test_a_buyer_described_without_a_type_is_kept_as_a_person_not_in_the_order(client, hub_a):
    """A name, email, phone or address on an untyped buyer once stayed in the order itself, out of
    reach of export and erasure."""
    node = ZEPHYRINE.jsonld()
    del node["@type"]
    doc = {"@context": "https://www.datafoodconsortium.org", "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
         "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": CARROTS_AT_A}},
        node]}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, json=doc)
    assert r.status_code == 201, r.get_data(as_text=True)
    order = main_node(r.get_json())
    person = order["dfc-b:orderedBy"]
    assert person.startswith(f"{HUB_A}/persons/") and order["hub:customerOrder"] is True
    assert {g for _, g in literals(client, ZEPHYRINE)} == {person}
    assert client.get(f"{PERSONS}/{pid(person)}", headers=hub_a).get_json()["@type"] == "dfc-b:Person"


def test_checkouts_racing_an_erasure_never_leave_an_order_under_the_erased_iri(client, hub_a):
    """Each checkout naming the person either lands before the erasure (and is renamed with her
    other orders) or after it (410): never an order left under the erased IRI. Two erasures
    racing: one erases, the other answers 410."""
    import threading

    person, _ = bought(client, hub_a)
    app = client.application
    bare = {"@context": "https://www.datafoodconsortium.org", "@id": "#", "@type": "dfc-b:Order",
            "dfc-b:orderedBy": person, "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
            "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": CARROTS_AT_A}}
    start, answers = threading.Barrier(8), []

    def checkout():
        start.wait()
        for _ in range(5):
            answers.append(app.test_client().post("/api/dfc/enterprises/hub-a/orders", headers=hub_a,
                                                  json=bare).status_code)

    def erase():
        start.wait()
        answers.append(("erase", app.test_client().delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code))

    threads = [threading.Thread(target=checkout) for _ in range(6)] + [threading.Thread(target=erase) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    erasures = sorted(a for a in answers if isinstance(a, tuple))
    assert erasures == [("erase", 204), ("erase", 410)]                 # erased once, the other told so
    assert {a for a in answers if not isinstance(a, tuple)} <= {201, 410}
    assert [r["g"].value for r in store_of(client).select(NAMING, {"iri": NamedNode(person)})] == [person]
    assert literals(client, ZEPHYRINE) == set()


def test_erasure_rewrites_no_other_enterprises_record_but_its_reference(client, hub_a, jean):
    """A hub named its customer in a wholesale order at a producer; the producer confirmed it with
    a reason holding the customer's name (a word the hub chose: "Carrots"). Erasing the customer
    once scrubbed every string holding it from the producer's order, its history included. Now
    the producer's document only loses the reference, pointed at the pseudonym."""
    from support.orders import CARROTS, checkout, order, place
    r = checkout(client, hub_a, "hub-a", name="Carrots")
    assert r.status_code == 201, r.get_data(as_text=True)
    store = store_of(client)
    person = next(t.object for t in store.graph(NamedNode(BASE + r.headers["Location"].removeprefix(BASE)))
                  if t.predicate.value.endswith("orderedBy"))
    r = place(client, hub_a, order((CARROTS, 1), **{"rdfs:seeAlso": {"@id": person.value}}))
    assert r.status_code == 201, r.get_data(as_text=True)
    wholesale = r.headers["Location"]
    path = wholesale.removeprefix(BASE)
    assert client.post(path + "/status", headers=hub_a, json={"status": "placed"}).status_code == 200
    assert client.post(path + "/status", headers=jean,
                       json={"status": "confirmed", "reason": "Carrots confirmed by Jean"}).status_code == 200
    assert client.delete(f"{PERSONS}/{pid(person.value)}", headers=hub_a).status_code == 204
    kept = store.graph(NamedNode(wholesale))
    assert any(t.object.value == "Carrots confirmed by Jean" for t in kept)
    assert not any(t.object == person for t in kept)


def test_erasure_leaves_a_customer_order_only_what_analysts_may_read(client, hub_a):
    """A note in another vocabulary than DFC's (an `rdfs:comment`, a schema.org description on a
    line, an order number the platform made of the name) holds none of the person's own values,
    so erasure once left it: "door code 4711" stayed with the erased customer's order. Now the
    order keeps only the statements app/domain/personal.py allows, and analysts read it again."""
    note = "Ali Ben Salah, 3 rue des Lilas, door code 4711"
    doc = {"@context": "https://www.datafoodconsortium.org", "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:buyer", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48", "rdfs:comment": note, "dfc-b:orderNumber": "BENSALAH-1",
         "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 2, "dfc-b:concerns": CARROTS_AT_A,
                           "http://schema.org/description": "leave them at door code 4711"}},
        {"@id": "_:buyer", "@type": "dfc-b:Person", "dfc-b:email": "abs@example.net"}]}
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, json=doc)
    assert r.status_code == 201, r.get_data(as_text=True)
    order, person = r.headers["Location"], main_node(r.get_json())["dfc-b:orderedBy"]
    analyst = token_for(client, "https://analysts.example/ana", ["Analytics"])
    visible = {"query": f"ASK {{ GRAPH <{order}> {{ ?s ?p ?o }} }}"}
    assert client.get("/sparql", query_string=visible, headers=analyst).get_json()["boolean"] is False
    summary = client.get(SUMMARY, headers={**hub_a, "Accept": "text/csv"}).get_data(as_text=True)
    secrets = ["door code", "Lilas", "BENSALAH", "abs@example.net"]
    assert {g for _, g in literals(client, secrets)} == {person, order}

    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204

    assert literals(client, secrets) == set()
    assert client.get("/sparql", query_string=visible, headers=analyst).get_json()["boolean"] is True
    assert client.get(SUMMARY, headers={**hub_a, "Accept": "text/csv"}).get_data(as_text=True) == summary


def test_erasure_leaves_nothing_of_the_person_in_another_customers_order(client, hub_a):
    """Barnabé's note names Zéphyrine ("with Zéphyrine's, zephyrine.qv@…"): his order and the
    answer kept for his retry do not name her IRI, so her erasure once left her name and email
    there. Now every customer order of the hub, and its kept answer, loses the statements that
    mention what names her alone (email, phone, street, full name); Barnabé keeps the rest of his
    order and his own details."""
    person, _ = bought(client, hub_a)
    note = f"with {ZEPHYRINE.first_name}'s order, {ZEPHYRINE.email}"
    r = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1), note=note,
                    **{"Idempotency-Key": "barnabe-1"})
    assert r.status_code == 201, r.get_data(as_text=True)
    his = path_of(r.headers["Location"])
    line = {"http://schema.org/description": f"Barnabé's, not {ZEPHYRINE.first_name} {ZEPHYRINE.family_name}'s"}
    other = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1, line), buyer=main_node(r.get_json())["dfc-b:orderedBy"])
    assert other.status_code == 201, other.get_data(as_text=True)
    assert {g for _, g in literals(client, ZEPHYRINE)} >= {BASE + his, BASE + path_of(other.headers["Location"])}

    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204

    assert literals(client, ZEPHYRINE) == set()
    assert {v for v, _ in literals(client, BARNABE)} == set(BARNABE.values())
    kept = main_node(client.get(his, headers=hub_a).get_json())
    assert "dfc-b:description" not in kept and kept["dfc-b:hasOrderStatus"] == "dfc-v:Held"
    retry = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1), note=note, **{"Idempotency-Key": "barnabe-1"})
    assert retry.status_code == 201 and retry.headers["Location"] == r.headers["Location"]
    assert_no_personal_data(retry.get_data(), ZEPHYRINE, "the replayed answer")


def test_erasure_takes_from_other_customers_notes_only_what_names_the_person_alone(client, hub_a):
    """Her first name or her town alone are not hers: another customer's note may say them of
    someone else, and erasing her once would have taken every such note from every order of the
    hub. Only her email, phone, street or full name are searched for outside her own orders."""
    person, _ = bought(client, hub_a)
    note = f"ring {ZEPHYRINE.first_name} at the gate, {ZEPHYRINE.city}"
    r = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1), note=note)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204
    kept = main_node(client.get(path_of(r.headers["Location"]), headers=hub_a).get_json())
    assert kept["dfc-b:description"] == note

def test_nobody_is_described_at_the_pseudonym_an_erasure_left(client, hub_a):
    """A platform that learnt a customer's IRI from `orderedBy` learns the erasure's pseudonym;
    a checkout describing someone there once made it a person again, and the erased customer's
    orders became that person's (their export listed them). Now describing anyone there is
    refused and changes nothing; the erased customer's orders may still be changed under it."""
    person, order = bought(client, hub_a)
    assert client.delete(f"{PERSONS}/{pid(person)}", headers=hub_a).status_code == 204
    doc = main_node(client.get(order, headers=hub_a).get_json())
    pseudonym = doc["dfc-b:orderedBy"]
    store = store_of(client)
    written = store.generation
    r = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1), buyer=pseudonym)
    assert (r.status_code, r.mimetype) == (409, "application/problem+json"), r.get_data(as_text=True)
    assert store.generation == written and literals(client, BARNABE) == set()
    assert client.get(f"{PERSONS}/{pid(pseudonym)}/export", headers=hub_a).status_code == 404
    # The hub cancels the erased customer's order, named by the pseudonym alone.
    cancel = {"@context": "https://www.datafoodconsortium.org", "@id": BASE + order, "@type": "dfc-b:Order",
              "dfc-b:orderedBy": pseudonym, "dfc-b:hasOrderStatus": "dfc-v:Cancelled",
              "dfc-b:belongsTo": f"{HUB_A}/sale_sessions/week-48",
              "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 2, "dfc-b:concerns": CARROTS_AT_A}}
    r = client.put(order, headers=hub_a, json=cancel)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert main_node(r.get_json())["dfc-b:orderedBy"] == pseudonym


def test_a_new_order_naming_nobody_the_hub_holds_is_refused_and_a_returning_customer_is_not(client, hub_a):
    """`…/hub-a/persons/ghost` named alone, with a note, was a 201: nobody was there, so the
    note could never be exported or erased with a person (GET, export and DELETE of ghost: 404)."""
    person, _ = bought(client, hub_a)
    store = store_of(client)

    def order_by(buyer: str):
        doc = {"@context": "https://www.datafoodconsortium.org", "@id": "#", "@type": "dfc-b:Order",
               "dfc-b:orderedBy": buyer, "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:description": "leave it at no. 4",
               "dfc-b:belongsTo": f"{BASE}/api/dfc/enterprises/hub-a/sale_sessions/week-48",
               "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": CARROTS_AT_A}}
        return client.post("/api/dfc/enterprises/hub-a/orders", headers=hub_a, data=json.dumps(doc),
                           content_type="application/ld+json")
    written = store.generation
    r = order_by(f"{BASE}{PERSONS}/ghost")
    assert r.status_code == 422 and r.get_json()["pointer"] == "/dfc-b:orderedBy", r.get_data(as_text=True)
    assert store.generation == written
    assert order_by(person).status_code == 201          # a customer the hub holds, named again
