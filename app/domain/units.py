"""Quantities in DFC measures, converted with the factors declared in ontology/units.ttl."""
from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal
from importlib import resources

import pyoxigraph as ox
from pyoxigraph import NamedNode

from app.errors import ShapeViolation, violation
from app.namespaces import T

_QUDT = "http://qudt.org/schema/qudt/"
MASS = NamedNode("http://qudt.org/vocab/quantitykind/Mass")


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
