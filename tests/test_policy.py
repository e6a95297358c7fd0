"""The policy table (app/domain/policy.py) is what the routes do, for every kind of agent.

Each row of the table × each kind of agent calls the real route through the test client, on
the demo data (Jean's farm sells; hub A buys from it and runs sale session week-48; hub B is
another enterprise), and checks the answer: allowed → a success (or the 409 that comes after
the policy where the resource is still in use); refused → the 401 or 403 the table shows, as
problem+json, with nothing written.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import BASE, JSONLD, admin, make_app, token_for

from app.cli import main
from app.domain import policy
from app.domain.documents import Namespace
from app.reports import policy_table

API = BASE + "/api/dfc/enterprises"
JEAN, HUB_A, HUB_B = f"{API}/jean-farm", f"{API}/hub-a", f"{API}/hub-b"
CTX = "https://www.datafoodconsortium.org"
CARROTS = f"{JEAN}/offers/carrots"
PERSON, PLATFORM = "https://people.test/ali", "https://platform.test/ofn"
SESSION = "/api/dfc/enterprises/hub-a/sale_sessions/week-48"
ORDER = "/api/dfc/enterprises/jean-farm/orders/o1"
LINE = ORDER + "/order_lines/l1"


def _doc(**node) -> dict:
    return {"@context": CTX, **node}


def _order(id_=BASE + ORDER, quantity=1) -> dict:
    return _doc(**{"@id": id_, "@type": "dfc-b:Order", "dfc-b:orderedBy": HUB_A, "dfc-b:hasOrderStatus": "dfc-v:Held",
                   "dfc-b:hasPart": [{"@id": BASE + LINE, "@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity,
                                      "dfc-b:concerns": CARROTS}]})


def _product(iri: str, name: str = "Kale") -> dict:
    return _doc(**{"@id": iri, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": name})


def _catalog(resource: str, owner: str, segment: str, existing: str, body: dict) -> dict:
    """The requests of a catalogue kind: its collection, one it holds, and a new one."""
    path = f"{owner[len(BASE):]}/{segment}"
    new = _doc(**{"@id": f"{owner}/{segment}/new", **body})
    return {(resource, "list"): (owner, "GET", path, None),
            (resource, "read"): (owner, "GET", f"{path}/{existing}", None),
            (resource, "create"): (owner, "POST", path, new),
            (resource, "replace"): (owner, "PUT", f"{path}/new", new),
            (resource, "delete"): (owner, "DELETE", f"{path}/{existing}", None)}


SETTINGS = {"@context": [CTX, f"{BASE}/api/contexts/hub.jsonld"], "@id": f"{HUB_A}/settings",
            "@type": "hub:HubSettings", "hub:aggregateByWeight": False,
            "hub:consolidation": "hub:PerSessionAndProducer", "hub:settingsOf": HUB_A}
JEAN_PATH = "/api/dfc/enterprises/jean-farm"
# A public address, so no setting is needed; nothing here delivers, so nothing is sent to it.
WEBHOOK = {"url": "https://93.184.215.14/hooks/dfc", "events": ["procurement.order_received"]}

CONTRACT = JEAN_PATH + "/contracts/c1"


def _contract(id_=BASE + CONTRACT) -> dict:
    return {"@context": [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}], "@id": id_, "@type": "hub:Contract",
            "hub:consumer": {"@id": HUB_A}, "dfc-b:startDate": "2026-01-01", "dfc-b:endDate": "2026-12-31",
            "hub:contractPrice": {"hub:item": {"@id": f"{JEAN}/catalog_items/carrots"},
                                  "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": "2.50",
                                                     "dfc-b:hasUnit": {"@id": "dfc-m:Euro"}}}}

# A customer of hub A's, placed in the setup with a Draft checkout (it reserves nothing).
PERSON_PATH = "/api/dfc/enterprises/hub-a/persons/ali"

PARTNER = "/api/dfc/enterprises/hub-a/partners/far-farm"
# Nothing listens on port 9 of the loopback: a sync the policy allows then finds the partner down.
PARTNER_BODY = {"enterprise": "http://127.0.0.1:9/api/dfc/enterprises/far-farm",
                "catalog": "http://127.0.0.1:9/api/dfc/enterprises/far-farm/catalog",
                "orders": "http://127.0.0.1:9/api/dfc/enterprises/far-farm/orders", "token": "t0k3n"}

# (resource, action) → the owner the request concerns, and the request: method, path, JSON body.
REQUESTS = {
    ("enterprise", "list"): (JEAN, "GET", "/api/dfc/enterprises", None),
    ("enterprise", "read"): (JEAN, "GET", JEAN_PATH, None),
    ("enterprise", "replace"): (JEAN, "PUT", JEAN_PATH,
                                _doc(**{"@id": JEAN, "@type": "dfc-b:Enterprise", "dfc-b:name": "Jean's Farm"})),
    ("enterprise", "delete"): (JEAN, "DELETE", JEAN_PATH, None),
    ("catalog", "read"): (JEAN, "GET", JEAN_PATH + "/catalog", None),
    ("catalog", "import"): (JEAN, "POST", JEAN_PATH + "/catalog",
                            _product(f"{JEAN}/supplied_products/kale")),
    **_catalog("supplied_product", JEAN, "supplied_products", "carrots",
               {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Kale"}),
    **_catalog("catalog_item", JEAN, "catalog_items", "carrots",
               {"@type": "dfc-b:CatalogItem", "dfc-b:references": f"{JEAN}/supplied_products/carrots"}),
    **_catalog("offer", JEAN, "offers", "carrots",
               {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{JEAN}/catalog_items/carrots"}),
    **_catalog("sale_session", HUB_A, "sale_sessions", "week-48", {"@type": "dfc-b:SaleSession"}),
    ("sale_session", "close"): (HUB_A, "POST", SESSION + "/close", None),
    ("order", "list"): (JEAN, "GET", JEAN_PATH + "/orders", None),
    ("order", "read"): (JEAN, "GET", ORDER, None),
    ("order", "create"): (JEAN, "POST", JEAN_PATH + "/orders", _order("#")),
    ("order", "replace"): (JEAN, "PUT", ORDER, _order(quantity=2)),
    ("order", "delete"): (JEAN, "DELETE", ORDER, None),
    ("order", "transition"): (JEAN, "POST", ORDER + "/status", {"status": "placed"}),
    ("order", "deliveries"): (JEAN, "POST", ORDER + "/deliveries", _doc(**{
        "@type": "hub:Delivery", "hub:desiredDeliveryDate": "2026-12-01"})),
    ("order", "ship"): (JEAN, "POST", ORDER + "/deliveries/none/ship", None),
    ("order_line", "list"): (JEAN, "GET", ORDER + "/order_lines", None),
    ("order_line", "read"): (JEAN, "GET", LINE, None),
    ("order_line", "replace"): (JEAN, "PUT", LINE, _doc(**{"@id": BASE + LINE, "@type": "dfc-b:OrderLine",
                                                           "dfc-b:quantity": 3, "dfc-b:concerns": CARROTS})),
    ("order_line", "delete"): (JEAN, "DELETE", LINE, None),
    ("contract", "list"): (JEAN, "GET", JEAN_PATH + "/contracts", None),
    ("contract", "read"): (JEAN, "GET", CONTRACT, None),
    ("contract", "create"): (JEAN, "POST", JEAN_PATH + "/contracts", _contract("#")),
    ("contract", "replace"): (JEAN, "PUT", CONTRACT, _contract()),
    ("contract", "delete"): (JEAN, "DELETE", CONTRACT, None),
    ("hub_settings", "read"): (HUB_A, "GET", "/api/dfc/enterprises/hub-a/settings", None),
    ("hub_settings", "replace"): (HUB_A, "PUT", "/api/dfc/enterprises/hub-a/settings", SETTINGS),
    ("session_summary", "read"): (HUB_A, "GET", SESSION + "/summary", None),
    ("wholesale_orders", "list"): (HUB_A, "GET", SESSION + "/wholesale_orders", None),
    ("event", "list"): (JEAN, "GET", JEAN_PATH + "/events", None),
    ("webhook", "list"): (JEAN, "GET", JEAN_PATH + "/webhooks", None),
    ("webhook", "read"): (JEAN, "GET", JEAN_PATH + "/webhooks/{wid}", None),
    ("webhook", "create"): (JEAN, "POST", JEAN_PATH + "/webhooks", WEBHOOK),
    ("webhook", "delete"): (JEAN, "DELETE", JEAN_PATH + "/webhooks/{wid}", None),
    ("webhook", "replay"): (JEAN, "POST", JEAN_PATH + "/webhooks/{wid}/replay?after=evt_0", None),
    ("person", "read"): (HUB_A, "GET", PERSON_PATH, None),
    ("person", "export"): (HUB_A, "GET", PERSON_PATH + "/export", None),
    ("person", "erase"): (HUB_A, "DELETE", PERSON_PATH, None),
    ("analyst_dataset", "query"): (None, "GET", "/sparql?query=ASK%20%7B%7D", None),
    ("admin_tokens", "create"): (None, "POST", "/api/admin/tokens", {"agent": JEAN, "scopes": []}),
    ("conformance_validator", "validate"): (None, "POST", "/api/conformance/validate",
                                            _product(f"{JEAN}/supplied_products/kale")),
    ("service", "read"): (None, "GET", "/health", None),
    ("enterprise_board", "read"): (JEAN, "GET", "/pages/enterprises/jean-farm", None),
    ("page_session", "sign_in"): (None, "POST", "/pages/sign-out", None),
    ("partner", "read"): (HUB_A, "GET", PARTNER, None),
    ("partner", "replace"): (HUB_A, "PUT", PARTNER, PARTNER_BODY),
    ("partner", "delete"): (HUB_A, "DELETE", PARTNER, None),
    ("partner", "sync"): (HUB_A, "POST", PARTNER + "/sync", None),
}
# Allowed, and then refused for what the resource holds: the farm still has its catalogue; the
# order placed in the setup holds the carrots item; the partner's platform does not answer.
AFTER_POLICY = {("enterprise", "delete"): 409, ("catalog_item", "delete"): 409, ("partner", "sync"): 503,
                # A page's form without its CSRF token (this test sends none): refused, nothing kept.
                ("page_session", "sign_in"): 400}
# Allowed to try; the lifecycle table then decides (the buyer may place the draft, the seller may
# not; there is no delivery to ship): success or 409, never 401/403/404 for a party.
LIFECYCLE = {("order", "transition"), ("order", "deliveries"), ("order", "ship")}
# The seller passes the policy on its orders, then the lifecycle keeps the consumer's part from it:
# it may not make an order in hub A's name, nor change the lines hub A ordered (403).
CONSUMERS_PART = {("order", "create"), ("order", "replace"), ("order_line", "replace"), ("order_line", "delete")}
# Every role but the owner stands for the same agent on every row: hub A buys from Jean's farm.
ROLES = {"buyer": HUB_A, "other": HUB_B, "person": PERSON, "platform": PLATFORM}


def _cases():
    for row in policy.RULES:
        for kind in policy_table.AGENT_KINDS:
            if kind.applies(row):
                yield pytest.param(row, kind, id=f"{row.resource}-{row.action}-{kind.name}")


def _setup(app):
    """The demo data, one order hub A placed at Jean's farm: o1, with line l1 (1 kg of carrots),
    one webhook subscription of the farm (its id in `client.wid`), the farm's contract with hub A (c1),
    hub A's customer Ali, with a Draft checkout, and a partner platform of hub A's."""
    client = app.test_client()
    r = client.put(ORDER, headers=admin(), data=json.dumps(_order()), content_type=JSONLD)
    assert r.status_code == 201, r.get_data(as_text=True)
    r = client.post(JEAN_PATH + "/webhooks", headers=admin(), json=WEBHOOK)
    assert r.status_code == 201, r.get_data(as_text=True)
    client.wid = r.get_json()["id"]
    r = client.put(CONTRACT, headers=admin(), data=json.dumps(_contract()), content_type=JSONLD)
    assert r.status_code == 201, r.get_data(as_text=True)
    draft = _doc(**{"@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": BASE + PERSON_PATH, "dfc-b:hasOrderStatus": "dfc-v:Draft",
         "dfc-b:belongsTo": BASE + SESSION, "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1,
                                                              "dfc-b:concerns": f"{HUB_A}/offers/jean-carrots"}},
        {"@id": BASE + PERSON_PATH, "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]})
    r = client.post("/api/dfc/enterprises/hub-a/orders", headers=admin(), data=json.dumps(draft), content_type=JSONLD)
    assert r.status_code == 201, r.get_data(as_text=True)
    r = client.put(PARTNER, headers=admin(), json=PARTNER_BODY)
    assert r.status_code == 201, r.get_data(as_text=True)
    return client


# Not named `shared`: conftest skips every test asking for a fixture of that name (the reference
# data) where the reference data is absent, and these need none.
@pytest.fixture(scope="module")
def one_app():
    """For reads and refusals, which change nothing: one app, and its tokens, for all of them."""
    return _setup(make_app(webhook_allow_private=True)), {}


def _headers(client, kind, row, owner, tokens) -> dict:
    if kind.role == "anonymous":
        return {}
    if kind.role == "admin":
        return admin()
    iri = owner if kind.role == "owner" else ROLES[kind.role]
    scopes = kind.token_scopes(row)
    if (iri, scopes) not in tokens:
        tokens[iri, scopes] = token_for(client, iri, sorted(scopes) if scopes is not None else [])
    return tokens[iri, scopes]


@pytest.mark.parametrize("row,kind", list(_cases()))
def test_every_route_answers_every_agent_as_the_table_says(row, kind, one_app):
    owner, method, path, body = REQUESTS[(row.resource, row.action)]
    expected = policy_table.outcome(row, kind)
    changes = method != "GET" and expected is None
    client, tokens = (_setup(make_app(webhook_allow_private=True)), {}) if changes else one_app
    # Rows no enterprise owns (the admin API, /sparql…) give the owner's columns to Jean's farm.
    headers = {**_headers(client, kind, row, owner or JEAN, tokens), "Accept": "application/json"}
    store = client.application.extensions["dfc_hub"].store
    written = store.generation
    data = {} if body is None else {"data": json.dumps(body), "content_type": JSONLD}
    r = client.open(path.format(wid=client.wid), method=method, headers=headers, **data)
    if expected is None:
        after = AFTER_POLICY.get((row.resource, row.action))
        wanted = (after,) if after else (403,) if kind.role == "owner" and (row.resource, row.action) in CONSUMERS_PART \
            else (*range(200, 400), 404, 409) if (row.resource, row.action) in LIFECYCLE else range(200, 400)
        assert r.status_code in wanted, r.get_data(as_text=True)
    else:
        assert r.status_code == expected, r.get_data(as_text=True)
        assert r.mimetype == "application/problem+json"
        assert store.generation == written, "a refused request wrote to the store"


def test_the_order_rows_speak_for_real_orders():
    """The table's buyer is the buyer the order names: placing one as someone else is refused."""
    client = _setup(make_app(webhook_allow_private=True))
    hub_b = token_for(client, HUB_B)
    r = client.post(JEAN_PATH + "/orders", headers=hub_b, data=json.dumps(_order("#")), content_type=JSONLD)
    assert r.status_code == 403 and "may only write the orders it placed itself" in r.get_json()["detail"]
    mine = {**_order("#"), "dfc-b:orderedBy": HUB_B}
    assert client.post(JEAN_PATH + "/orders", headers=hub_b, data=json.dumps(mine),
                       content_type=JSONLD).status_code == 201
    # Naming itself the buyer of hub A's order does not make hub B its buyer: both must agree.
    takeover = {**_order(quantity=5), "dfc-b:orderedBy": HUB_B}
    assert client.put(ORDER, headers=hub_b, data=json.dumps(takeover), content_type=JSONLD).status_code == 403
    listed = client.get(JEAN_PATH + "/orders", headers=hub_b)
    assert listed.headers["X-Total-Count"] == "1"       # its own order, not hub A's
    assert client.get(JEAN_PATH + "/orders", headers=admin()).headers["X-Total-Count"] == "2"


