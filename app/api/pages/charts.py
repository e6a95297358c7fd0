"""Bar charts as inline SVG, with the numbers they draw as a text equivalent (no JavaScript)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

# Bars in colours that keep at least 3:1 against white (WCAG 1.4.11), one per series.
COLOURS = ("#1f5f99", "#b35900", "#2e7d32", "#6a3d9a", "#8a2846", "#00695c")
ROW, BAR, LABEL_WIDTH, WIDTH = 26, 18, 230, 600


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    x: float
    width: float
    y: float
    colour: str


@dataclasses.dataclass(frozen=True)
class Chart:
    """What a template draws: a title, bars laid out, the size, and the rows of its text equivalent."""
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int

    @property
    def text(self) -> str:
        return "; ".join(f"{b.label}: {_show(b.value)}" for b in self.bars)


def bars(title: str, values: list[tuple[str, Decimal | int | float | None]]) -> Chart | None:
    """A horizontal bar per (label, value); None when nothing is a number (no chart to draw)."""
    numbers = [(label, Decimal(str(v))) for label, v in values if v is not None]
    if not numbers:
        return None
    top = max((abs(v) for _, v in numbers), default=Decimal(0)) or Decimal(1)
    room = WIDTH - LABEL_WIDTH - 70
    out = []
    for i, (label, value) in enumerate(numbers):
        width = float(abs(value) / top) * room
        out.append(Bar(label, value, LABEL_WIDTH, max(width, 1.0 if value else 0.0), i * ROW + 4,
                       COLOURS[i % len(COLOURS)]))
    return Chart(title, out, WIDTH, len(out) * ROW + 8, LABEL_WIDTH)


def _show(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def show(value) -> str:
    """A number as people write it: 10, not 10.000 nor 1E+1."""
    return "" if value is None else _show(Decimal(str(value)))


def when(moment) -> str:
    """A date and time as people read it: Mon 23 Nov 2026, 08:00 UTC."""
    if moment is None:
        return ""
    return moment.astimezone(dt.timezone.utc).strftime("%a %d %b %Y, %H:%M UTC")


def from_table(names: list[str], rows: list[list[tuple[str, str]]], limit: int = 40) -> Chart | None:
    """A chart of a SPARQL result with a label column and a number column: the first of each."""
    label = next((i for i, n in enumerate(names) if any(r[i][0] and not _number(r[i][0]) for r in rows)), None)
    number = next((i for i, n in enumerate(names) if rows and all(_number(r[i][0]) for r in rows)), None)
    if label is None or number is None or not rows or len(rows) > limit:
        return None
    return bars(f"{names[number]} by {names[label]}", [(_short(r[label][0]), _number(r[number][0])) for r in rows])


def _short(text: str) -> str:
    """An IRI by its last segment (jean-farm), as a bar's label; other text as it is."""
    if text.startswith(("http://", "https://", "urn:")):
        return text.rstrip("/").replace("#", "/").rsplit("/", 1)[-1] or text
    return text


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except Exception:       # decimal.InvalidOperation, and anything else that is no number
        return None
    return value if value.is_finite() else None
