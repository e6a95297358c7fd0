"""Contracts (API.md "Prices and contracts"): written by the supplier, read by the two parties only,
and a hostile payload refused whole, with nothing written.

The demo data: Jean's farm sells carrots (catalogue item `carrots`); hub A and hub B buy.
"""
from __future__ import annotations

import copy
import json
import re

import pytest
from conftest import BASE, DEMO_MONDAY, JSONLD, admin, token_for

API = BASE + "/api/dfc/enterprises"
JEAN, HUB_A, HUB_B = f"{API}/jean-farm", f"{API}/hub-a", f"{API}/hub-b"
CONTRACTS = "/api/dfc/enterprises/jean-farm/contracts"
CARROTS_ITEM = f"{JEAN}/catalog_items/carrots"
CTX = ["https://www.datafoodconsortium.org", {"hub": "https://w3id.org/dfc-order-hub/ns#"}]
# A contract runs over the demo's year (the apps' clocks stand in its first sale week), or the next.
YEAR, NEXT_YEAR = DEMO_MONDAY.year, DEMO_MONDAY.year + 1


def contract(*prices, consumer=HUB_A, start=f"{YEAR}-01-01", end=f"{YEAR}-12-31", id_=None) -> dict:
    """A contract of Jean's farm; prices: (item IRI, value) pairs."""
    prices = prices or ((CARROTS_ITEM, "2.50"),)
    body = {"@context": CTX, "@type": "hub:Contract", "hub:consumer": {"@id": consumer},
            "dfc-b:startDate": start, "dfc-b:endDate": end,
            "hub:contractPrice": [{"hub:item": {"@id": item},
                                   "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": value,
                                                      "dfc-b:hasUnit": {"@id": "dfc-m:Euro"}}}
                                  for item, value in prices]}
    if id_:
        body["@id"] = id_
    return body


@pytest.fixture
def tokens(client):
    return {name: token_for(client, iri) for name, iri in (("jean", JEAN), ("a", HUB_A), ("b", HUB_B))}


def _post(client, headers, body):
    return client.post(CONTRACTS, headers=headers, data=json.dumps(body), content_type=JSONLD)


def _get(client, path, headers):
    return client.get(path, headers={**headers, "Accept": JSONLD})


def _path(location: str) -> str:
    return location[len(BASE):]


def test_the_supplier_writes_a_contract_that_only_the_two_parties_read(client, tokens):
    r = _post(client, tokens["jean"], contract())
    assert r.status_code == 201, r.get_data(as_text=True)
    path = _path(r.headers["Location"])
    assert path.startswith(CONTRACTS + "/")
    for reader in ("jean", "a"):
        got = _get(client, path, tokens[reader])
        assert got.status_code == 200
        node = _node(got.get_json(), "hub:Contract")
        assert node["hub:consumer"] == HUB_A
        assert node["dfc-b:startDate"]["@value"] == f"{YEAR}-01-01"
    refused = _get(client, path, tokens["b"])
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.get(path).status_code == 401
    assert _get(client, CONTRACTS, tokens["jean"]).headers["X-Total-Count"] == "1"
    assert _get(client, CONTRACTS, tokens["a"]).headers["X-Total-Count"] == "1"
    assert _get(client, CONTRACTS, tokens["b"]).headers["X-Total-Count"] == "0"


def test_a_consumer_named_in_the_camelcase_spelling_reads_its_contract_and_buys_under_it(client, tokens):
    """The supplier named hub A as `…/Enterprises/hub-a` (an alias the API accepts): the contract
    was stored so, and hub A could neither read nor list it, nor get its prices."""
    from support.orders import order, place
    spelling = HUB_A.replace("/enterprises/", "/Enterprises/")
    r = _post(client, tokens["jean"], contract((CARROTS_ITEM, "0.10"), consumer=spelling,
                                               start="2000-01-01", end="8999-12-31"))
    assert r.status_code == 201, r.get_data(as_text=True)
    path = _path(r.headers["Location"])
    got = _get(client, path, tokens["a"])
    assert got.status_code == 200, got.get_json()
    assert _node(got.get_json(), "hub:Contract")["hub:consumer"] == HUB_A
    assert _get(client, CONTRACTS, tokens["a"]).headers["X-Total-Count"] == "1"
    assert _get(client, path, tokens["b"]).status_code == 403
    placed = place(client, tokens["a"], order((f"{JEAN}/offers/carrots", 1), status="dfc-v:Complete"))
    assert placed.status_code == 201, placed.get_data(as_text=True)
    line = next(n for n in placed.get_json()["@graph"] if n.get("@type") == "dfc-b:OrderLine")
    assert line["hub:priceSource"] == r.headers["Location"], line


