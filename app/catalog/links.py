"""From an order line's offer to the stock it sells: offer → catalogue item → product.

Resolution reads the catalogue only (two queries at most per order); the ledger itself is
read again under the write lock when the reservation is made.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from pyoxigraph import NamedNode, Triple

from app import queries
from app.domain.documents import enterprise_of, find, variants
from app.namespaces import PARTNER_COPIES, RDF_TYPE, T, b
from app.rdf.triples import number
from app.store import Store


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a line's goods come from: an offer, the catalogue item whose ledger it draws on."""
    offer: NamedNode
    item: NamedNode | None = None        # None: the offer sells no catalogue item we know (unlimited)
    product: NamedNode | None = None
    price: Decimal | None = None
    currency: NamedNode | None = None
    restricted: bool = False             # open to customer categories only (prices.refuse_closed says to whom)


def offer_sources(store: Store, offers: list[NamedNode], base_url: str,
                  hints: dict[NamedNode, NamedNode] | None = None) -> dict[NamedNode, Source | None]:
    """The source of each offer (any IRI spelling), None for an offer nobody knows.

    `hints` maps offers a payload describes to the product it says they offer: FDC servers
    answer orders with `/Offers/{id}` aliases of catalogue offers, which only the product ties
    back to the catalogue item.
    """
    spelled = {NamedNode(s): o for o in offers for s in variants(o.value, base_url)}
    rows = store.select(queries.load("offer_items"), {"offers": list(spelled)}) if spelled else []
    # An item links to an offer of its own enterprise only: any enterprise may write an item of
    # its own `offeredThrough` another's offer, which would otherwise take that offer's orders.
    rows = [r if _same_owner(r["offer"], r.get("item"), base_url)
            else {k: v for k, v in r.items() if k not in ("item", "product")} for r in rows]
    found: dict[NamedNode, Source] = {}
    for row in sorted(rows, key=lambda r: ("item" not in r, str(r.get("item", "")))):
        original = spelled[row["offer"]]
        if original in found or not (row.get("known") or row.get("item")):
            continue
        found[original] = Source(row["offer"], row.get("item"), row.get("product"),
                                 number(row.get("price")), row.get("currency"), "restricted" in row)
    for offer, source in list(found.items()):
        if source.item is None:
            found[offer] = _item_by_another_spelling(store, source, base_url)
    missing = {o: p for o, p in (hints or {}).items() if o in offers and o not in found}
    if missing:
        by_product = product_sources(store, list(set(missing.values())), base_url)
        for offer, product in missing.items():
            source = by_product.get(product)
            if source is not None:
                found[offer] = Source(offer, source.item, product, source.price, source.currency)
    return {o: found.get(o) for o in offers}


def _item_by_another_spelling(store: Store, source: Source, base_url: str) -> Source:
    """The item an offer names by a spelling other than the one its document is stored under.

    The store keeps a document under the IRI it was written at, CamelCase (`…/CatalogItems/x`) or
    not, and a catalogue may name it by the other: the query, matching names as spelled, found no
    item, and the offer's orders reserved nothing (a hostile review sold 12 of 5 so).
    """
    offer_doc = store.graph(source.offer)
    for t in offer_doc:
        if t.subject == source.offer and t.predicate in (T.offers, T.hubOfferedItem) and isinstance(t.object, NamedNode):
            found = find(store, t.object.value, base_url)
            if found is None or Triple(found[0], RDF_TYPE, T.CatalogItem) not in found[1] \
                    or not _same_owner(source.offer, found[0], base_url):
                continue
            product = next((o.object for o in found[1] if o.subject == found[0] and o.predicate == b("references")
                            and isinstance(o.object, NamedNode)), None)
            named = find(store, product.value, base_url) if product is not None else None
            return dataclasses.replace(source, item=found[0], product=named[0] if named else product)
    return source


def _same_owner(offer: NamedNode, item: NamedNode | None, base_url: str) -> bool:
    """Whether `item` may be the item an offer sells: one of the offer's enterprise (an offer not
    of this server's, as a partner's copy names, is taken as its catalogue says)."""
    owner = enterprise_of(offer.value, base_url)
    return item is None or owner is None or enterprise_of(item.value, base_url) == owner


