"""Literal builders: the canonical decimal and dateTime literals, and dates as real senders write them.

The domain builds its ledgers, stamps and summaries with these; normalisation reads payloads
with them. They know nothing of payloads, contexts or HTTP.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from pyoxigraph import Literal, NamedNode

from app.namespaces import XSD

_DECIMAL = NamedNode(XSD + "decimal")
_DATETIME = NamedNode(XSD + "dateTime")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# JavaScript's Date#toString / OFN: "Thu Aug 22 2024 05:40:38 UTC", "… GMT+0200 (CEST)".
JS_DATE = re.compile(
    r"^(?:[A-Z][a-z]{2},? )?(?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2}),? (?P<year>\d{4}),? "
    r"(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2}) ?(?:UTC|GMT|Z)?(?P<off>[+-]\d{2}:?\d{2})?(?: \(.*\))?$")


# More digits than int() reads (sys.get_int_max_str_digits, 4300 by default) raise ValueError: no
# count, page or delay we read comes near this many, so a longer string is no number to us.
MAX_DIGITS = 4000


def whole(text: str) -> int | None:
    """The whole number a string of ASCII digits spells, else None. Not `str.isdigit` alone: it
    says yes to "²", which int() refuses (a 500, a failed pass), and to other scripts' digits."""
    return int(text) if len(text) <= MAX_DIGITS and text.isascii() and text.isdigit() else None


def decimal_literal(value) -> Literal | None:
    """Return the canonical xsd:decimal literal of a number or numeric string, else None."""
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Literal(text if text not in ("", "-0") else "0", datatype=_DECIMAL)


def parse_datetime(text: str) -> dt.datetime | None:
    """Read ISO 8601 or JavaScript-style date strings; None if neither."""
    text = text.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    m = JS_DATE.match(text)
    if not m or m.group("mon") not in _MONTHS:
        return None
    off = m.group("off") or "+0000"
    offset = dt.timedelta(hours=int(off[1:3]), minutes=int(off[-2:])) * (-1 if off[0] == "-" else 1)
    try:
        return dt.datetime(int(m.group("year")), _MONTHS[m.group("mon")], int(m.group("day")),
                           int(m.group("h")), int(m.group("m")), int(m.group("s")),
                           tzinfo=dt.timezone(offset))
    except ValueError:
        return None


# The days the server computes with: far enough inside datetime's years 1 to 9999 that a day,
# an offset or a grace period added to one never overflows. A date outside is refused on the way
# in (app/rdf/checks.py); readers still take one stored before that check (app/domain/sessions.py).
FIRST_DAY, LAST_DAY = dt.date(1000, 1, 1), dt.date(8999, 12, 31)


def day_of(text: str, datatype: str) -> dt.date | None:
    """The day an xsd:date or xsd:dateTime text names, as written (whatever its offset); None if none."""
    if datatype == XSD + "date":
        try:
            return dt.date.fromisoformat(text.strip()[:10])
        except ValueError:
            return None
    moment = parse_datetime(text)
    return moment.date() if moment is not None else None


def instant_literal(now: dt.datetime) -> Literal:
    """Return the xsd:dateTime of an instant the server records, in UTC to the second (…Z)."""
    return datetime_literal(now.astimezone(dt.timezone.utc).replace(microsecond=0))


def datetime_literal(value: dt.datetime) -> Literal:
    """Return the xsd:dateTime literal of a datetime (UTC written as Z)."""
    text = value.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return Literal(text, datatype=_DATETIME)