def test_a_contract_is_not_part_of_the_public_catalogue(client, tokens):
    assert _post(client, tokens["jean"], contract()).status_code == 201
    catalogue = client.get("/api/dfc/enterprises/jean-farm/catalog", headers={"Accept": "application/n-triples"})
    assert "Contract" not in catalogue.get_data(as_text=True)


def test_a_contract_read_back_can_be_put_back_unchanged(client, tokens):
    path = _path(_post(client, tokens["jean"], contract()).headers["Location"])
    first = _get(client, path, tokens["jean"])
    before = _shape(client, path, tokens["jean"])
    again = client.put(path, headers={**tokens["jean"], "Accept": JSONLD, "If-Match": first.headers["ETag"]},
                       data=first.get_data(), content_type=JSONLD)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert _shape(client, path, tokens["jean"]) == before


def _shape(client, path, headers) -> list[str]:
    return _shape_of(client.get(path, headers={**headers, "Accept": "application/n-triples"}))


def _shape_of(response) -> list[str]:
    """A document's statements with blank node labels blanked (they change on every write)."""
    text = response.get_data(as_text=True)
    return sorted(re.sub(r"_:\w+", "_:b", line) for line in text.splitlines() if line.strip())


def test_only_the_supplier_writes_and_deletes(client, tokens):
    assert _post(client, tokens["a"], contract()).status_code == 403       # the consumer cannot write its own
    path = _path(_post(client, tokens["jean"], contract()).headers["Location"])
    assert client.delete(path, headers=tokens["a"]).status_code == 403
    assert client.delete(path, headers=tokens["jean"]).status_code == 204
    assert _get(client, path, tokens["jean"]).status_code == 404


def test_a_put_at_a_chosen_id_creates_then_replaces(client, tokens):
    path = CONTRACTS + "/hub-a-2026"
    body = contract(id_=BASE + path)
    assert client.put(path, headers=tokens["jean"], data=json.dumps(body), content_type=JSONLD).status_code == 201
    body["hub:contractPrice"][0]["dfc-b:hasPrice"]["dfc-b:value"] = "2.40"
    r = client.put(path, headers={**tokens["jean"], "Accept": JSONLD}, data=json.dumps(body), content_type=JSONLD)
    assert r.status_code == 200
    assert json.dumps(r.get_json()).count("2.4") == 1


