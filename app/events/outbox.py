"""Events: what happened to an order or a sale session, recorded with the change itself (an outbox).

`record` writes an event into the unit of work that makes the change it reports, so the two are
committed together or not at all: no change without its event, no event without its change,
whatever crashes (API.md "Events and webhooks"). An event is a document of our vocabulary
(ontology/hub.ttl, `hub:Event`): its type, when, the enterprises it concerns (`hub:party`), the
IRIs it is about and its data (IRIs and statuses) as JSON. Its graph name is a URN, so it never
enters the analyst dataset (app/queries/analyst_graphs.rq lists what may).

Events are numbered by one counter kept in the store, read and moved at commit time only: the
unit of work's commit hook runs under the store's short commit lock (app/store/locks.py), so
numbers are unique and events commit in their order, even across several processes on one remote
store, while the counter is never held through a unit of work's reads and planning. The event log and the webhook
dispatcher page by that number (`after`), so each event is seen exactly once, in order.
An event's graph is named once, when it is written, never after its number: numbering a close's
thousands of staged events then replaces one statement each (`hub:sequence`) under the commit lock,
instead of moving every statement of theirs to a graph named after it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping

from pyoxigraph import Literal, NamedNode, Triple

from app import queries
from app.errors import BadRequest, clipped, echoed
from app.namespaces import RDF_TYPE, XSD, hub
from app.rdf.terms import instant_literal, whole

ORDER_RECEIVED = "procurement.order_received"
ORDER_STATUS_CHANGED = "procurement.order_status_changed"
DELIVERY_CHANGED = "procurement.delivery_changed"
SESSION_CLOSED = "dfc.sale_session_closed"
TYPES = (ORDER_RECEIVED, ORDER_STATUS_CHANGED, DELIVERY_CHANGED, SESSION_CLOSED)


class E:
    """Our terms for events, named once (declared in ontology/hub.ttl)."""
    Event, eventType, sequence, occurredAt, party, about, eventData = (
        hub(n) for n in ("Event", "eventType", "sequence", "occurredAt", "party", "about", "eventData"))


# The counter: one statement, `<counter> hub:sequence n`, the number of the last event recorded.
COUNTER = NamedNode("urn:x-dfc-hub:event-sequence")
_PREFIX = "urn:x-dfc-hub:event:"
_ID = "evt_"
_INTEGER = NamedNode(XSD + "integer")


@dataclasses.dataclass(frozen=True)
class Event:
    """One recorded event, as the log and the webhooks show it."""
    sequence: int
    type: str
    timestamp: str          # ISO 8601, UTC, `Z`
    data: dict
    iri: NamedNode          # its document (a URN: read through the log, never as a document)

    @property
    def id(self) -> str:
        """The event's id: the `webhook-id` of each delivery, and what `after` resumes from."""
        return event_id(self.sequence)

    def payload(self) -> dict:
        """The body a webhook delivers (Standard Webhooks: type, timestamp, data)."""
        return {"type": self.type, "timestamp": self.timestamp, "data": self.data}

    def to_json(self) -> dict:
        """The event as the log lists it: its id, then the webhook body."""
        return {"id": self.id, **self.payload()}


def event_id(sequence: int) -> str:
    """The id of the event numbered `sequence`."""
    return f"{_ID}{sequence}"


def new_event_iri() -> NamedNode:
    """A fresh event's graph name: a URN (events are read through the log, never as documents),
    without its number, which it may get later (a staged event)."""
    return NamedNode(f"{_PREFIX}{uuid.uuid4().hex}")


def event_named(reader, sequence: int) -> NamedNode | None:
    """The graph of the event numbered `sequence` (None: no such event)."""
    rows = reader.select(queries.load("event_numbered"), {"sequence": _integer(sequence)})
    return rows[0]["event"] if rows else None


def sequence_of(event: str) -> int:
    """The number an event id (`evt_12`) carries; 400 for anything else."""
    text = event.removeprefix(_ID)
    number = whole(text) if len(text) <= 18 else None
    if number is None:
        raise BadRequest(f"{echoed(event)} is not an event id (evt_ followed by digits)", parameter="after",
                         value=clipped(event))
    return number


# --- writing ----------------------------------------------------------------------------------

def record(tx, type: str, parties: list[NamedNode], data: dict, now: dt.datetime) -> None:
    """Record an event in the unit of work `tx` that makes the change it reports (numbered at commit).

    `parties` are the enterprises told of it (its log readers and webhook subscribers);
    `data` is a JSON-able dict of IRIs and statuses, e.g. {"order": iri, "from": "placed",
    "to": "confirmed"} (NamedNodes are written as their IRIs).
    """
    if type not in TYPES:
        raise ValueError(f"unknown event type {type!r}")
    text = json.dumps(data, default=_plain, sort_keys=True, separators=(",", ":"))   # refused now, not at commit
    # The unit of work's batch is the one its commit hooks hold: a part written (Store.commit_part)
    # takes its hooks with it, and the next event starts a new batch.
    pending = next((hook.__self__ for hook, _ in tx.hooks if isinstance(getattr(hook, "__self__", None), _Pending)), None)
    if pending is None:
        pending = _Pending()
        tx.at_commit(pending.number, pending.stage)
    pending.events.append((type, list(parties), json.loads(text), now))


