"""A crawler over every GET route the OpenAPI description lists (API.md "What anyone may read").

A scenario uses every feature on a real server on 127.0.0.1: a catalogue with a customer
category, a sale session with checkouts by two named customers (one then erased), a kept answer
for a retry, a hub's settings, a wholesale order through its lifecycle with deliveries, a
contract, webhooks that delivered, a partner platform (a second server) with its token, synced
and forwarded to, and the events all that made. Then the crawler reads `/api/openapi.json`, fills
each GET route's path parameters with what the answers hold (as the admin sees them, so private
routes are reached too), and asks every route as anonymous, as another enterprise, as one of the
customers and as an analytics platform, in JSON-LD, Turtle and N-Triples. An answer fails when it
holds a secret, a customer's personal data, or a statement that only a document the agent may not
read holds. A route added later is crawled without a word here; one whose parameters no answer
gives fails the coverage test, naming it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import defaultdict
from functools import cached_property

import pyoxigraph as ox
import pytest
import requests

from app.cli import FIXTURES
from app.events import outbox as events
from app.domain.clock import ManualClock
from app.runtime.loading import load_files
from app.rdf import parse_jsonld
from app.rdf.answer_context import own_contexts
from conftest import ADMIN, make_app
from support.leaks import BARNABE, ZEPHYRINE, findings
from support.lifecycle import Api, Orders
from support.orders import CTX, MONDAY
from support.own_validator import judgeable, refusals
from support.threaded_server import serving
from support.webhook_receiver import receiving

# Not rerun with the calendar moved: every date it builds and every clock its apps read are its
# ManualClock's (the tests that start `dfc-hub` on the wall clock are rerun).
pytestmark = pytest.mark.dateless("its apps run in this process on a ManualClock at fixed dates")

B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
JSONLD, TURTLE, NTRIPLES = "application/ld+json", "text/turtle", "application/n-triples"
FORMATS = (JSONLD, TURTLE, NTRIPLES)
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
HUB_CTX = [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}]
# What anyone may read, as API.md lists it: each enterprise's profile, its catalogue (products,
# items, offers, and the customer categories offers are made to, without their members), its
# sale sessions. Any other kind of document, named here or not, is private.
PUBLIC_TYPES = {B + t for t in ("Enterprise", "SuppliedProduct", "CatalogItem", "Offer", "SaleSession",
                                "CustomerCategory")}
PRIVATE_TERMS = {"https://w3id.org/dfc-order-hub/ns#member", B + "hasMember"}
# Query parameters a route requires, and what the crawler sends: every graph, for /sparql.
QUERY_VALUES = {"query": "CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"}
PARTNER_TOKEN = "partner-token-7c1f0e9b2d4a"


@dataclasses.dataclass
class World:
    """The crawled server after the scenario: its base URL, its store and what must never leave it."""
    base: str
    store: object
    secrets: dict[str, str]
    tokens: dict[str, dict]
    person: str                       # the IRI of the customer who crawls as a person

    @cached_property
    def api(self) -> str:
        return self.base + "/api/dfc/enterprises"

    @cached_property
    def kinds(self) -> dict[str, set[str]]:
        """Every graph of the store → the types of its main node."""
        out = defaultdict(set)
        for row in self.store.select("SELECT ?g ?t WHERE { GRAPH ?g { ?s ?p ?o } OPTIONAL { GRAPH ?g { ?g a ?t } } }"):
            out[row["g"].value].update([row["t"].value] if "t" in row else [])
        return out

    @cached_property
    def holders(self) -> dict[tuple[str, str], set[str]]:
        """(subject IRI, predicate) → the graphs stating something with them."""
        out = defaultdict(set)
        rows = self.store.select("SELECT DISTINCT ?g ?s ?p WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) }")
        for row in rows:
            out[(row["s"].value, row["p"].value)].add(row["g"].value)
        return out

    def public(self, graph: str) -> bool:
        types = self.kinds.get(graph, set())
        return graph.startswith(self.api + "/") and bool(types) and types <= PUBLIC_TYPES

    @cached_property
    def orders_of_person(self) -> set[str]:
        rows = self.store.select("SELECT ?g WHERE { GRAPH ?g { ?g a ?order ; ?by ?person } }",
                                 {"order": ox.NamedNode(B + "Order"), "by": ox.NamedNode(B + "orderedBy"),
                                  "person": ox.NamedNode(self.person)})
        return {r["g"].value for r in rows}

    def readable(self, agent: str, path: str):
        """What `agent` may read on `path`: a test of graph names."""
        if agent == "other enterprise":
            return lambda g: self.public(g) or g.startswith(self.api + "/hub-b/")
        if agent == "person":
            return lambda g: self.public(g) or g in self.orders_of_person
        if agent == "analyst" and path.startswith("/sparql"):
            # The anonymised dataset (API.md "Analytics"): the public documents and the orders.
            return lambda g: self.public(g) or (g.startswith(self.api + "/") and B + "Order" in self.kinds.get(g, ()))
        return self.public


# --- the scenario -------------------------------------------------------------------------------

def _ok(r: requests.Response, *codes) -> requests.Response:
    assert r.status_code in (codes or (200, 201)), (r.request.method, r.url, r.status_code, r.text[:400])
    return r


def _token(http, base, agent, scopes=()) -> dict:
    r = _ok(http.post(f"{base}/api/admin/tokens", json={"agent": agent, "scopes": list(scopes)}, headers=ADMIN_H))
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _put(http, iri, node, headers=ADMIN_H):
    _ok(http.put(iri, json={"@context": CTX, "@id": iri, **node}, headers=headers))


def _checkout(http, hub_api, token, person, offer, note=None, buyer="_:buyer", **headers):
    order = {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer, "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{hub_api}/sale_sessions/week-48",
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1, "dfc-b:concerns": offer}]}
    if note:
        order["dfc-b:description"] = note
    doc = {"@context": CTX, "@graph": [order, person.jsonld(buyer)]}
    return _ok(http.post(f"{hub_api}/orders", json=doc, headers={**token, **headers}), 201)


def _remote_platform(http, remote: str):
    """Jean's beets on another platform of ours, the partner."""
    jean = f"{remote}/api/dfc/enterprises/jean-farm"
    _put(http, jean, {"@type": "dfc-b:Enterprise", "dfc-b:name": "Jean on the partner platform"})
    _put(http, f"{jean}/supplied_products/beets", {"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "beets"})
    _put(http, f"{jean}/catalog_items/beets", {"@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 50,
                                               "dfc-b:references": f"{jean}/supplied_products/beets"})
    _put(http, f"{jean}/offers/beets", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{jean}/catalog_items/beets",
                                        "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2,
                                                           "dfc-b:hasUnit": "dfc-m:Euro"}})
    return jean