# Each hostile payload, and what the problem's detail or violations say about it.
HOSTILE = {
    "one item priced twice": (
        "priced twice", lambda: contract((CARROTS_ITEM, "2.50"), (CARROTS_ITEM, "2.40"))),
    "the same item twice, spelled twice": (
        "priced twice", lambda: contract((CARROTS_ITEM, "2.50"),
                                         (CARROTS_ITEM.replace("catalog_items", "CatalogItems"), "2.40"))),
    "ends before it starts": (
        "ends (2026-05-31) before it starts", lambda: contract(start="2026-06-01", end="2026-05-31")),
    "a negative price": (">= 0", lambda: contract((CARROTS_ITEM, "-1"))),
    "a price that is not a number": ("takes a number", lambda: contract((CARROTS_ITEM, "cheap"))),
    "a start that is not a date": ("startDate", lambda: contract(start="soon")),
    "another enterprise's item": (
        "catalogue items of jean-farm", lambda: contract((f"{HUB_A}/catalog_items/jean-carrots", "1"))),
    "an order named as an item": ("is not a catalogue item", lambda: contract((f"{JEAN}/orders/o1", "1"))),
    "an item that does not exist": (
        "is not a catalogue item", lambda: contract((f"{JEAN}/catalog_items/nothing", "1"))),
    "no consumer": ("names one consumer", lambda: {k: v for k, v in contract().items() if k != "hub:consumer"}),
    "two consumers": ("names one consumer", lambda: {**contract(), "hub:consumer": [{"@id": HUB_A}, {"@id": HUB_B}]}),
    "the supplier as its own consumer": ("no contract with itself", lambda: contract(consumer=JEAN)),
    "a consumer given as text": ("not a valid IRI", lambda: {**contract(), "hub:consumer": "hub A"}),
    # Once accepted: any IRI of this server could be the consumer, a person's, a relative "hub-a".
    "a person as consumer": ("the consumer is an enterprise", lambda: contract(consumer=f"{HUB_A}/persons/0123456789ab")),
    "a document as consumer": ("the consumer is an enterprise", lambda: contract(consumer=f"{HUB_A}/offers/jean-carrots")),
    "a relative consumer": ("the consumer is an enterprise", lambda: {**contract(), "hub:consumer": {"@id": "hub-a"}}),
    "a price entry with two prices": ("hasPrice must have one value", lambda: _two_prices()),
    # Issue 20, finding 3: accepted (201), this contract then made every placement between its parties 500.
    "ends 9999-12-31": ("from 1000-01-01 to 8999-12-31", lambda: contract(end="9999-12-31")),
    "ends on the last day, at an offset": (
        "from 1000-01-01 to 8999-12-31", lambda: contract(end="9999-12-31T23:00:00-05:00")),
    "ends 9999-12-31, typed": (
        "from 1000-01-01 to 8999-12-31", lambda: contract(end={"@value": "9999-12-31", "@type": "xsd:date"})),
    "starts in the year 1": ("from 1000-01-01 to 8999-12-31", lambda: contract(start="0001-01-01")),
    "a day no calendar has": ("is not a valid xsd:date", lambda: contract(end={"@value": "2026-02-30", "@type": "xsd:date"})),
}


def _two_prices() -> dict:
    body = contract()
    price = body["hub:contractPrice"][0]["dfc-b:hasPrice"]
    body["hub:contractPrice"][0]["dfc-b:hasPrice"] = [price, {**copy.deepcopy(price), "dfc-b:value": "1"}]
    return body


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_contract_is_refused_whole_with_where(client, tokens, case):
    store = client.application.extensions["dfc_hub"].store
    before = store.generation
    said, payload = HOSTILE[case]
    r = _post(client, tokens["jean"], payload())
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json" and r.get_json()["violations"]
    assert said in json.dumps(r.get_json()), r.get_json()
    assert store.generation == before
    assert _get(client, CONTRACTS, tokens["jean"]).headers["X-Total-Count"] == "0"


def test_a_contract_with_100000_prices_is_refused_before_anything_is_checked(client, tokens):
    body = contract(*[(f"{JEAN}/catalog_items/i{n}", "1") for n in range(100_000)])
    r = client.post(CONTRACTS, headers=tokens["jean"], data=json.dumps(body), content_type=JSONLD)
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert _get(client, CONTRACTS, tokens["jean"]).headers["X-Total-Count"] == "0"


def test_a_catalogue_cannot_carry_a_contract(client, tokens):
    body = {**contract(id_=f"{JEAN}/contracts/sneaky")}
    r = client.post("/api/dfc/enterprises/jean-farm/catalog", headers=tokens["jean"], data=json.dumps(body),
                    content_type=JSONLD)
    assert r.status_code == 400
    assert client.get(CONTRACTS + "/sneaky", headers=admin()).status_code == 404


def _node(doc: dict, type_: str) -> dict:
    nodes = doc.get("@graph", [doc])
    return next(n for n in nodes if n.get("@type") == type_ or type_ in (n.get("@type") or []))


