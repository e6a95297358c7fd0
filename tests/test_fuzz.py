"""Every route, fed generated hostile JSON-LD: never a 5xx, and a 4xx changes nothing (issue 9).

Payloads start from what real clients send (orders, lines, offers, items, sessions, people,
settings) and are then made hostile the way an outside review did by hand: terms given twice
or under two spellings, literals of the wrong datatype, `@id`s naming other enterprises'
documents, the token graph or nothing valid at all, lists of thousands of items, nesting down
to the JSON depth limit, `@graph`/`@reverse`/`@included` nodes. Every request runs against one
app on an in-memory store (what 2xx answers write stays, so later examples meet a changed
store); the whole store is dumped before and after each request.

Derandomised and bounded, so a CI run is reproducible and takes well under a minute.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import ADMIN, BASE, make_app, token_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.clock import ManualClock

API = f"{BASE}/api/dfc/enterprises"
MONDAY = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)
DFC = "https://www.datafoodconsortium.org"
CONTEXTS = [DFC, [DFC, {"hub": "https://w3id.org/dfc-order-hub/ns#"}],
            "https://w3id.org/dfc/ontology/context/context_2.0.0.json"]
ENTERPRISES = ["jean-farm", "hub-a", "hub-b"]
RUNS = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=list(HealthCheck))

# --- what a hostile partner sends ---------------------------------------------------------------

FOREIGN_IDS = [f"{API}/hub-a/offers/jean-carrots", f"{API}/jean-farm/catalog_items/carrots",
               f"{API}/jean-farm/offers/carrots", f"{API}/hub-b", f"{API}/hub-a/sale_sessions/week-48",
               f"{API}/jean-farm/supplied_products/carrots", f"{API}/hub-a/settings",
               f"{API}/jean-farm/orders", f"{API}/jean-farm/orders/#", f"{API}/hub-a/persons/x",
               "urn:x-dfc-hub:tokens", "mailto:bob@private.example", "http://evil.example/x"]
ODD_IDS = ["", "#", "_:b0", "a b", "http://x.test/a b", "http://x.test/a|b", "http://x.test/<x>",
           f"{API}/jean-farm/offers/../../hub-a/offers/jean-carrots", f"{API}/jean-farm/offers/a%2F..%2Fb",
           "http://[::1", "javascript:alert(1)", "dfc-b:Order", "x:y", "\u00e9t\u00e9", "http://x.test/\u0000",
           f"{API}/jean-farm/offers/./carrots", "//no-scheme", "?q", "http://x.test/" + "a" * 3000]
TYPES = ["dfc-b:Order", "dfc-b:OrderLine", "dfc-b:Offer", "dfc-b:CatalogItem", "dfc-b:SuppliedProduct",
         "dfc-b:SaleSession", "dfc-b:Enterprise", "dfc-b:Person", "dfc-b:QuantitativeValue", "dfc-b:Price",
         "hub:HubSettings", "dfc-b:Entreprise", "owl:Thing", "@json", "Order", "dfc-v:Held"]
XSD_TYPES = ["xsd:decimal", "xsd:integer", "xsd:double", "xsd:boolean", "xsd:dateTime", "xsd:date",
             "xsd:string", "xsd:int", "xsd:gYear", "xsd:duration", "rdf:JSON", "http://x.test/type", "@json"]
TERMS = ["dfc-b:hasOrderStatus", "dfc-b:orderedBy", "dfc-b:hasPart", "dfc-b:concerns", "dfc-b:quantity",
         "dfc-b:hasQuantity", "dfc-b:value", "dfc-b:belongsTo", "dfc-b:stockLimitation", "dfc-b:references",
         "dfc-b:offeredItem", "dfc-b:offeredThrough", "dfc-b:hasPrice", "dfc-b:discount", "dfc-b:name",
         "dfc-b:description", "dfc-b:firstName", "dfc-b:email", "dfc-b:startDate", "dfc-b:endDate",
         "dfc-b:hasFulfilmentStatus", "dfc-b:soldBy", "dfc-b:hasUnit", "hub:onHand", "hub:held",
         "hub:committed", "hub:consolidation", "hub:aggregateByWeight", "hub:stockItem", "hub:customerOrder",
         "hub:wholesaleLine", "hub:closedAt", "hub:holdUntil", "hub:holdMinutes", "dfc-b:OrderedBy", "dfc-b:hasOrderState", "dfc-b:beginDate",
         "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#quantity",
         "https://w3id.org/dfc/ontology/business#orderedBy", "@reverse", "@included", "@nest"]
STATUSES = ["dfc-v:Held", "dfc-v:Draft", "dfc-v:Complete", "dfc-v:Cancelled", "dfc-v:Fulfilled", "Held", ""]
OFFERS = [f"{API}/jean-farm/offers/carrots", f"{API}/hub-a/offers/jean-carrots", f"{API}/hub-b/offers/jean-carrots"]

text = st.text(max_size=12)
numbers = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["3", "-1", "1e400", "NaN", "0x10", "1,5", " 2 ", "", "٣", "1" * 400]))
# Mostly IRIs that parse (so that payloads reach the rules behind the parser), some that do not.
iris = st.one_of(st.sampled_from(FOREIGN_IDS + OFFERS), st.sampled_from(FOREIGN_IDS + OFFERS),
                 st.sampled_from(ODD_IDS), st.text("abc:/#-_.%", max_size=12))
literal = st.one_of(numbers, text, st.booleans(), st.none(),
                    st.builds(lambda v, t: {"@value": v, "@type": t}, st.one_of(text, numbers), st.sampled_from(XSD_TYPES)),
                    st.builds(lambda v, lang: {"@value": v, "@language": lang}, text, st.sampled_from(["en", "", "x y", "fr-FR"])),
                    st.builds(lambda i: {"@id": i}, iris))
leaf = st.one_of(literal, iris, st.sampled_from(STATUSES))


def _node(children):
    entries = st.dictionaries(st.sampled_from(TERMS), st.one_of(children, st.lists(children, max_size=4)), max_size=6)
    return st.builds(lambda t, i, e: {**({"@type": t} if t else {}), **({"@id": i} if i is not None else {}), **e},
                     st.one_of(st.none(), st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), max_size=3)),
                     st.one_of(st.none(), iris), entries)


nodes = st.recursive(leaf, _node, max_leaves=25)


def _order(status, buyer, offer, quantity, extra, session):
    doc = {"@type": "dfc-b:Order", "dfc-b:hasOrderStatus": status, "dfc-b:orderedBy": buyer,
           "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": offer, "dfc-b:quantity": quantity}}
    if session:
        doc["dfc-b:belongsTo"] = session
    doc.update(extra)
    return doc


buyers = st.one_of(st.sampled_from([f"{API}/hub-a", f"{API}/hub-b", "_:p"]),
                   st.sampled_from([f"{API}/hub-a", f"{API}/hub-b"]), iris,
                   st.builds(lambda i, n: {"@id": i, "@type": "dfc-b:Person", "dfc-b:firstName": n},
                             st.sampled_from(["_:p", "mailto:bob@private.example"] + FOREIGN_IDS), text))
orders = st.builds(_order, st.sampled_from(STATUSES[:4] + STATUSES), buyers,
                   st.one_of(st.sampled_from(OFFERS), st.sampled_from(OFFERS), iris),
                   st.one_of(st.integers(0, 20), st.integers(0, 20), numbers,
                             st.lists(numbers, min_size=2, max_size=3), literal),
                   st.one_of(st.just({}), st.just({}), st.dictionaries(st.sampled_from(TERMS), nodes, max_size=2)),
                   st.sampled_from([None, f"{API}/hub-a/sale_sessions/week-48", f"{API}/hub-b/sale_sessions/week-48"]))


def _deep(depth, term):
    doc = {"@value": "x"}
    for _ in range(depth):
        doc = {term: doc}
    return doc


def _huge(n, what):
    return [what] * n


hostile_values = st.one_of(
    nodes,
    st.builds(_deep, st.integers(20, 70), st.sampled_from(["dfc-b:hasPart", "dfc-b:description", "@nest"])),
    st.builds(_huge, st.integers(200, 3000), st.one_of(leaf, st.sampled_from(
        [{"@type": "dfc-b:OrderLine", "dfc-b:concerns": OFFERS[0], "dfc-b:quantity": 0}]))),
)
documents = st.builds(
    lambda ctx, base, extra, wrap: wrap({"@context": ctx, **base, **extra}),
    st.sampled_from(CONTEXTS),
    st.one_of(orders, _node(nodes).filter(lambda d: isinstance(d, dict))),
    st.dictionaries(st.sampled_from(TERMS), hostile_values, max_size=2),
    st.sampled_from([lambda d: d,
                     lambda d: {"@context": d.pop("@context"), "@graph": [d, {"@id": FOREIGN_IDS[1], "hub:held": -5}]},
                     lambda d: [d, d],
                     lambda d: {**d, "@included": [{"@id": FOREIGN_IDS[0], "@type": "dfc-b:Person"}]}]))
raw_bodies = st.one_of(st.binary(max_size=64), st.sampled_from(
    [b"", b"null", b"[]", b"{}", b'{"@context": {}}', b'{"@context": "http://127.0.0.1:9/x"}', b"\xff\xfe",
     b'"\\ud800"', b'{"@context": "https://www.datafoodconsortium.org", "@id": "\\ud800"}',
     b"<a> <b> <c> .", b"@prefix : <http://x/> . :a :b [ :c " + b"[ :c " * 200 + b"1" + b"]" * 201 + b" ."]))

# --- the routes ---------------------------------------------------------------------------------

SEGMENTS = ["supplied_products", "catalog_items", "offers", "sale_sessions", "SuppliedProducts", "Offers"]
IDS = ["carrots", "jean-carrots", "week-48", "new-one", "x", "a%20b", "..", "..%2F..%2Fhub-a", "%FF", "a%7Cb"]
E, SEG, ID = (st.sampled_from(x) for x in (ENTERPRISES, SEGMENTS, IDS))
# (methods, path) for every route of API.md, with ids that exist, do not, or cannot.
ROUTES = st.one_of(
    st.tuples(st.just("GET"), st.sampled_from(["/api/dfc/enterprises", "/api/dfc/Enterprises"])),
    st.tuples(st.sampled_from(["GET", "PUT", "DELETE"]),
              st.builds("/api/dfc/enterprises/{}".format, st.sampled_from(ENTERPRISES + ["nobody", "a%00"]))),
    st.tuples(st.sampled_from(["GET", "POST"]), st.builds("/api/dfc/enterprises/{}/catalog".format, E)),
    st.tuples(st.sampled_from(["GET", "PUT"]), st.builds("/api/dfc/enterprises/{}/settings".format, E)),
    st.tuples(st.sampled_from(["GET", "POST"]), st.builds("/api/dfc/enterprises/{}/{}".format, E, SEG)),
    st.tuples(st.sampled_from(["GET", "PUT", "DELETE"]), st.builds("/api/dfc/enterprises/{}/{}/{}".format, E, SEG, ID)),
    st.tuples(st.sampled_from(["GET", "POST"]),
              st.builds("/api/dfc/enterprises/{}/{}".format, E, st.sampled_from(["orders", "Orders"]))),
    st.tuples(st.sampled_from(["GET", "PUT", "DELETE"]),
              st.builds("/api/dfc/enterprises/{}/orders/{}".format, E, st.sampled_from(IDS + ["known"] * 4))),
    st.tuples(st.sampled_from(["GET", "PUT", "DELETE"]),
              st.builds("/api/dfc/enterprises/{}/orders/{}/order_lines/{}".format, E,
                        st.sampled_from(["known", "known", "x"]), st.sampled_from(["known", "known", "x", ".."]))),
    st.tuples(st.just("GET"), st.builds("/api/dfc/enterprises/{}/orders/{}/order_lines".format, E,
                                        st.sampled_from(["known", "x"]))),
    st.tuples(st.just("POST"), st.builds("/api/dfc/enterprises/{}/sale_sessions/{}/close".format, E,
                                         st.sampled_from(["week-48", "x", "%20"]))),
    st.tuples(st.just("GET"), st.builds("/api/dfc/enterprises/{}/sale_sessions/{}/{}".format, E,
                                        st.sampled_from(["week-48", "x", "%20"]),
                                        st.sampled_from(["summary", "wholesale_orders"]))),
    st.tuples(st.sampled_from(["POST", "GET"]), st.sampled_from(
        ["/api/admin/tokens", "/api/conformance/validate", "/sparql", "/conformance"])),
    st.tuples(st.sampled_from(["PATCH", "DELETE", "PUT"]), st.sampled_from(["/api/dfc/enterprises", "/sparql"])),
)
MEDIA = st.sampled_from(["application/ld+json", "application/json", "text/turtle", "text/plain"])


# --- the app, and the checks ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def hub():
    app = make_app(clock=ManualClock(MONDAY))
    client = app.test_client()
    tokens = {"none": {}, "admin": {"Authorization": f"Bearer {ADMIN}"},
              "garbage jwt": {"Authorization": "Bearer eyJhbGciOiAiUlMyNTYifQ.eyJpc3MiOiBbIngiXX0.AAAA"}}
    for eid in ENTERPRISES:
        tokens[eid] = token_for(client, f"{API}/{eid}")
        tokens[eid + " ReadProducts"] = token_for(client, f"{API}/{eid}", ["ReadProducts"])
    tokens["hub-a WriteOrders"] = token_for(client, f"{API}/hub-a", ["WriteOrders"])
    # One real order, so that order and line routes have something to find.
    doc = {"@context": DFC, **_order("dfc-v:Held", f"{API}/hub-b", OFFERS[0], 1, {}, None)}
    known = client.post("/api/dfc/enterprises/jean-farm/orders", headers=tokens["hub-b"],
                        data=json.dumps(doc), content_type="application/ld+json")
    assert known.status_code == 201, known.get_data(as_text=True)
    order = known.headers["Location"][len(BASE):]
    line = client.get(order, headers=tokens["hub-b"]).get_json()
    line_id = next(n["@id"] for n in line["@graph"] if n.get("@type") == "dfc-b:OrderLine").rsplit("/", 1)[-1]
    return app, client, tokens, order.rsplit("/", 1)[-1], line_id


def dump(app) -> list[str]:
    store = app.extensions["dfc_hub"].store
    return sorted(str(r) for r in store.select("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"))


ACCEPT = st.sampled_from([None, None, "application/ld+json", "text/turtle", "text/html", "*/*;q=0", "text/csv"])


def check(hub, method, path, who, body, media, accept=None):
    app, client, tokens, order, line = hub
    path = path.replace("orders/known/order_lines/known", f"orders/{order}/order_lines/{line}")
    path = path.replace("orders/known", f"orders/{order}")
    before = dump(app)
    headers = {**tokens[who], **({"Accept": accept} if accept else {})}
    r = client.open(path, method=method, headers=headers, data=body, content_type=media)
    assert r.status_code < 500, f"{method} {path} as {who}: {r.status_code} {r.get_data(as_text=True)[:500]}"
    if 400 <= r.status_code < 500:
        # The /conformance page answers its form in HTML; every API route in problem+json.
        assert r.mimetype == "application/problem+json" or path == "/conformance", (method, path, r.status_code)
        assert dump(app) == before, f"{method} {path} as {who} answered {r.status_code} but changed the store"


TOKENS = st.sampled_from(["none", "admin", "garbage jwt", "jean-farm", "hub-a", "hub-b", "jean-farm ReadProducts",
                          "hub-a WriteOrders"])


@settings(RUNS, max_examples=250)
@given(route=ROUTES, who=TOKENS, doc=documents, accept=ACCEPT)
def test_hostile_json_ld_on_every_route(hub, route, who, doc, accept):
    check(hub, *route, who, json.dumps(doc).encode(), "application/ld+json", accept)


@settings(RUNS, max_examples=80)
@given(route=ROUTES, who=TOKENS, body=raw_bodies, media=MEDIA)
def test_unreadable_bodies_and_odd_paths_on_every_route(hub, route, who, body, media):
    check(hub, *route, who, body, media)


@settings(RUNS, max_examples=150)
@given(doc=st.builds(lambda o, extra: {"@context": DFC, **o, **extra}, orders,
                     st.one_of(st.just({}), st.just({}), st.dictionaries(st.sampled_from(TERMS), hostile_values,
                                                                         max_size=1))),
       seller=st.sampled_from(ENTERPRISES), who=st.sampled_from(["hub-a", "hub-b", "hub-a WriteOrders", "admin"]),
       put=st.booleans(), accept=ACCEPT)
def test_hostile_orders_reach_the_order_book(hub, doc, seller, who, put, accept):
    """Orders close to valid ones, so that they pass the shapes and meet the reservation rules."""
    path = f"/api/dfc/enterprises/{seller}/orders" + ("/known" if put and seller == "jean-farm" else "")
    check(hub, "PUT" if put and seller == "jean-farm" else "POST", path, who, json.dumps(doc).encode(),
          "application/ld+json", accept)