def _scenario(http, base: str, remote: str, receiver_url: str, dispatcher) -> tuple[dict, dict, str]:
    """Use every feature once; return the secrets given out, the crawlers' tokens and the person crawling."""
    api = f"{base}/api/dfc/enterprises"
    jean, hub_a = f"{api}/jean-farm", f"{api}/hub-a"
    tokens = {"jean": _token(http, base, jean), "hub-a": _token(http, base, hub_a)}
    secrets = {"admin token": ADMIN, "partner token": PARTNER_TOKEN}

    # The catalogue, with a customer category whose members only the farm may see.
    category = {"@context": HUB_CTX, "@graph": [{"@id": f"{jean}/customer_categories/restaurants",
                                                 "@type": "dfc-b:CustomerCategory", "dfc-b:description": "restaurants",
                                                 "hub:member": [{"@id": hub_a}]}]}
    _ok(http.post(f"{jean}/catalog", json=category, headers=tokens["jean"]), 200)
    _ok(http.put(f"{hub_a}/settings", json={"@context": HUB_CTX, "@type": "hub:HubSettings",
                                            "hub:aggregateByWeight": False}, headers=tokens["hub-a"]), 200)

    # Webhooks of the farm and the hub, before anything happens.
    for eid, name in (("jean-farm", "jean"), ("hub-a", "hub-a")):
        made = _ok(http.post(f"{api}/{eid}/webhooks", headers=tokens[name],
                             json={"url": receiver_url, "events": list(events.TYPES)}), 201).json()
        secrets[f"{eid}'s signing secret"] = made["secret"]
        secrets[f"{eid}'s signing key"] = made["secret"].removeprefix("whsec_")

    # A partner platform the hub buys beets from, with the token it gave the hub.
    remote_jean = _remote_platform(http, remote)
    remote_token = _token(http, remote, hub_a)["Authorization"].split(" ", 1)[1]
    secrets["the token the partner issued"] = remote_token
    _ok(http.put(f"{hub_a}/partners/jean", headers=tokens["hub-a"], json={
        "enterprise": remote_jean, "catalog": f"{remote_jean}/catalog", "orders": f"{remote_jean}/orders",
        "token": PARTNER_TOKEN}))
    _ok(http.put(f"{hub_a}/partners/jean", headers=tokens["hub-a"], json={       # the real one, kept after
        "enterprise": remote_jean, "catalog": f"{remote_jean}/catalog", "orders": f"{remote_jean}/orders",
        "token": remote_token}))
    _ok(http.post(f"{hub_a}/partners/jean/sync", headers=tokens["hub-a"]), 200)
    # Partners signed in at an identity provider (OAuth 2.0): client and refresh credentials.
    oauth = {"client secret": "cl1ent-s3cret-9d2e", "refresh token": "r3fresh-t0ken-41ac"}
    secrets |= {f"a partner's {name}": value for name, value in oauth.items()}
    for slug, auth in (("jean-client", {"kind": "client_credentials", "client_secret": oauth["client secret"]}),
                       ("jean-refresh", {"kind": "refresh_token", "refresh_token": oauth["refresh token"]})):
        _ok(http.put(f"{hub_a}/partners/{slug}", headers=tokens["hub-a"], json={
            "enterprise": remote_jean, "catalog": f"{remote_jean}/catalog", "orders": f"{remote_jean}/orders",
            "auth": {**auth, "token_url": f"{remote}/token", "client_id": "hub-a"}}), 201)
    _put(http, f"{hub_a}/catalog_items/remote-beets", {"@type": "dfc-b:CatalogItem",
                                                       "dfc-b:references": f"{remote_jean}/supplied_products/beets"},
         tokens["hub-a"])
    _put(http, f"{hub_a}/offers/remote-beets", {"@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{hub_a}/catalog_items/remote-beets",
                                                "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 3,
                                                                   "dfc-b:hasUnit": "dfc-m:Euro"}}, tokens["hub-a"])

    # Checkouts by two named customers (one kept for a retry), one of them then erased.
    zephyrine = _checkout(http, hub_a, tokens["hub-a"], ZEPHYRINE, f"{hub_a}/offers/jean-carrots",
                          note=f"{ZEPHYRINE.first_name} collects", **{"Idempotency-Key": "crawl-1"})
    _checkout(http, hub_a, tokens["hub-a"], ZEPHYRINE, f"{hub_a}/offers/remote-beets")
    barnabe = _checkout(http, hub_a, tokens["hub-a"], BARNABE, f"{hub_a}/offers/jean-carrots",
                        buyer=f"mailto:{BARNABE.email}")
    person = _ok(http.get(zephyrine.headers["Location"], headers=tokens["hub-a"]), 200).json()
    person = next(n for n in person.get("@graph", [person]) if n.get("@type") == "dfc-b:Order")["dfc-b:orderedBy"]
    gone = _ok(http.get(barnabe.headers["Location"], headers=tokens["hub-a"]), 200).json()
    gone = next(n for n in gone.get("@graph", [gone]) if n.get("@type") == "dfc-b:Order")["dfc-b:orderedBy"]
    _ok(http.delete(gone, headers=tokens["hub-a"]), 204)
    _ok(http.post(f"{hub_a}/sale_sessions/week-48/close", headers=tokens["hub-a"]), 200)

    # A wholesale order through its lifecycle, with deliveries; a contract between the two.
    orders = Orders(Api(base), "jean-farm", hub_a, f"{jean}/offers/carrots", tokens["hub-a"], tokens["jean"])
    path = orders.create(quantity=2, split=(1, 1))
    for status, role in (("placed", "consumer"), ("confirmed", "supplier")):
        code, body = orders.move(path, status, role)
        assert code == 200, body
    assert orders.ship_next(path)[0] == 200
    _ok(http.post(f"{jean}/contracts", headers=tokens["jean"], json={
        "@context": HUB_CTX, "@type": "hub:Contract", "hub:consumer": {"@id": hub_a},
        "dfc-b:startDate": (MONDAY - dt.timedelta(days=30)).date().isoformat(),
        "dfc-b:endDate": (MONDAY + dt.timedelta(days=365)).date().isoformat(),
        "hub:contractPrice": [{"hub:item": {"@id": f"{jean}/catalog_items/carrots"},
                               "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": "2.50",
                                                  "dfc-b:hasUnit": {"@id": "dfc-m:Euro"}}}]}), 201)
    dispatcher.drain()                     # the webhooks' deliveries and attempts

    crawlers = {"other enterprise": _token(http, base, f"{api}/hub-b"), "person": _token(http, base, person),
                "analyst": _token(http, base, "https://analysts.example/ana", ["Analytics"]), "anonymous": {}}
    secrets |= {f"{name}'s token": h["Authorization"].split(" ", 1)[1]
                for name, h in {**tokens, **crawlers}.items() if h}
    return secrets, crawlers, person


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawler")
    clock = ManualClock(MONDAY)
    apps = {}

    def hub_app(base):
        app = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp / 'hub'}", public_base_url=base,
                       webhook_allow_private=True, webhook_retry_schedule="0")
        load_files(app.extensions["dfc_hub"].store, sorted((FIXTURES / "demo").glob("*.json")), base + "/api/dfc/")
        apps["hub"] = app
        return app

    with receiving() as receiver, serving(hub_app) as base, \
            serving(lambda base: make_app(demo=False, clock=clock, public_base_url=base)) as remote:
        hub = apps["hub"].extensions["dfc_hub"]
        with requests.Session() as http:
            secrets, crawlers, person = _scenario(http, base, remote, receiver.url, hub.dispatcher)
        assert receiver.wait_for(1, timeout=10), "the webhooks delivered nothing: the scenario lacks deliveries"
        world = World(base, hub.store, secrets, crawlers, person)
        world.answers = _crawl(world)
        yield world