def test_analysts_do_not_see_contracts(client, tokens):
    """A contract is the two parties' business: the anonymised dataset leaves it out (its prices
    reach analysts only as the frozen prices of placed orders' lines, like the rest of an order)."""
    assert _post(client, tokens["jean"], contract()).status_code == 201
    analyst = token_for(client, "https://analysts.example/ana", ["Analytics"])
    ask = ("PREFIX hub: <https://w3id.org/dfc-order-hub/ns#> "
           "ASK { { ?c a hub:Contract } UNION { ?e hub:item ?i } }")
    results = {**analyst, "Accept": "application/sparql-results+json"}
    r = client.get("/sparql", query_string={"query": ask}, headers=results)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["boolean"] is False
    everything = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers=results)
    assert everything.get_json()["boolean"] is True      # the dataset is there; contracts are not


def test_an_order_may_name_only_a_contract_between_its_two_parties(client, tokens):
    mine = _post(client, tokens["jean"], contract()).headers["Location"]

    def place(buyer: str, named: str):
        body = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer, "hub:underContract": {"@id": named},
                "dfc-b:hasOrderStatus": "dfc-v:Held",
                "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{JEAN}/offers/carrots",
                                  "dfc-b:quantity": 1}}
        who = tokens["a"] if buyer == HUB_A else tokens["b"]
        return client.post("/api/dfc/enterprises/jean-farm/orders", headers=who, data=json.dumps(body),
                           content_type=JSONLD)

    assert place(HUB_A, mine).status_code == 201
    for buyer, named in ((HUB_B, mine), (HUB_A, f"{JEAN}/offers/carrots"), (HUB_A, f"{HUB_B}/contracts/x")):
        r = place(buyer, named)
        assert r.status_code == 422 and "is not a contract of jean-farm's" in r.get_data(as_text=True), r.get_json()
    assert _get(client, CONTRACTS, tokens["jean"]).headers["X-Total-Count"] == "1"


def test_an_order_under_a_contract_since_deleted_can_still_be_put_placed_and_cancelled(client, tokens):
    """The supplier deleted the contract an order named: every PUT of that order, its consumer's
    placing or cancelling included, was 422 from then on. The contract is judged when named."""
    mine = _post(client, tokens["jean"], contract()).headers["Location"]
    body = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": HUB_A, "hub:underContract": {"@id": mine},
            "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{JEAN}/offers/carrots", "dfc-b:quantity": 1}}
    placed = client.post("/api/dfc/enterprises/jean-farm/orders", headers=tokens["a"], data=json.dumps(body),
                         content_type=JSONLD)
    assert placed.status_code == 201, placed.get_json()
    path = _path(placed.headers["Location"])
    assert client.delete(_path(mine), headers=tokens["jean"]).status_code == 204

    def put(named: str, status: str):
        doc = _get(client, path, tokens["a"]).get_json()
        order = _node(doc, "dfc-b:Order")
        order.update({"dfc-b:hasOrderStatus": status, "hub:underContract": {"@id": named}})
        return client.put(path, headers={**tokens["a"], "Accept": JSONLD}, data=json.dumps(doc), content_type=JSONLD)

    other = _path(_post(client, tokens["jean"], contract(consumer=HUB_B)).headers["Location"])
    refused = put(BASE + other, "dfc-v:Complete")         # naming another one is judged
    assert refused.status_code == 422 and "is not a contract of jean-farm's" in refused.get_data(as_text=True)
    assert _node(_get(client, path, tokens["a"]).get_json(), "dfc-b:Order")["hub:status"] == "hub:draft"
    answer = put(mine, "dfc-v:Complete")
    assert answer.status_code == 200, answer.get_json()
    assert _node(answer.get_json(), "dfc-b:Order")["hub:status"] == "hub:placed"
    answer = put(mine, "dfc-v:Cancelled")
    assert answer.status_code == 200, answer.get_json()
    assert _node(answer.get_json(), "dfc-b:Order")["hub:status"] == "hub:canceled_by_consumer"


