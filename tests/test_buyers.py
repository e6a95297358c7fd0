"""Who a checkout's buyer is (app/domain/personal.py): a person, unless an enterprise is named.

A hostile review found buyers that were people handled as wholesale buyers: an untyped buyer
given `dfc-b:name`, `foaf:mbox` and `schema:telephone`, a `schema:Person`, a bare `mailto:`.
Their details stayed in the order, reached analysts, and erasure could not reach them. Each
case here is a customer order whose buyer is a person of the hub's, with every detail in the
person's graph alone, exported with them and gone once they are erased.
"""
from __future__ import annotations

import pytest
from pyoxigraph import NamedNode

from conftest import BASE, jsonld
from support.leaks import BARNABE, ZEPHYRINE, checkout_by, stored
from support.orders import (API, CARROTS, CTX, HUB_A, HUB_B, JEAN, client, clock, hub_a, hub_b, jean,  # noqa: F401
                            main_node, path_of)

CARROTS_AT_A = f"{HUB_A}/offers/jean-carrots"
FOAF, SCHEMA, VCARD = "http://xmlns.com/foaf/0.1/", "http://schema.org/", "http://www.w3.org/2006/vcard/ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
NAMING = "SELECT DISTINCT ?g WHERE { { GRAPH ?g { ?s ?p ?iri } } UNION { GRAPH ?g { ?iri ?p ?o } } }"
SECRET = ["Zephyrine Quarteron", "zeph@example.org", "+33 6 47 29 81 53", "Barnabe Oudinot", "b.oudinot@example.net"]


def store_of(client):
    return client.application.extensions["dfc_hub"].store


