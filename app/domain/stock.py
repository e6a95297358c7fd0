"""The stock ledger of a catalogue item: on hand, held, committed; available is what is left.

The ledger lives in the catalogue item's own document (ontology/hub.ttl), so every
representation of the item carries it, and `dfc-b:stockLimitation` is always the quantity
available now. An item without inventory information (no stockLimitation, or a negative one,
as FDC's -1) is unlimited: it tracks what is held and committed but never blocks an order.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from pyoxigraph import NamedNode, Triple

from app.errors import Conflict, ShapeViolation, Shortage, violation
from app.namespaces import RDF_TYPE, T
from app.rdf.terms import decimal_literal
from app.rdf.triples import first, number, tidy, without

ZERO = Decimal(0)
LEDGER = (T.onHand, T.held, T.committed)


@dataclasses.dataclass(frozen=True)
class Ledger:
    on_hand: Decimal | None          # None: unlimited
    held: Decimal = ZERO
    committed: Decimal = ZERO

    @property
    def available(self) -> Decimal | None:
        return None if self.on_hand is None else self.on_hand - self.held - self.committed

    def moved(self, held: Decimal = ZERO, committed: Decimal = ZERO) -> "Ledger":
        return Ledger(self.on_hand, self.held + held, self.committed + committed)


def read(triples: list[Triple], item: NamedNode) -> Ledger:
    """The ledger stated in an item's document (one written without a ledger: all available)."""
    held = number(first(triples, item, T.held)) or ZERO
    committed = number(first(triples, item, T.committed)) or ZERO
    on_hand = number(first(triples, item, T.onHand))
    limit = number(first(triples, item, T.stockLimitation))
    if limit is not None and limit < 0:
        on_hand = None
    elif on_hand is None and limit is not None:
        on_hand = limit + held + committed
    return Ledger(on_hand, held, committed)


def write(triples: list[Triple], item: NamedNode, ledger: Ledger) -> list[Triple]:
    """The item's document with the ledger's values (stockLimitation = available)."""
    replaced = {*LEDGER, T.stockLimitation} if ledger.on_hand is not None else set(LEDGER)
    out = without(triples, item, replaced)
    if ledger.on_hand is not None:
        out += [Triple(item, T.onHand, decimal_literal(ledger.on_hand)),
                Triple(item, T.stockLimitation, decimal_literal(ledger.available))]
    out += [Triple(item, T.held, decimal_literal(ledger.held)), Triple(item, T.committed, decimal_literal(ledger.committed))]
    return out


def restock(current: list[Triple] | None, sent: list[Triple], item: NamedNode) -> list[Triple]:
    """The item document a producer's write makes, keeping what orders hold and committed.

    `stockLimitation` sets what is available now, `hub:onHand` the physical stock; a GET-modify-PUT
    round trip sends both, and the one that changed wins. held and committed are the server's.
    """
    old = read(current, item) if current else Ledger(None)
    limit = number(first(sent, item, T.stockLimitation))
    on_hand = number(first(sent, item, T.onHand))
    reserved = old.held + old.committed
    from_limit = None if limit is None or limit < 0 else limit + reserved
    if on_hand is not None and on_hand < 0:
        # Not "unlimited": that is stockLimitation's -1. A negative count is a mistake (issue 9).
        raise ShapeViolation("hub:onHand cannot be negative", violations=[violation(
            item, T.onHand, str(on_hand), "hub:onHand must be a number >= 0 (the physical stock)")])
    if limit is not None and limit < 0 and on_hand is None:
        new = None                                   # declared unlimited (FDC's -1)
    elif from_limit is not None and on_hand is not None and from_limit != on_hand:
        if old.on_hand is not None and on_hand == old.on_hand:
            new = from_limit                         # only stockLimitation changed
        elif old.available is not None and limit == old.available:
            new = on_hand                            # only onHand changed
        else:
            raise ShapeViolation(
                "dfc-b:stockLimitation and hub:onHand disagree: send one of them",
                violations=[violation(item, T.onHand, str(on_hand),
                                      f"onHand {on_hand} - held {old.held} - committed "
                                      f"{old.committed} is not the stockLimitation {limit} sent")])
    else:
        new = on_hand if on_hand is not None else from_limit
    if new is not None and new < reserved:
        raise Conflict(f"{item.value} has {reserved} reserved by orders; on hand cannot be {new}",
                       shortages=[{"stockItem": item.value, "requested": str(reserved),
                                   "available": str(new)}])
    return write([t for t in sent if not (t.subject == item and t.predicate in LEDGER)], item,
                 Ledger(new, old.held, old.committed))


def keep_ledgers(current: dict[NamedNode, list[Triple]], documents: dict[NamedNode, list[Triple]]
                 ) -> dict[NamedNode, list[Triple]]:
    """Documents to write with each catalogue item's ledger carried over from `current`."""
    out = {}
    for name, triples in documents.items():
        if Triple(name, RDF_TYPE, T.CatalogItem) in triples:
            triples = restock(current.get(name), triples, name)
        out[name] = triples
    return out


def plan_moves(items: dict[NamedNode, list[Triple]], delta: dict, wanted: dict,
               shipped: dict | None = None) -> dict[NamedNode, list[Triple]]:
    """The item documents a usage change makes; 409 with shortages if any would go below 0.

    `items` are the current documents of the items `delta` ((held, committed) per item) moves;
    `wanted` gives each item's (offer, quantity) lines for the shortages reported; `shipped`
    what left each item's stock (on hand) in a shipment, whose committed part `delta` releases.
    """
    graphs, shortages = {}, []
    shipped = shipped or {}
    for item in sorted({*delta, *shipped}, key=lambda n: n.value):
        held, committed = delta.get(item, (ZERO, ZERO))
        gone = shipped.get(item, ZERO)
        if not held and not committed and not gone:
            continue
        doc = items.get(item) or []
        if Triple(item, RDF_TYPE, T.CatalogItem) not in doc:
            continue      # the item was deleted (or is no item any more): nothing to count on
        ledger = read(doc, item)
        after = ledger.moved(held, committed)
        if gone and after.on_hand is not None:
            after = Ledger(after.on_hand - gone, after.held, after.committed)
        if held + committed > 0 and after.available is not None and after.available < 0:
            for offer, requested in wanted.get(item, [(None, held + committed)]):
                shortages.append({"offer": offer.value if offer else None, "stockItem": item.value,
                                  "requested": _num(requested), "available": _num(ledger.available)})
            continue
        graphs[item] = write(doc, item, after)
    if shortages:
        raise Shortage(f"not enough stock for {len(shortages)} line(s); nothing was reserved",
                       shortages=shortages)
    return graphs


def _num(value) -> str | None:
    return None if value is None else format(tidy(value), "f")
