"""A partner's copies and credentials in the store: each partner's own, read only for its own hub.

Domain-level, on a real Oxigraph store: the sync's plan drops marks a fetched catalogue wrote
itself, copies an earlier version shared are taken back, the weight and bulk lookups of a
checkout read only the hub's own partners' copies, and a token goes to no origin it was not
given for (issue 20, findings 1 and 4).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.catalog import links
from app.orders import consolidation
from app.partners import desk as partners
from app.partners import credentials as creds
from app.partners.tokens import PartnerTokens
from app.domain.documents import Namespace
from app.outbound import Guard
from app.errors import InvalidValue
from app.namespaces import DFC_M, RDF_TYPE, T, hub
from app.namespaces import b as dfc
from app.store import open_store

BASE = "http://hub.test"
FAR = "http://far.test/api/dfc/enterprises/farm"
NOW = dt.datetime(2026, 11, 23, 9, tzinfo=dt.timezone.utc)
HUB_A, HUB_B = NamedNode(f"{BASE}/api/dfc/enterprises/hub-a"), NamedNode(f"{BASE}/api/dfc/enterprises/hub-b")
KG = NamedNode(DFC_M + "Kilogram")
XSD = "http://www.w3.org/2001/XMLSchema#"


def _partner(hub_iri: NamedNode) -> partners.Partner:
    return partners.Partner(NamedNode(f"{hub_iri.value}/partners/far"), hub_iri, NamedNode(FAR),
                            f"{FAR}/catalog", f"{FAR}/orders")


def _configure(store, partner: partners.Partner, token="t0ken", origins=("http://far.test:80",)):
    with store.transaction() as tx:
        tx.put(partner.iri, [Triple(partner.iri, RDF_TYPE, hub("Partner")),
                             Triple(partner.iri, hub("partnerOf"), partner.hub),
                             Triple(partner.iri, hub("remoteEnterprise"), partner.enterprise),
                             Triple(partner.iri, hub("catalogURL"), Literal(partner.catalog)),
                             Triple(partner.iri, hub("ordersURL"), Literal(partner.orders))])
        tx.put(partners.token_graph(partner.iri), [Triple(partner.iri, hub("partnerToken"), Literal(token)),
                                                    *(Triple(partner.iri, partners.TOKEN_ORIGIN, Literal(o))
                                                      for o in origins)])


def _product(name: str, kilograms: str, *extra) -> dict:
    product, qv = NamedNode(f"{FAR}/products/{name}"), BlankNode()
    return {product: [Triple(product, RDF_TYPE, dfc("SuppliedProduct")), Triple(product, T.hasQuantity, qv),
                      Triple(qv, T.value, Literal(kilograms, datatype=NamedNode(XSD + "decimal"))),
                      Triple(qv, T.hasUnit, KG), *extra]}


def _sync(store, partner, fetched):
    with store.transaction() as tx:
        return partners.keep_copies(tx, partner, fetched, BASE, NOW)


def test_marks_a_fetched_catalogue_writes_itself_are_dropped():
    a, b = _partner(HUB_A), _partner(HUB_B)
    product = NamedNode(f"{FAR}/products/beans")
    forged = [Triple(product, RDF_TYPE, dfc("SuppliedProduct")), Triple(product, partners.FETCHED_BY, b.iri),
              Triple(product, partners.COPY_OF, NamedNode(f"{FAR}/products/peas")),
              Triple(product, partners.FETCHED_AT, Literal("2099-01-01T00:00:00Z"))]
    plan = partners.plan_sync(a, {product: forged}, {}, BASE, NOW)
    [(graph, kept)] = plan.documents.items()
    assert graph == partners.copy_graph(a.iri, product) != partners.copy_graph(b.iri, product)
    assert Triple(product, RDF_TYPE, dfc("SuppliedProduct")) in kept
    assert {(t.subject, t.predicate, t.object) for t in kept if t.predicate in partners.MARKS} == {
        (graph, partners.COPY_OF, product), (graph, partners.FETCHED_BY, a.iri),
        (graph, partners.FETCHED_AT, Literal("2026-11-23T09:00:00Z", datatype=NamedNode(XSD + "dateTime")))}


def test_each_partner_keeps_and_drops_its_own_copies_only():
    store = open_store("memory:")
    a, b = _partner(HUB_A), _partner(HUB_B)
    for p in (a, b):
        _configure(store, p)
    beans = _product("beans", "1")
    assert len(_sync(store, a, beans)["added"]) == 1
    assert len(_sync(store, b, _product("beans", "2"))["added"]) == 1
    report = _sync(store, a, {})
    assert report["removed"] == [f"{FAR}/products/beans"]
    assert partners.copies_of(store, a.iri) == {}
    assert list(partners.copies_of(store, b.iri)) == [NamedNode(f"{FAR}/products/beans")]


def test_copies_an_earlier_version_shared_are_taken_back_by_each_partners_next_sync():
    store = open_store("memory:")
    a, b = _partner(HUB_A), _partner(HUB_B)
    for p in (a, b):
        _configure(store, p)
    shared = NamedNode(f"{FAR}/products/beans")
    with store.transaction() as tx:
        tx.put(shared, [Triple(shared, RDF_TYPE, dfc("SuppliedProduct")), Triple(shared, partners.FETCHED_BY, a.iri),
                        Triple(shared, partners.FETCHED_BY, b.iri)])
    _sync(store, a, _product("beans", "1"))
    assert Triple(shared, partners.FETCHED_BY, a.iri) not in store.graph(shared)
    assert Triple(shared, partners.FETCHED_BY, b.iri) in store.graph(shared)
    _sync(store, b, _product("beans", "1"))
    assert store.graph(shared) == []
    assert len(partners.copies_of(store, a.iri)) == len(partners.copies_of(store, b.iri)) == 1


def test_weights_and_bulk_products_come_from_the_hubs_own_partners_copies():
    store = open_store("memory:")
    a, b = _partner(HUB_A), _partner(HUB_B)
    for p in (a, b):
        _configure(store, p)
    retail, bulk = NamedNode(f"{FAR}/products/beans-500g"), NamedNode(f"{FAR}/products/beans-25kg")
    produced, consumed, plan = (NamedNode(f"{FAR}/{n}") for n in ("flows/out", "flows/in", "transformations/1"))
    catalogue = {**_product("beans-500g", "0.5"), **_product("beans-25kg", "25"),
                 produced: [Triple(produced, dfc("produces"), retail)],
                 consumed: [Triple(consumed, dfc("consumes"), bulk)],
                 plan: [Triple(plan, dfc("hasOutcome"), produced), Triple(plan, dfc("hasIncome"), consumed)]}
    _sync(store, a, catalogue)                      # hub A's partner only
    assert consolidation._bulk_products(store, HUB_A, [retail]) == {retail: bulk}
    assert {p: size[0] for p, size in links.sizes(store, HUB_A, [retail, bulk]).items()} == \
        {retail: Decimal("0.5"), bulk: Decimal("25")}
    # Hub B's partner has fetched nothing: what hub A's fetched is not hub B's to read.
    assert consolidation._bulk_products(store, HUB_B, [retail]) == {}
    assert links.sizes(store, HUB_B, [retail, bulk]) == {}
    assert partners.remote_sources(store, HUB_B, [retail, bulk]) == {}


def test_a_document_stating_the_marks_of_a_copy_of_itself_is_no_partners_copy():
    """Any enterprise may write `hub:copyOf`, `hub:fetchedBy` in a document of its own: read as
    marks, it posed as another hub's partner's copy (the weight of a product, its item, offer)."""
    store = open_store("memory:")
    b = _partner(HUB_B)
    _configure(store, b)
    retail = NamedNode(f"{FAR}/products/beans-500g")
    posing = NamedNode(f"{HUB_A.value}/catalog_items/posing")
    [(_, weight)] = _product("beans-500g", "0.001").items()
    with store.transaction() as tx:
        tx.put(posing, [*weight, Triple(posing, RDF_TYPE, dfc("CatalogItem")), Triple(posing, dfc("references"), retail),
                        Triple(posing, partners.COPY_OF, posing), Triple(posing, partners.FETCHED_BY, b.iri)])
    assert links.sizes(store, HUB_B, [retail]) == {}
    assert partners.remote_sources(store, HUB_B, [retail]) == {}
    assert partners.copies_of(store, b.iri) == {}
    _sync(store, b, {})
    assert store.graph(posing)                  # hub A's document stays as hub A wrote it


@pytest.mark.parametrize("url,same", [
    ("http://far.test/api/orders/1", True), ("http://FAR.test:80/x", True), ("http://far.test:8080/x", False),
    ("https://far.test/x", False), ("http://far.test.evil.example/x", False), ("http://evil.example/far.test", False),
    ("http://far.test@evil.example/x", False), ("not a url", False), ("http://[::1]:80/x", False),
])
def test_a_token_goes_only_to_the_origins_it_was_given_for(url, same):
    store = open_store("memory:")
    a = _partner(HUB_A)
    _configure(store, a)
    tokens = PartnerTokens(store, client=None)     # a bearer token: nothing to ask anyone
    if same:
        assert tokens.current(a.iri, url) == "t0ken"
    else:
        with pytest.raises(InvalidValue) as refused:
            tokens.current(a.iri, url)
        assert refused.value.extra["field"] == "token" and "t0ken" not in refused.value.detail


def test_a_token_kept_without_its_origins_is_sent_nowhere_until_given_again():
    store = open_store("memory:")
    a = _partner(HUB_A)
    _configure(store, a, origins=())
    with pytest.raises(InvalidValue):
        PartnerTokens(store, client=None).current(a.iri, a.catalog)
    body = {"enterprise": FAR, "catalog": a.catalog, "orders": a.orders}
    hub_a, kept = Namespace(BASE, "hub-a"), partners.credentials(store, a.iri)
    with pytest.raises(InvalidValue) as refused:
        partners.from_json(body, hub_a, "far", Guard(True), kept)
    assert refused.value.extra == {"field": "catalog", "required": ["token"]}
    doc, given = partners.from_json({**body, "token": "again"}, hub_a, "far", Guard(True), kept)
    assert given.token == "again"
    assert {t.object.value for t in creds.document(a.iri, given)
            if t.predicate == partners.TOKEN_ORIGIN} == {"http://far.test:80"}