def checkout(client, token, buyer, *nodes, hub="hub-a", **on_order):
    """A Held one-line checkout at a hub whose buyer is `buyer`, described by `nodes`."""
    doc = {"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer, "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{API}/{hub}/sale_sessions/week-48", **on_order,
         "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                           "dfc-b:concerns": f"{API}/{hub}/offers/jean-carrots"}}, *nodes]}
    return client.post(f"/api/dfc/enterprises/{hub}/orders", headers=token, **jsonld(doc))


# Buyers that are people, as other platforms describe them: (buyer, its nodes, what to look for).
DESCRIBED = {
    "untyped, in FOAF and schema.org, an email twice": ("_:b", [{
        "@id": "_:b", "dfc-b:name": "Zephyrine Quarteron", f"{FOAF}mbox": ["mailto:zeph@example.org", "zeph@example.org"],
        f"{SCHEMA}telephone": "+33 6 47 29 81 53"}], SECRET[:3]),
    "a schema:Person": ("_:b", [{"@id": "_:b", "@type": f"{SCHEMA}Person", f"{SCHEMA}name": "Barnabe Oudinot",
                                 f"{SCHEMA}email": "b.oudinot@example.net"}], SECRET[3:]),
    "a foaf:Person named by another shop's IRI": ("https://shop.example/customers/4711", [{
        "@id": "https://shop.example/customers/4711", "@type": f"{FOAF}Person", f"{FOAF}name": "Barnabe Oudinot"}],
        SECRET[3:4]),
    "a vcard:Individual": ("_:b", [{"@id": "_:b", "@type": f"{VCARD}Individual", f"{VCARD}fn": "Zephyrine Quarteron",
                                    f"{VCARD}hasEmail": "zeph@example.org"}], SECRET[:2]),
    "typed Person and Enterprise": ("_:b", [{"@id": "_:b", "@type": ["dfc-b:Person", "dfc-b:Enterprise"],
                                             "dfc-b:name": "Zephyrine Quarteron"}], SECRET[:1]),
    "a blank Enterprise with a mailbox": ("_:b", [{"@id": "_:b", "@type": "dfc-b:Enterprise",
                                                   "dfc-b:name": "Barnabe Oudinot", f"{FOAF}mbox": "b.oudinot@example.net"}],
                                          SECRET[3:]),
    "literals typed other than strings": ("_:b", [{"@id": "_:b", f"{SCHEMA}birthDate": {
        "@value": "1984-02-28", "@type": f"{XSD}date"}, f"{SCHEMA}name": {
        "@value": "Zephyrine Quarteron", "@type": f"{XSD}token"}}], ["1984-02-28", *SECRET[:1]]),
}


@pytest.mark.parametrize("case", sorted(DESCRIBED))
def test_a_buyer_described_in_any_vocabulary_is_the_hubs_customer_and_erased_with_them(client, hub_a, case):
    buyer, nodes, secrets = DESCRIBED[case]
    store = store_of(client)
    r = checkout(client, hub_a, buyer, *nodes)
    assert r.status_code == 201, r.get_data(as_text=True)
    order = main_node(r.get_json())
    person = order["dfc-b:orderedBy"]
    assert order.get("hub:customerOrder") is True and person.startswith(f"{HUB_A}/persons/"), order
    # Every detail is in the person's graph alone; the order and the producer's order hold none.
    assert {g for _, g in stored(store, secrets)} == {person}
    if buyer.startswith("http"):
        assert [row["g"].value for row in store.select(NAMING, {"iri": NamedNode(buyer)})] == []
    export = client.get(path_of(person) + "/export", headers=hub_a)
    assert export.status_code == 200 and all(s in export.get_data(as_text=True) for s in secrets)
    assert client.delete(path_of(person), headers=hub_a).status_code == 204
    assert stored(store, secrets) == set()


@pytest.mark.parametrize("named", ["mailto:zeph@example.org", "tel:+33647298153", "another hub's person"])
def test_a_buyer_named_by_an_iri_that_says_who_they_are_is_a_person_though_undescribed(client, hub_a, hub_b, clock,
                                                                                    named):
    """A bare `mailto:` buyer once made a wholesale order whose buyer was the email itself."""
    import datetime as dt
    if named == "another hub's person":
        clock.set(clock.now() + dt.timedelta(days=1))                  # hub B's week 48 is open
        r = checkout_by(client, hub_b, ZEPHYRINE, (f"{HUB_B}/offers/jean-carrots", 1), hub="hub-b")
        assert r.status_code == 201, r.get_data(as_text=True)
        named = main_node(r.get_json())["dfc-b:orderedBy"]
    r = checkout(client, hub_a, named)
    assert r.status_code == 201, r.get_data(as_text=True)
    order = main_node(r.get_json())
    assert order.get("hub:customerOrder") is True and order["dfc-b:orderedBy"].startswith(f"{HUB_A}/persons/")
    # Nothing of hub A's names the IRI it was given; hub B's person is hub B's alone.
    naming = [row["g"].value for row in store_of(client).select(NAMING, {"iri": NamedNode(named)})]
    assert not [g for g in naming if g.startswith(HUB_A)], naming


def test_a_customer_named_again_by_iri_alone_keeps_what_the_hub_holds_of_them(client, hub_a):
    r = checkout_by(client, hub_a, BARNABE, (CARROTS_AT_A, 1), buyer=f"mailto:{BARNABE.email}")
    assert r.status_code == 201, r.get_data(as_text=True)
    person = main_node(r.get_json())["dfc-b:orderedBy"]
    for buyer, nodes in ((f"mailto:{BARNABE.email}", ()), (person, ()),
                         (person, ({"@id": person, "@type": "dfc-b:Person"},))):
        r = checkout(client, hub_a, buyer, *nodes)
        assert r.status_code == 201, r.get_data(as_text=True)
        assert main_node(r.get_json())["dfc-b:orderedBy"] == person
    assert client.get(path_of(person), headers=hub_a).get_json()["dfc-b:familyName"] == BARNABE.family_name


@pytest.mark.parametrize("buyer,nodes", [
    (HUB_A, [{"@id": HUB_A, "dfc-b:name": "Hub A", f"{FOAF}mbox": "orders@hub-a.example"}]),
    (HUB_A, [{"@id": HUB_A, "@type": "dfc-b:Enterprise", "dfc-b:name": "Hub A"}]),
    (HUB_A, []),
])
def test_an_enterprise_named_as_one_stays_a_wholesale_buyer(client, hub_a, buyer, nodes):
    """The boundary of the rule: hub A ordering from Jean's farm, its own IRI described or not."""
    doc = {"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer, "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": CARROTS}}, *nodes]}
    r = client.post("/api/dfc/enterprises/jean-farm/orders", headers=hub_a, **jsonld(doc))
    assert r.status_code == 201, r.get_data(as_text=True)
    order = main_node(r.get_json())
    assert order["dfc-b:orderedBy"] == HUB_A and "hub:customerOrder" not in order
    assert "orders@hub-a.example" not in r.get_data(as_text=True)       # a reference, not the order's


def test_an_order_is_not_its_own_buyer(client, hub_a):
    r = checkout(client, hub_a, "#", **{"dfc-b:orderNumber": "1"})
    assert r.status_code == 422, r.get_data(as_text=True)
    [said] = r.get_json()["violations"]
    assert said["path"].endswith("#orderedBy") and "orderedBy names the buyer" in said["message"], said
    assert BASE + "/api/dfc/enterprises/hub-a/persons" not in r.get_data(as_text=True)