def test_a_token_that_may_write_orders_reads_what_they_hold():
    """Like an order and the orders listing, a session's summary and wholesale orders are read
    with ReadOrders or WriteOrders (they once wanted ReadOrders alone)."""
    client = _setup(make_app(webhook_allow_private=True))
    writer = token_for(client, HUB_A, ["WriteOrders"])
    assert client.get(SESSION + "/summary", headers=writer).status_code == 200
    assert client.get(SESSION + "/wholesale_orders", headers=writer).status_code == 200
    products = token_for(client, HUB_A, ["WriteProducts"])
    assert client.get(SESSION + "/summary", headers=products).status_code == 403


def test_every_route_has_a_row_and_every_row_a_route():
    app = make_app(demo=False)
    routes = {f"{m} {r.endpoint}" for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}
    covered = {route for row in policy.RULES for route in row.routes}
    assert routes - covered == set(), "add a row to app/domain/policy.py for these routes"
    assert covered - routes == set(), "these rows name routes that do not exist"


def test_every_row_is_called_by_the_test():
    keys = [(r.resource, r.action) for r in policy.RULES]
    assert len(set(keys)) == len(keys), "a row is given twice"
    assert set(keys) == set(REQUESTS)


def test_a_refusal_says_what_the_table_says():
    with pytest.raises(Exception) as e:
        policy.require(None, "order", "delete")
    assert e.value.status == 401 and e.value.detail == "writing an order needs a bearer token"
    scoped = policy.Agent(JEAN, frozenset({"ReadProducts"}))
    with pytest.raises(Exception) as e:
        policy.require(scoped, "order", "read", owner=Namespace(BASE, "jean-farm"))
    assert e.value.status == 403 and e.value.extra == {"scopes": ["ReadProducts"]}
    assert "ReadOrders or WriteOrders" in e.value.detail