class _Pending:
    """A unit of work's events, numbered under the commit lock (`number`). A large unit of work
    stages them first (`stage`): written with its change, unnumbered, outside the commit lock;
    then numbered in a small update of their own under it."""

    def __init__(self):
        self.events: list[tuple] = []
        self.staged: list[NamedNode] = []

    def stage(self, tx) -> None:
        for place, (type, parties, data, now) in enumerate(self.events, 1):
            iri = new_event_iri()
            # Numbered -place: no log, count or dispatcher (all ask for numbers above 0) sees it
            # before it is numbered.
            tx.create(iri, triples(iri, -place, type, parties, data, now))
            self.staged.append(iri)

    def number(self, tx) -> None:
        """Give the events their numbers and documents (under the commit lock)."""
        sequence = last_sequence_of(tx.fresh(COUNTER))
        if self.staged:
            sequence = _number_staged(tx, self.staged, sequence)
        else:
            for type, parties, data, now in self.events:
                sequence += 1
                iri = new_event_iri()
                tx.create(iri, triples(iri, sequence, type, parties, data, now))
        tx.put(COUNTER, [Triple(COUNTER, E.sequence, _integer(sequence))])


def _staged(reader) -> list[NamedNode]:
    return [r["event"] for r in reader.select(queries.load("staged_events"))]


def _number_staged(tx, staged: list[NamedNode], sequence: int) -> int:
    # One statement replaced per event, in one operation: moving a close's 2,000 events to graphs
    # named after their numbers held the commit lock, and so every other writer, for a second.
    rows = [(name, _integer(n)) for n, name in enumerate(staged, sequence + 1)]
    tx.append(queries.load("number_event"), {"rows": rows})
    return sequence + len(staged)


def adopt_staged(store) -> int:
    """Number the events a writer staged and died before numbering (at start); how many."""
    found = _staged(store)

    def number(tx) -> None:
        sequence = _number_staged(tx, found, last_sequence_of(tx.fresh(COUNTER)))
        tx.put(COUNTER, [Triple(COUNTER, E.sequence, _integer(sequence))])
    if found:
        for attempt in store.attempts(None):        # at start: a lapsed lock is tried again
            with attempt as tx:
                tx.at_commit(number)
    return len(found)


def last_sequence(reader) -> int:
    """The number of the last event recorded (0 before the first); `reader` has `graph()`."""
    return last_sequence_of(reader.graph(COUNTER))


def last_sequence_of(counter: list[Triple]) -> int:
    """The number the counter's document holds (0 before the first event)."""
    for t in counter:
        if t.predicate == E.sequence:
            return int(t.object.value)
    return 0


def triples(iri: NamedNode, sequence: int, type: str, parties: Iterable[NamedNode], data: Mapping,
            now: dt.datetime) -> list[Triple]:
    """An event's document."""
    text = json.dumps(data, default=_plain, sort_keys=True, separators=(",", ":"))
    out = [Triple(iri, RDF_TYPE, E.Event), Triple(iri, E.eventType, Literal(type)),
           Triple(iri, E.sequence, _integer(sequence)), Triple(iri, E.occurredAt, instant_literal(now)),
           Triple(iri, E.eventData, Literal(text))]
    out += [Triple(iri, E.party, p) for p in dict.fromkeys(parties)]
    out += [Triple(iri, E.about, NamedNode(v)) for v in dict.fromkeys(_iris(json.loads(text)))]
    return out


def _plain(value):
    if isinstance(value, (NamedNode, Literal)):
        return value.value
    if isinstance(value, dt.datetime):
        return instant_literal(value).value
    raise TypeError(f"an event's data holds IRIs, statuses and numbers, not {type(value).__name__}")


def _iris(value) -> Iterable[str]:
    """The IRIs an event's data names (its values that are http(s) IRIs), for `hub:about`."""
    if isinstance(value, str) and value.startswith(("http://", "https://")) and " " not in value:
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _iris(v)
    elif isinstance(value, list):
        for v in value:
            yield from _iris(v)




def _integer(n: int) -> Literal:
    return Literal(str(n), datatype=_INTEGER)


# --- reading ----------------------------------------------------------------------------------

def from_row(row: Mapping) -> Event:
    """An Event from a row of app/queries/events_of_party.rq, events_of_party_numbered.rq or webhook_sending.rq."""
    return Event(int(row["sequence"].value), row["type"].value, row["time"].value, json.loads(row["data"].value),
                 row["event"])


# A reader at most TAIL events behind the last is answered by number, WINDOW numbers a query: the
# usual poll for what is new costs what it reads (a 1,000-number window: 15 ms at 20,000 events;
# the last 100: under 1 ms, against 40-58 ms by party). Further back, by party: that query walks the
# enterprise's whole log (40 ms a page at 20,000 events), but a far-behind reader of a sparse log
# would need many windows.
TAIL, WINDOW = 2000, 1000


def log(store, party_iris: Iterable[str], after: int, types: Iterable[str], limit: int) -> list[Event]:
    """The events naming any of `party_iris` as a party, numbered after `after`, oldest first."""
    bindings = {"parties": [NamedNode(i) for i in party_iris], "types": [Literal(t) for t in types]}
    last = last_sequence(store)
    if last - after > TAIL:
        rows = store.select(queries.load("events_of_party"), {**bindings, "after": after})
        return [from_row(r) for r in rows[:limit]]
    found: list[Event] = []
    for start in range(max(after, 0), last, WINDOW):
        if len(found) >= limit:
            break
        numbers = list(range(start + 1, min(last, start + WINDOW) + 1))
        found += [from_row(r) for r in store.select(queries.load("events_of_party_numbered"),
                                                    {**bindings, "sequences": numbers})]
    return found[:limit]


def count(store, party_iris: Iterable[str], after: int, upto: int, types: Iterable[str]) -> int:
    """How many events naming any of `party_iris` are numbered in (after, upto], of `types`."""
    bindings = {"parties": [NamedNode(i) for i in party_iris], "after": after, "upto": upto,
                "types": [Literal(t) for t in types]}
    rows = store.select(queries.load("events_count"), bindings)
    return int(rows[0]["count"].value) if rows else 0
