"""Sale sessions: when they are open, and the mark that closes them."""
from __future__ import annotations

import datetime as dt

from pyoxigraph import Literal, NamedNode, Triple

from app.errors import SessionNotOpen, ShapeViolation, violation
from app.namespaces import RDF_TYPE, T, XSD
from app.rdf.terms import parse_datetime
from app.rdf.triples import first


# The first and last moments a datetime holds: where a stored date plus a day, or plus a grace
# period, lies beyond them (a date stored before the way in refused it), they stand for it.
EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
LATEST = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def instant(term, end: bool = False) -> dt.datetime | None:
    """A literal date or date-time as an aware datetime; a bare date covers its whole day."""
    if not isinstance(term, Literal):
        return None
    if term.datatype.value == XSD + "date":
        try:
            day = dt.date.fromisoformat(term.value[:10])
        except ValueError:
            return None
        start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
        return shifted(start, dt.timedelta(days=1)) if end else start
    moment = parse_datetime(term.value)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


def shifted(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`moment` moved by `delta`, or EARLIEST or LATEST where that lies beyond what a datetime holds."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST if delta > dt.timedelta(0) else EARLIEST


def window(triples, session: NamedNode) -> tuple[dt.datetime | None, dt.datetime | None]:
    return instant(first(triples, session, T.startDate)), instant(first(triples, session, T.endDate), end=True)


def closed_at(triples, session) -> Literal | None:
    return first(triples, session, T.closedAt)


def check_open(triples, session: NamedNode, now: dt.datetime, growing: bool) -> None:
    """Refuse (409) a change to a closed session, or an order that grows outside its dates."""
    if Triple(session, RDF_TYPE, T.SaleSession) not in (triples or []):
        raise ShapeViolation(f"{session.value} is not a sale session", violations=[violation(
            session, T.belongsTo, session, "dfc-b:belongsTo must name one of the hub's sale sessions")])
    refuse_closed(triples, session)
    start, end = window(triples, session)
    if growing and ((start is not None and now < start) or (end is not None and now > end)):
        raise SessionNotOpen(f"the sale session {session.value} is open from {_show(start)} to "
                             f"{_show(end)}; it is now {_show(now)}", session=session.value)


def check_reserving(triples, session: NamedNode, now: dt.datetime, growing: bool) -> None:
    """Refuse (409) a wholesale order's reservation in a closed session, or its growth before the start.

    After the end date and until the close, the hub may still make its last edits.
    """
    refuse_closed(triples, session)
    start, _ = window(triples, session)
    if growing and start is not None and now < start:
        raise SessionNotOpen(f"the sale session {session.value} opens at {_show(start)}; it is now "
                             f"{_show(now)}", session=session.value)


def refuse_closed(triples, session: NamedNode) -> None:
    """Refuse (409) a change to a session that has closed."""
    closed = closed_at(triples, session)
    if closed is not None:
        raise SessionNotOpen(f"the sale session {session.value} closed at {closed.value}",
                             session=session.value, closedAt=closed.value)


def _show(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else "(not set)"