def product_sources(store: Store, products: list[NamedNode], base_url: str) -> dict[NamedNode, Source]:
    """For each product, the catalogue item of the enterprise that owns the product, and its offer.

    A hub's own catalogue item may reference a producer's product; the producer's item is the
    one in the product owner's namespace.
    """
    rows = store.select(queries.load("product_items"), {"products": products}) if products else []
    out: dict[NamedNode, Source] = {}
    for row in rows:
        product, item = row["product"], row["item"]
        owner = enterprise_of(product.value, base_url)
        if owner is None or enterprise_of(item.value, base_url) != owner:
            continue
        best = out.get(product)
        if best is None or (best.offer is None and row.get("offer") is not None):
            out[product] = Source(row.get("offer"), item, product, number(row.get("price")),
                                  row.get("currency"))
    return out


def sizes(store: Store, hub: NamedNode, products: list[NamedNode]) -> dict[NamedNode, tuple[Decimal, NamedNode]]:
    """What one unit of each product holds (its dfc-b:hasQuantity: value, unit), where it says;
    a partner's product from the copy this hub's partner keeps (product_quantities.rq)."""
    rows = store.select(queries.load("product_quantities"), {"products": products, "hub": hub,
                                                             "copies": PARTNER_COPIES}) if products else []
    out: dict[NamedNode, tuple[Decimal, NamedNode]] = {}
    for row in rows:
        value = number(row["value"])
        if value is not None and isinstance(row["unit"], NamedNode):
            out.setdefault(row["product"], (value, row["unit"]))
    return out


class LinkCache:
    """Offer → Source (and a hub's offer → upstream target), remembered between checkouts while
    only writes that change no link happen.

    Order writes never change what an offer sells (they change ledgers, not links or prices):
    their units of work say so (`tx.leaves_catalogue()`), and the store's catalogue generation
    moves only for the others, as each starts and again once it has landed. A lookup remembers
    what it read under the generation it saw before reading; any later catalogue write moves it
    on, and the next lookup starts afresh. Checkouts committing all the while, on other threads,
    do not (measured, bench/checkout.py's workload on 16 threads: when every commit made the
    next lookup start afresh, 294 of 300 checkouts asked the store again). A store without a
    generation (remote) keeps nothing: another process may have changed the catalogue.
    """

    def __init__(self, store: Store, base_url: str):
        self.store, self.base_url = store, base_url
        self._links: dict = {}
        self._targets: dict = {}          # (hub, its settings) → {offer: what `targets` made of it}
        self._generation: int | None = None

    def _fresh(self) -> int | None:
        """The store's catalogue generation, everything remembered forgotten if it moved."""
        generation = self.store.catalogue_generation
        if generation is None or generation != self._generation:
            self._links, self._targets, self._generation = {}, {}, generation
        return generation

    def sources(self, offers: list[NamedNode], hints=None) -> dict[NamedNode, Source | None]:
        """offer_sources, answered from memory where it is still valid."""
        generation = self._fresh()
        links = self._links
        missing = [o for o in offers if o not in links]
        found = offer_sources(self.store, missing, self.base_url, hints) if missing else {}
        if missing and generation is not None:      # what a payload claimed (hints) is not remembered
            links.update({o: s for o, s in found.items() if s is not None and o not in (hints or {})})
        return {o: links.get(o, found.get(o)) for o in offers}

    def targets(self, key, found: dict[NamedNode, Source], compute) -> dict:
        """compute(found) — a hub's customer offers → upstream targets — for the offers not remembered.

        `key` names what else the answer depends on (the hub, its settings). Only offers whose
        source came from the catalogue (not from a payload's hints) are remembered; an answer
        that raised is not.
        """
        generation = self._fresh()
        memo = self._targets.setdefault(key, {}) if generation is not None else {}
        missing = {o: s for o, s in found.items() if o not in memo}
        made = compute(missing) if missing else {}
        if generation is not None:
            memo.update({o: t for o, t in made.items() if self._links.get(o) == found[o]})
        return {o: memo[o] if o in memo else made[o] for o in found}
