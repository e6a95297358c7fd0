"""The best price of a line (app/catalog/prices.py): read from a real store, frozen on the document.

The catalogue: one carrot item of the farm's, offered to everybody at 3.00 and to the farm's
"restaurants" category at 2.80; the restaurant has a contract at 2.50 for January. Dates are
fixed and the moment is passed in: nothing here reads the wall clock.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyoxigraph as ox
import pytest
from pyoxigraph import NamedNode, Triple

from app.domain import order_documents as orders
from app.catalog import prices
from app.domain.documents import Namespace
from app.errors import ShapeViolation
from app.namespaces import PREFIXES, RDF_TYPE, T
from app.rdf.terms import decimal_literal
from app.rdf.triples import first
from app.store.embedded import EmbeddedStore

BASE = "http://price.test"
FARM, OTHER = Namespace(BASE, "farm"), Namespace(BASE, "other")
RESTAURANT, CANTEEN, SHOP = (NamedNode(f"{BASE}/api/dfc/enterprises/{e}") for e in ("restaurant", "canteen", "shop"))
F = FARM.iri
ITEM, PUBLIC, CATEGORY_OFFER, CATEGORY = (NamedNode(f"{F}/{p}") for p in (
    "catalog_items/carrots", "offers/public", "offers/restaurants", "customer_categories/restaurants"))
CONTRACT = NamedNode(f"{F}/contracts/jan")
ORDER = NamedNode(f"{F}/orders/1")
LINE = NamedNode(f"{F}/orders/1/order_lines/1")
JAN_15 = dt.datetime(2026, 1, 15, 12, tzinfo=dt.timezone.utc)

_HEAD = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES.items())
CATALOGUE = {
    ITEM: f"{ITEM} a dfc-b:CatalogItem ; dfc-b:offeredThrough {PUBLIC} .",
    PUBLIC: f"""{PUBLIC} a dfc-b:Offer ; dfc-b:offers {ITEM} ;
        dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 3.00 ; dfc-b:hasUnit dfc-m:Euro ] .""",
    CATEGORY_OFFER: f"""{CATEGORY_OFFER} a dfc-b:Offer ; dfc-b:offers {ITEM} ; dfc-b:offersTo {CATEGORY} ;
        dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 2.80 ; dfc-b:hasUnit dfc-m:Euro ] .""",
    CATEGORY: f"{CATEGORY} a dfc-b:CustomerCategory ; hub:member {RESTAURANT}, {CANTEEN} .",
    CONTRACT: f"""{CONTRACT} a hub:Contract ; hub:consumer {RESTAURANT} ;
        dfc-b:startDate "2026-01-01"^^xsd:date ; dfc-b:endDate "2026-01-31"^^xsd:date ;
        hub:contractPrice [ hub:item {ITEM} ;
            dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 2.50 ; dfc-b:hasUnit dfc-m:Euro ] ] .""",
}


def _parse(text: str) -> list[Triple]:
    return [q.triple for q in ox.parse((_HEAD + text).encode(), format=ox.RdfFormat.TURTLE)]


def _write(store, documents: dict) -> None:
    with store.transaction() as tx:
        for name, text in documents.items():
            tx.put(name, _parse(text))


@pytest.fixture
def store():
    s = EmbeddedStore()
    _write(s, CATALOGUE)
    return s


def _line(offer=PUBLIC, stock_item=None) -> orders.Line:
    return orders.Line(LINE, offer, Decimal(4), stock_item)


def _quote(store, consumer, at=JAN_15, offer=PUBLIC) -> prices.Quote | None:
    return prices.quotes(store, FARM, consumer, [_line(offer)], at)[LINE]


def test_a_contract_beats_the_category_offer_which_beats_the_public_one(store):
    assert _quote(store, RESTAURANT) == prices.Quote(Decimal("2.50"), NamedNode(PREFIXES["dfc-m"] + "Euro"), CONTRACT)
    assert _quote(store, CANTEEN).source == CATEGORY_OFFER and _quote(store, CANTEEN).price == Decimal("2.80")
    assert _quote(store, SHOP).source == PUBLIC and _quote(store, SHOP).price == Decimal("3.00")


def test_a_contract_counts_on_its_first_and_last_days_only(store):
    at = lambda *a: dt.datetime(*a, tzinfo=dt.timezone.utc)     # noqa: E731
    assert _quote(store, RESTAURANT, at(2026, 1, 1, 0, 0)).source == CONTRACT
    assert _quote(store, RESTAURANT, at(2026, 1, 31, 23, 59)).source == CONTRACT
    assert _quote(store, RESTAURANT, at(2026, 2, 1, 0, 0)).source == CATEGORY_OFFER
    assert _quote(store, RESTAURANT, at(2025, 12, 31, 23, 59)).source == CATEGORY_OFFER


def test_a_line_on_a_category_offer_the_buyer_is_not_in_gets_the_public_price(store):
    assert _quote(store, SHOP, offer=CATEGORY_OFFER).source == PUBLIC


def test_the_known_stock_item_of_a_line_is_used_without_resolving_its_offer(store):
    found = prices.quotes(store, FARM, RESTAURANT, [_line(PUBLIC, ITEM)], JAN_15)
    assert found[LINE].source == CONTRACT


def test_only_the_suppliers_own_categories_offers_and_contracts_count(store):
    """Another enterprise's documents cannot lower the farm's prices, whatever they claim."""
    cheap_offer = NamedNode(f"{OTHER.iri}/offers/cheap")
    foreign_category = NamedNode(f"{OTHER.iri}/customer_categories/friends")
    _write(store, {
        foreign_category: f"{foreign_category} a dfc-b:CustomerCategory ; hub:member {SHOP} .",
        cheap_offer: f"""{cheap_offer} a dfc-b:Offer ; dfc-b:offers {ITEM} ;
            dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 0.01 ; dfc-b:hasUnit dfc-m:Euro ] .""",
        NamedNode(f"{OTHER.iri}/contracts/x"): f"""<{OTHER.iri}/contracts/x> a hub:Contract ; hub:consumer {SHOP} ;
            dfc-b:startDate "2026-01-01"^^xsd:date ; dfc-b:endDate "2026-12-31"^^xsd:date ;
            hub:contractPrice [ hub:item {ITEM} ; dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 0.02 ] ] .""",
        # the farm's own offer to someone else's category
        NamedNode(f"{F}/offers/friends"): f"""<{F}/offers/friends> a dfc-b:Offer ; dfc-b:offers {ITEM} ;
            dfc-b:offersTo {foreign_category} ;
            dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 1.00 ; dfc-b:hasUnit dfc-m:Euro ] .""",
    })
    assert _quote(store, SHOP).price == Decimal("3.00")


def test_a_price_in_another_currency_is_not_compared(store):
    pounds = NamedNode(f"{F}/offers/pounds")
    _write(store, {pounds: f"""{pounds} a dfc-b:Offer ; dfc-b:offers {ITEM} ;
        dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 1.00 ; dfc-b:hasUnit dfc-m:PoundSterling ] ."""})
    assert _quote(store, SHOP).price == Decimal("3.00")


def test_an_offer_nobody_prices_gives_no_quote():
    empty = EmbeddedStore()
    assert prices.quotes(empty, FARM, SHOP, [_line()], JAN_15) == {LINE: None}
    assert prices.quotes(empty, FARM, SHOP, [], JAN_15) == {}


def test_quotes_read_inside_a_transaction(store):
    with store.transaction() as tx:
        assert prices.quotes(tx, FARM, RESTAURANT, [_line()], JAN_15)[LINE].source == CONTRACT


def _order(*extra: Triple) -> list[Triple]:
    return [Triple(ORDER, RDF_TYPE, T.Order), Triple(ORDER, T.orderedBy, RESTAURANT), Triple(ORDER, T.hasPart, LINE),
            Triple(LINE, RDF_TYPE, T.OrderLine), Triple(LINE, T.concerns, PUBLIC),
            Triple(LINE, T.quantity, decimal_literal(4)), *extra]


def _price(doc, term) -> tuple:
    node = first(doc, LINE, term)
    return (first(doc, node, T.value).value, first(doc, node, T.hasUnit)) if node is not None else None


def test_freezing_prices_each_line_once():
    euro = NamedNode(PREFIXES["dfc-m"] + "Euro")
    doc = prices.freeze(_order(), ORDER, {LINE: prices.Quote(Decimal("2.50"), euro, CONTRACT)})
    assert _price(doc, prices.catalogPrice) == ("2.50", euro)
    assert first(doc, LINE, prices.priceSource) == CONTRACT
    again = prices.freeze(doc, ORDER, {LINE: prices.Quote(Decimal("9.99"), euro, PUBLIC)})
    assert again == doc
    assert prices.unpriced(doc, ORDER) == [] and [x.iri for x in prices.unpriced(_order(), ORDER)] == [LINE]


def test_frozen_reads_and_freezes_only_what_has_no_price(store):
    doc = prices.frozen(store, FARM, ORDER, _order(), JAN_15)
    assert first(doc, LINE, prices.priceSource) == CONTRACT
    assert prices.frozen(EmbeddedStore(), FARM, ORDER, doc, JAN_15) == doc


def test_confirming_sets_or_replaces_the_confirmed_price_in_the_catalogue_currency():
    euro = NamedNode(PREFIXES["dfc-m"] + "Euro")
    doc = prices.freeze(_order(), ORDER, {LINE: prices.Quote(Decimal("2.50"), euro, CONTRACT)})
    doc = prices.confirm(doc, ORDER, {LINE: Decimal("2.40")})
    doc = prices.confirm(doc, ORDER, {LINE: Decimal("2.45")})
    assert _price(doc, prices.confirmedPrice) == ("2.45", euro)
    assert len([t for t in doc if t.predicate == prices.confirmedPrice]) == 1
    assert len([t for t in doc if t.predicate == T.value]) == 2       # the old node went with it
    with pytest.raises(ShapeViolation):
        prices.confirm(doc, ORDER, {LINE: Decimal("-1")})
    with pytest.raises(ShapeViolation):
        prices.confirm(doc, ORDER, {NamedNode(f"{F}/orders/2/order_lines/1"): Decimal("1")})


def test_a_put_keeps_the_server_prices_and_drops_the_clients():
    euro = NamedNode(PREFIXES["dfc-m"] + "Euro")
    stored = prices.freeze(_order(), ORDER, {LINE: prices.Quote(Decimal("2.50"), euro, CONTRACT)})
    # The client sends its own "price" with the line: dropped, the stored one kept.
    forged = prices.freeze(_order(), ORDER, {LINE: prices.Quote(Decimal("0.01"), euro, PUBLIC)})
    kept = prices.keep(stored, forged, ORDER)
    assert _price(kept, prices.catalogPrice) == ("2.50", euro)
    assert first(kept, LINE, prices.priceSource) == CONTRACT
    assert not [t for t in kept if t.object == decimal_literal(Decimal("0.01"))]
    # A line that now concerns another offer has no frozen price any more (freezing prices it again).
    moved = [t if t.predicate != T.concerns else Triple(LINE, T.concerns, CATEGORY_OFFER) for t in _order()]
    assert first(prices.keep(stored, moved, ORDER), LINE, prices.catalogPrice) is None
    assert prices.keep(None, _order(), ORDER) == _order()


def test_on_save_keeps_freezes_and_confirms_in_that_order(store):
    """What the order book calls on every wholesale write: the client's prices out, the stored
    ones kept, a placed order frozen, and a confirmed price (the supplier's) applied last."""
    euro = NamedNode(PREFIXES["dfc-m"] + "Euro")
    held = _order()
    placed = orders.set_status(_order(), ORDER, T.Complete)
    doc = prices.on_save(store, FARM, ORDER, held, placed, JAN_15)
    assert first(doc, LINE, prices.priceSource) == CONTRACT
    assert set(prices.on_save(store, FARM, ORDER, None, held, JAN_15)) == set(held)     # Held: nothing priced
    sent = prices.freeze(placed, ORDER, {LINE: prices.Quote(Decimal("0.01"), euro, PUBLIC)})
    again = prices.on_save(store, FARM, ORDER, doc, sent, JAN_15, confirmed={LINE: Decimal("2.40")})
    assert _price(again, prices.catalogPrice) == ("2.5", euro)
    assert _price(again, prices.confirmedPrice) == ("2.40", euro)