# --- the crawl ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Answer:
    agent: str
    accept: str
    url: str
    status: int
    media: str
    text: str


def _get_operations(description: dict) -> list[tuple[str, set[str]]]:
    """(path template, required query parameters) of every GET operation."""
    out = []
    for path, item in description["paths"].items():
        if "get" not in item:
            continue
        params = [*item.get("parameters", []), *item["get"].get("parameters", [])]
        params = [_resolve(description, p) for p in params]
        out.append((path, {p["name"] for p in params if p.get("in") == "query" and p.get("required")}))
    return out


def _resolve(description: dict, param: dict) -> dict:
    if "$ref" not in param:
        return param
    node = description
    for part in param["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    return node


def _fill(template: str, paths: set[str]) -> set[str]:
    """The concrete paths of a template: its part up to its last parameter matched against the
    paths seen, the rest appended."""
    if "{" not in template:
        return {template}
    cut = template.rindex("}") + 1
    pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/?#]+", re.escape(template[:cut])) + "$")
    return {p + template[cut:] for p in paths if pattern.match(p)}


def _paths_in(text: str, base: str, at: str, media: str) -> set[str]:
    """Every path of this server an answer names, and `{at}/{id}` for each `id` a JSON listing gives."""
    found = {m.split("#")[0].split("?")[0].rstrip("/") for m in re.findall(re.escape(base) + r'(/[^\s"<>\\]*)', text)}
    if media == "application/json":
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        for items in (body or {}).values() if isinstance(body, dict) else ():
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.add(f"{at}/{item['id']}")
    return {p for p in found if p}


def _url(path: str, required: set[str]) -> str:
    query = "&".join(f"{name}={requests.utils.quote(QUERY_VALUES[name])}" for name in sorted(required))
    return path + ("?" + query if query else "")


def _crawl(world: World) -> list[Answer]:
    """Discover every concrete GET path as the admin, then ask each one as every crawler in every format."""
    http = requests.Session()
    description = http.get(world.base + "/api/openapi.json", timeout=30).json()
    operations = _get_operations(description)
    unfillable = [(t, sorted(req - set(QUERY_VALUES))) for t, req in operations if req - set(QUERY_VALUES)]
    assert not unfillable, f"the crawler has no value for these required query parameters: {unfillable}"
    seen: set[str] = set()
    urls: dict[str, set[str]] = {t: set() for t, _ in operations}
    answers = []
    while True:
        fresh = {(t, _url(p, req)) for t, req in operations for p in _fill(t, seen)} - \
                {(t, u) for t in urls for u in urls[t]}
        if not fresh:
            break
        for template, url in sorted(fresh):
            urls[template].add(url)
            r = http.get(world.base + url, headers={**ADMIN_H, "Accept": f"{JSONLD}, application/json;q=0.9, */*;q=0.1"},
                         timeout=60)
            media = r.headers.get("Content-Type", "").split(";")[0]
            answers.append(Answer("admin", JSONLD, url, r.status_code, media, r.text))
            seen |= _paths_in(r.text, world.base, url.split("?")[0], media)
    world.urls = urls
    for agent, token in world.tokens.items():
        for accept in FORMATS:
            for template in urls:
                for url in sorted(urls[template]):
                    r = http.get(world.base + url, headers={**token, "Accept": accept}, timeout=60)
                    answers.append(Answer(agent, accept, url, r.status_code, r.headers.get("Content-Type", "").split(";")[0],
                                          "\n".join(f"{k}: {v}" for k, v in r.headers.items()) + "\n\n" + r.text))
    return answers


# --- what the answers must not hold -------------------------------------------------------------

def _triples(world: World, answer: Answer) -> list | None:
    """The answer's triples, or None when it is no RDF."""
    body = answer.text.split("\n\n", 1)[1].encode()
    if answer.media == JSONLD:
        return parse_jsonld(json.loads(body), None, allow_empty=True, own=own_contexts(world.base))[0]
    if answer.media in (TURTLE, NTRIPLES):
        return list(ox.parse(body, format=ox.RdfFormat.from_media_type(answer.media)))
    return None


def _leaks(world: World, answer: Answer) -> list[str]:
    """Statements of documents the agent may not read; private terms of public ones."""
    may_read = world.readable(answer.agent, answer.url)
    triples = _triples(world, answer)
    if triples is None:      # JSON, HTML, CSV: no IRI of a document the agent may not read
        named = set(re.findall(re.escape(world.base) + r'(/[^\s"<>\\]*)', answer.text))
        return [f"names {world.base + p}" for p in named
                if world.base + p in world.kinds and not may_read(world.base + p)]
    out = set()
    for t in triples:
        if t.predicate.value in PRIVATE_TERMS:
            out.add(f"states {t.predicate.value}")
        if not isinstance(t.subject, ox.NamedNode):
            continue
        holders = world.holders.get((t.subject.value, t.predicate.value), set())
        if holders and not any(may_read(g) for g in holders):
            kinds = sorted({k.rsplit("#", 1)[-1] for g in holders for k in world.kinds[g]} or {"untyped"})
            out.add(f"states <{t.subject.value}> <{t.predicate.value}>, held by a {'/'.join(kinds)} document")
    return sorted(out)


def test_the_crawler_reached_every_get_route_and_every_kind_of_private_document(world):
    missing = [t for t, found in world.urls.items() if not found]
    assert not missing, f"no answer gave the parameters of these GET routes: {missing}"
    admin_paths = {a.url.split("?")[0] for a in world.answers if a.agent == "admin" and a.status == 200}
    for needed in ("/webhooks/", "/partners/", "/persons/", "/contracts/", "/deliveries/", "/events",
                   "/settings", "/customer_categories/", "/batches/"):
        assert any(needed in p for p in admin_paths) or any(needed in g for g in world.kinds), needed
    assert any(a.status == 200 for a in world.answers if a.agent == "anonymous")


@pytest.mark.parametrize("agent", ["anonymous", "other enterprise", "person", "analyst", "admin"])
def test_no_answer_holds_a_secret(world, agent):
    found = [(a.accept, a.url, a.status, name) for a in world.answers if a.agent == agent
             for name, value in world.secrets.items() if value in a.text]
    assert not found, found


@pytest.mark.parametrize("agent", ["anonymous", "other enterprise", "person", "analyst"])
def test_no_answer_holds_a_customers_personal_data(world, agent):
    # The customer who crawls may read what they wrote on their own order; nobody else's.
    others = (BARNABE,) if agent == "person" else (ZEPHYRINE, BARNABE)
    found = [(a.accept, a.url, a.status, hit) for a in world.answers if a.agent == agent
             for person in others for hit in findings(a.text.split("\n\n", 1)[1], person)]
    assert not found, found[:10]


@pytest.mark.parametrize("agent", ["anonymous", "other enterprise", "person", "analyst"])
def test_no_answer_holds_a_document_the_agent_may_not_read(world, agent):
    found = {}
    for a in world.answers:
        if a.agent == agent and a.status == 200:
            leaks = _leaks(world, a)
            if leaks:
                found[(a.accept, a.url)] = leaks[:5]
    assert not found, json.dumps({f"{k[1]} ({k[0]})": v for k, v in list(found.items())[:12]}, indent=1)


def test_every_kind_of_public_document_is_readable_by_anyone(world):
    """The allowlist is no wall: the catalogue, sessions and profiles stay public."""
    anonymous = [a for a in world.answers if a.agent == "anonymous" and a.status == 200 and a.accept == NTRIPLES]
    said = {t.object.value for a in anonymous for t in _triples(world, a) or ()
            if t.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"}
    assert PUBLIC_TYPES <= said, PUBLIC_TYPES - said


# --- what we send, we accept (issue 22) ---------------------------------------------------------

V2_PROFILE = f'{JSONLD}; profile="https://www.datafoodconsortium.org/dfc-v2"'


@pytest.mark.parametrize("accept", [JSONLD, V2_PROFILE])
def test_every_jsonld_answer_conforms_to_our_own_validator(world, accept):
    """Every JSON-LD answer of every GET route, in the 1.x and the 2.0 profile, posted back to
    /api/conformance/validate: no Violation, no term outside DFC's current ones and hub:."""
    http = requests.Session()
    urls = sorted({a.url for a in world.answers if a.agent == "admin" and a.status == 200 and a.media == JSONLD
                   and not a.url.startswith("/api/contexts/")})     # a context is no payload
    assert len(urls) > 20
    found = {}
    for url in urls:
        r = http.get(world.base + url, headers={**ADMIN_H, "Accept": accept}, timeout=60)
        if r.status_code != 200 or not judgeable(r.text, r.headers.get("Content-Type", "")):
            continue
        bad = refusals(http, world.base, r.text)
        if bad:
            found[url] = bad
    distinct = {(r["severity"], r["hintCode"], r["path"], r["message"]) for bad in found.values() for r in bad}
    assert not found, json.dumps([sorted(distinct, key=str), dict(list(found.items())[:2])], indent=1)
