"""Quantities in DFC measures, converted with the factors declared in ontology/units.ttl."""
from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal
from importlib import resources

import pyoxigraph as ox
from pyoxigraph import NamedNode

from app.errors import ShapeViolation, violation
from app.namespaces import DFC_M, T
from app.rdf.triples import tidy

_QUDT = "http://qudt.org/schema/qudt/"
MASS = NamedNode("http://qudt.org/vocab/quantitykind/Mass")
PIECE = NamedNode(DFC_M + "Piece")


@dataclasses.dataclass(frozen=True)
class Amount:
    """A quantity in the SI unit of its kind (kilograms, cubic metres)."""
    value: Decimal
    kind: NamedNode


@functools.cache
def factors() -> dict[NamedNode, tuple[NamedNode, Decimal]]:
    """unit → (quantity kind, multiplier to the SI unit of that kind)."""
    store = ox.Store()
    store.load(resources.files("app").joinpath("ontology/units.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    kinds = {q.subject: q.object for q in store.quads_for_pattern(None, NamedNode(_QUDT + "hasQuantityKind"), None)}
    return {q.subject: (kinds[q.subject], Decimal(q.object.value))
            for q in store.quads_for_pattern(None, NamedNode(_QUDT + "conversionMultiplier"), None)}


def amount(value: Decimal, unit: NamedNode | None) -> Amount | None:
    """The amount of `value` `unit`s, None for a unit with no declared factor (Piece, Box…)."""
    known = factors().get(unit) if unit is not None else None
    return Amount(value * known[1], known[0]) if known else None


def ratio(part: Amount, whole: Amount, where: str) -> Decimal:
    """How many `whole`s `part` makes; 422 when their kinds differ (kg and litres never add up)."""
    if part.kind != whole.kind:
        raise ShapeViolation(f"cannot aggregate {where}: {_kind(part)} and {_kind(whole)} do not convert",
                             violations=[violation(where, T.hasQuantity, None,
                                                   f"{_kind(part)} cannot be summed with {_kind(whole)}")])
    return part.value / whole.value


def _kind(a: Amount) -> str:
    return a.kind.value.rsplit("/", 1)[-1].lower()


# --- what an order line counts -------------------------------------------------------------------

def refuse_uncounted(lines, sizes: dict[NamedNode, tuple[Decimal, NamedNode] | None]) -> None:
    """Refuse (422) a line whose unit does not count the items its offer sells.

    The ledgers reserve a line's number of items, whatever unit it names: 500 dfc-m:Gram of a
    1 kg bag would hold 500 bags. A unit is taken as a count when it is dfc-m:Piece (for an item
    not itself measured in pieces) or the item's own unit at a size of one (2 dfc-m:Kilogram of
    carrots sold by the kilogram). Anything else is refused, not converted: the line's number is
    also what its deliveries and prices count. `lines` are order_documents.Line; `sizes` maps
    each line's offer to its product's dfc-b:hasQuantity (value, unit), None when unknown.
    """
    problems = []
    for line in lines:
        size = sizes.get(line.offer)
        if line.unit is None or _counts(line.unit, size):
            continue
        problems.append(violation(line.iri, T.hasUnit, line.unit, _why(line, size)))
    if problems:
        raise ShapeViolation(f"{len(problems)} order line(s) in a unit that does not count items",
                             violations=problems)


def _counts(unit: NamedNode, size: tuple[Decimal, NamedNode] | None) -> bool:
    if size is None:
        return unit == PIECE
    value, size_unit = size
    return (unit == size_unit and value == 1) or (unit == PIECE and size_unit != PIECE)


def _why(line, size) -> str:
    given = f"{tidy(line.quantity)} {_short(line.unit)}"
    if size is None:
        return f"{line.offer.value} sells items whose size this server does not know, so {given} " \
               f"cannot be counted; {_COUNT}"
    value, size_unit = size
    # Items measured in pieces (a box of 6): a count in pieces would be ambiguous, so not offered.
    said = f"{line.offer.value} sells items of {tidy(value)} {_short(size_unit)}, and " + (
        _COUNT_PLAIN if size_unit == PIECE else _COUNT)
    items = _items(line.quantity, line.unit, value, size_unit)
    return f"{said}; {given} is {tidy(items)} of them" if items is not None else said


_COUNT = "a line counts items: send the number of items (dfc-b:quantity, or dfc-b:hasQuantity in dfc-m:Piece)"
_COUNT_PLAIN = "a line counts items: send the number of items (dfc-b:quantity)"


def _items(quantity: Decimal, unit: NamedNode, size: Decimal, size_unit: NamedNode) -> Decimal | None:
    """How many items of `size` `size_unit` make `quantity` `unit`, where the units convert."""
    if not size:
        return None
    if unit == size_unit:
        return quantity / size
    part, whole = amount(quantity, unit), amount(size, size_unit)
    return part.value / whole.value if part is not None and whole is not None and part.kind == whole.kind else None


def _short(unit: NamedNode) -> str:
    return "dfc-m:" + unit.value[len(DFC_M):] if unit.value.startswith(DFC_M) else unit.value