def test_the_supplier_neither_drops_nor_changes_the_contract_its_consumer_ordered_under(client, tokens):
    mine = _post(client, tokens["jean"], contract()).headers["Location"]
    other = _post(client, tokens["jean"], contract(start=f"{NEXT_YEAR}-01-01", end=f"{NEXT_YEAR}-12-31")).headers["Location"]
    body = {"@context": CTX, "@type": "dfc-b:Order", "dfc-b:orderedBy": HUB_A, "hub:underContract": {"@id": mine},
            "dfc-b:hasOrderStatus": "dfc-v:Held",
            "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{JEAN}/offers/carrots", "dfc-b:quantity": 1}}
    path = _path(client.post("/api/dfc/enterprises/jean-farm/orders", headers=tokens["a"], data=json.dumps(body),
                             content_type=JSONLD).headers["Location"])
    for change in (lambda order: order.pop("hub:underContract"),
                   lambda order: order.update({"hub:underContract": {"@id": other}})):
        doc = _get(client, path, tokens["jean"]).get_json()
        change(_node(doc, "dfc-b:Order"))
        r = client.put(path, headers={**tokens["jean"], "Accept": JSONLD}, data=json.dumps(doc), content_type=JSONLD)
        assert r.status_code == 403 and "hub:underContract" in r.get_json()["terms"], r.get_json()
        assert _node(_get(client, path, tokens["a"]).get_json(), "dfc-b:Order")["hub:underContract"] == mine
    doc = _get(client, path, tokens["jean"]).get_json()              # sent back as it is: a move goes through
    _node(doc, "dfc-b:Order")["hub:status"] = "hub:canceled_by_supplier"
    r = client.put(path, headers={**tokens["jean"], "Accept": JSONLD}, data=json.dumps(doc), content_type=JSONLD)
    assert r.status_code == 200, r.get_json()


def _stored_end(store, iri: str, end) -> None:
    """Rewrite a stored contract's last day straight in the store, as data from before the check would be."""
    from pyoxigraph import NamedNode, Triple
    from app.namespaces import T
    name = NamedNode(iri)
    kept = [t for t in store.graph(name) if t.predicate != T.endDate]
    store.replace_graphs({name: [*kept, Triple(name, T.endDate, end)]})


@pytest.mark.parametrize("end", ["9999-12-31", "9999-12-31T23:59:59-05:00", "10000-01-01"])
def test_a_stored_contract_ending_at_the_edge_of_the_calendar_breaks_neither_placements_nor_the_close(
        client, tokens, end):
    """Issue 20, finding 3: a contract ending 9999-12-31 made every placement between its parties 500
    (OverflowError), the hub's session close included: a supplier could keep a hub's session open."""
    from pyoxigraph import Literal, NamedNode
    from app.namespaces import XSD
    from support.orders import checkout, main_node, order, place
    store = client.application.extensions["dfc_hub"].store
    located = _post(client, tokens["jean"], contract((CARROTS_ITEM, "1.50"))).headers["Location"]
    kind = "dateTime" if "T" in end else "date"
    _stored_end(store, located, Literal(end, datatype=NamedNode(XSD + kind)))
    assert checkout(client, tokens["a"], "hub-a", (f"{HUB_A}/offers/jean-carrots", 2)).status_code == 201
    placed = place(client, tokens["a"], order((f"{JEAN}/offers/carrots", 1), status="dfc-v:Complete"))
    assert placed.status_code == 201, placed.get_data(as_text=True)
    line = next(n for n in placed.get_json()["@graph"] if n.get("@type") == "dfc-b:OrderLine")
    assert main_node(placed.get_json())["dfc-b:hasOrderStatus"] == "dfc-v:Complete"
    # Up to the end of time, or a day no reader can compute with (not a date: no contract price).
    assert (line["hub:priceSource"] == located) == (end != "10000-01-01"), line
    closed = client.post("/api/dfc/enterprises/hub-a/sale_sessions/week-48/close", headers=tokens["a"])
    assert closed.status_code == 200, closed.get_data(as_text=True)