def test_docs_policy_md_is_the_table(tmp_path):
    out = tmp_path / "policy.md"
    result = CliRunner().invoke(main, ["policy-table", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == policy_table.OUTPUT.read_text(encoding="utf-8"), \
        "run `dfc-hub policy-table` and commit docs/policy.md"


# --- what anyone may read: an allowlist (API.md "What anyone may read") -----------------------------

HUB_NS = "https://w3id.org/dfc-order-hub/ns#"
B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"


def _write(app, graph: str, *statements: tuple[str, str, object]) -> None:
    """Write a document straight through a unit of work, as a kind added later would be written."""
    from pyoxigraph import Literal, NamedNode, Triple
    name = NamedNode(graph)
    triples = [Triple(NamedNode(s), NamedNode(p), NamedNode(o[1:-1]) if str(o).startswith("<") else Literal(o))
               for s, p, o in statements]
    with app.extensions["dfc_hub"].store.transaction() as tx:
        tx.put(name, triples)


def test_the_public_kinds_are_those_api_md_lists_and_no_private_one():
    listed = {B + t for t in ("Enterprise", "SuppliedProduct", "CatalogItem", "Offer", "SaleSession")}
    assert listed <= {t.value for t in policy.PUBLIC_TYPES}
    private = {B + t for t in ("Order", "OrderLine", "Person")} | \
        {HUB_NS + t for t in ("Contract", "HubSettings", "WebhookSubscription", "WebhookDelivery", "DeliveryAttempt", "DeliveryBatch",
                              "Partner", "Event", "IdempotentResponse", "ErasedPerson", "Pseudonym")}
    assert not {t.value for t in policy.PUBLIC_TYPES} & private
    assert policy.is_public([]) is False


def test_a_kind_nobody_listed_is_shown_by_no_route_that_needs_no_token():
    """Documents of a kind added later, in an enterprise's namespace, under a public collection's
    path or beside it, alone or beside a public type: the catalogue, the collection, the document
    GET and the analysts' dataset show none of them, to anyone (main published them all in the
    catalogue)."""
    app = make_app()
    client = app.test_client()
    kind, note = "<" + HUB_NS + "Novelty>", HUB_NS + "note"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    for path, types in (("/offers/novel", [kind]), ("/offers/both", [kind, f"<{B}Offer>"]),
                        ("/novelties/n1", [kind]), ("/loose", [])):
        graph = JEAN + path
        _write(app, graph, *[(graph, rdf_type, t) for t in types], (graph, note, "N0VELTY-" + path))
    readers = {"anonymous": {}, "another enterprise": token_for(client, HUB_B),
               "the owner": token_for(client, JEAN), "an analyst": token_for(client, PLATFORM, ["Analytics"])}
    for who, token in readers.items():
        for path in ("/catalog", "/offers", "/offers/carrots"):
            r = client.get(JEAN_PATH + path, headers={**token, "Accept": "application/n-triples"})
            assert r.status_code == 200 and b"N0VELTY" not in r.data, (who, path)
        for path in ("/offers/novel", "/offers/both"):
            assert client.get(JEAN_PATH + path, headers=token).status_code == 404, (who, path)
    sparql = client.get("/sparql", headers={**readers["an analyst"], "Accept": "text/turtle"},
                        query_string={"query": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"})
    assert sparql.status_code == 200 and b"carrots" in sparql.data and b"N0VELTY" not in sparql.data


def test_a_partners_copy_of_a_remote_enterprise_is_not_in_the_enterprises_listing():
    """What a sync keeps is the hub's: the listing holds this server's enterprises only."""
    app = make_app()
    remote = "https://partner.example/api/dfc/enterprises/far-farm"
    _write(app, remote, (remote, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"<{B}Enterprise>"),
           (remote, HUB_NS + "fetchedBy", f"<{BASE}{PARTNER}>"))
    body = app.test_client().get("/api/dfc/enterprises").get_json()
    assert {n["@id"] for n in body["@graph"]} == {JEAN, HUB_A, HUB_B}


def test_who_belongs_to_a_customer_category_is_its_owners_to_read_however_it_is_reached():
    """A category at a path a catalogue collection serves (an FDC-style nested id): its members
    are hidden from everyone but the farm there too, as in the catalogue."""
    app = make_app()
    client = app.test_client()
    category = f"{JEAN}/offers/restaurants/category"
    body = {"@context": [CTX, {"hub": HUB_NS}], "@graph": [
        {"@id": category, "@type": "dfc-b:CustomerCategory", "dfc-b:description": "restaurants",
         "hub:member": [{"@id": HUB_A}]}]}
    r = client.post(JEAN_PATH + "/catalog", headers=admin(), data=json.dumps(body), content_type=JSONLD)
    assert r.status_code == 200, r.get_data(as_text=True)
    path = category[len(BASE):]
    for who, token in (("anonymous", {}), ("hub A, the member", token_for(client, HUB_A))):
        for url in (path, JEAN_PATH + "/catalog"):
            r = client.get(url, headers={**token, "Accept": "application/n-triples"})
            assert r.status_code == 200 and b"restaurants" in r.data and b"member" not in r.data, (who, url)
    for url in (path, JEAN_PATH + "/catalog"):
        assert b"member" in client.get(url, headers={**token_for(client, JEAN), "Accept": "text/turtle"}).data
