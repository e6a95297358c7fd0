"""Webhook subscriptions and the event log, per enterprise (API.md "Events and webhooks").

A subscription is a document `{enterprise}/webhooks/{id}` (`hub:WebhookSubscription`): the URL,
the event types, whether it is active, and its cursor — the number of the last event it has been
given deliveries for (app/events/dispatcher.py moves it). The secret is shown once, when it is made:
`whsec_` and the base64 of 24 random bytes. The server keeps the key, as it signs every delivery
with it, in a graph of its own outside every enterprise's documents (`key_graph`), which only
the sending queries (app/queries/webhook_sending.rq, webhook_endpoints.rq) read: no route shows it again.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import secrets

from pyoxigraph import Literal, NamedNode, Triple

from app import queries
from app.events import outbox as events
from app.domain.documents import Namespace
from app.errors import Conflict, InvalidValue, NotFound
from app.namespaces import RDF_TYPE, TRUE, XSD, hub
from app.rdf.terms import instant_literal

SECRET_PREFIX = "whsec_"
SEGMENT = "webhooks"
# Subscriptions one enterprise may keep: every dispatcher pass reads each of them, so one
# enterprise with thousands would slow every other's deliveries. A platform needs a handful
# (Stripe allows 16 endpoints an account, Shopify one per topic and address).
MAX_SUBSCRIPTIONS = 50
# Where signing keys live: app/queries/webhook_sending.rq, webhook_endpoints.rq and webhook_keys_moved.ru name it too.
KEYS = "urn:x-dfc-hub:webhook-key:"


class W:
    """Our terms for subscriptions, deliveries and attempts, named once (ontology/hub.ttl)."""
    WebhookSubscription, subscriber, endpoint, signingKey, active, cursor, createdAt = (
        hub(n) for n in ("WebhookSubscription", "subscriber", "endpoint", "signingKey", "active", "cursor",
                         "createdAt"))
    disabledAt, disabledReason = hub("disabledAt"), hub("disabledReason")
    WebhookDelivery, subscription, event, deliveryState, attempts, dueAt, claimedUntil, claimedBy = (
        hub(n) for n in ("WebhookDelivery", "subscription", "event", "deliveryState", "attempts", "dueAt",
                         "claimedUntil", "claimedBy"))
    DeliveryAttempt, attemptNumber, attemptedAt, responseStatus, duration, error = (
        hub(n) for n in ("DeliveryAttempt", "attemptNumber", "attemptedAt", "responseStatus", "duration", "error"))


@dataclasses.dataclass(frozen=True)
class Subscription:
    """A webhook subscription as its owner sees it (never its key)."""
    iri: NamedNode
    owner: str
    url: str
    types: tuple[str, ...]
    active: bool
    created: str
    cursor: int

    @property
    def id(self) -> str:
        """The last segment of its IRI: `{enterprise}/webhooks/{id}`."""
        return self.iri.value.rsplit("/", 1)[-1]

    def to_json(self) -> dict:
        """What GET shows of it."""
        return {"id": self.id, "url": self.url, "events": list(self.types), "active": self.active,
                "createdAt": self.created}


def key_graph(sub: NamedNode) -> NamedNode:
    """Where a subscription's signing key is kept: a graph no route and no analyst query reads."""
    return NamedNode(KEYS + hashlib.sha256(sub.value.encode()).hexdigest())


def move_old_keys(store) -> bool:
    """Move the signing keys a store kept in their subscriptions' documents (before the keys had
    graphs of their own) to their key graphs; tell whether there were any."""
    if not store.ask(queries.load("webhook_keys_left")):
        return False
    with store.transaction() as tx:
        tx.append(queries.load("webhook_keys_moved"))
    return True


class Webhooks:
    """An enterprise's event log and webhook subscriptions."""

    def __init__(self, store, clock, guard):
        # `guard(url, field)` refuses a URL the server may not call (app/outbound Guard).
        self.store, self.clock, self.guard = store, clock, guard

    # --- the event log --------------------------------------------------------------------

    def log(self, ns: Namespace, after: int, types: list[str], limit: int) -> list[events.Event]:
        """The enterprise's events after `after`, of `types`, oldest first, at most `limit`."""
        return events.log(self.store, ns.iris, after, types, limit)

    def documents(self, iris: list[NamedNode]) -> list[Triple]:
        """The events' documents (a page of the log, asked for as RDF)."""
        return self.store.graphs(iris)

    # --- subscriptions --------------------------------------------------------------------

    def subscribe(self, ns: Namespace, body) -> tuple[Subscription, str]:
        """Make a subscription from `{"url", "events"}`; return it and its secret (shown once)."""
        url, types = _checked(body, self.guard)
        key = secrets.token_bytes(24)
        iri = NamedNode(f"{ns.iri}/{SEGMENT}/{secrets.token_hex(8)}")
        now = instant_literal(self.clock.now())
        with self.store.transaction() as tx:
            # Counted under the lock every subscription shares: two at once cannot both be the last.
            kept = self.subscriptions(ns, tx)
            if len(kept) >= MAX_SUBSCRIPTIONS:
                raise Conflict(f"{ns.iri} has {len(kept)} webhook subscriptions, the most one enterprise may have: "
                               "delete one it no longer needs first", limit=MAX_SUBSCRIPTIONS)
            cursor = events.last_sequence(tx)      # only events from now on; a replay sends older ones
            tx.create(iri, [
                Triple(iri, RDF_TYPE, W.WebhookSubscription), Triple(iri, W.subscriber, NamedNode(ns.iri)),
                Triple(iri, W.endpoint, Literal(url)),
                Triple(iri, W.active, TRUE), Triple(iri, W.createdAt, now),
                Triple(iri, W.cursor, Literal(str(cursor), datatype=NamedNode(XSD + "integer"))),
                *(Triple(iri, events.E.eventType, Literal(t)) for t in types)])
            tx.create(key_graph(iri), [Triple(iri, W.signingKey, Literal(_b64(key)))])
        sub = Subscription(iri, ns.iri, url, types, True, now.value, cursor)
        return sub, SECRET_PREFIX + _b64(key)

    def subscriptions(self, ns: Namespace, reader=None) -> list[Subscription]:
        """The enterprise's subscriptions, oldest first (as `reader`, a unit of work, reads them)."""
        rows = (reader or self.store).select(queries.load("webhook_subscriptions"),
                                             {"owners": [NamedNode(i) for i in ns.iris]})
        # Only those subscribing made, in the enterprise's namespace: another's document naming
        # it as subscriber (a store may hold one from before writes were kept to their kinds) is not its.
        return [_subscription(r) for r in rows if ns.owns(r["sub"].value)]

    def subscription(self, ns: Namespace, wid: str) -> Subscription:
        """One subscription of the enterprise, or 404."""
        iri = f"{ns.iri}/{SEGMENT}/{wid}"
        found = [s for s in self.subscriptions(ns) if s.iri.value == iri]
        if not found:
            raise NotFound(f"no webhook subscription at {iri}")
        return found[0]

    def details(self, ns: Namespace, wid: str) -> dict:
        """A subscription as GET shows it: its deliveries by state and its latest attempts."""
        sub = self.subscription(ns, wid)
        doc = {t.predicate: t.object.value for t in self.store.graph(sub.iri)}
        counts = {r["state"].value: int(r["count"].value)
                  for r in self.store.select(queries.load("webhook_deliveries"), {"sub": sub.iri})}
        attempts = [_attempt(r) for r in self.store.select(queries.load("webhook_attempts"), {"sub": sub.iri})]
        out = sub.to_json()
        if not sub.active:
            out |= {"disabledAt": doc.get(W.disabledAt), "disabledReason": doc.get(W.disabledReason)}
        return out | {"deliveries": {s: counts.get(s, 0) for s in ("pending", "delivered", "failed")},
                      "attempts": attempts}

    def unsubscribe(self, ns: Namespace, wid: str) -> None:
        """Remove a subscription, its deliveries and its attempts; nothing more is sent."""
        sub = self.subscription(ns, wid)
        with self.store.transaction() as tx:
            tx.append(queries.load("webhook_forget"), {"sub": sub.iri})
            tx.drop(sub.iri)
            tx.drop(key_graph(sub.iri))

    def replay(self, ns: Namespace, wid: str, after: int) -> int:
        """Send again every event after `after` the subscription would receive; return how many."""
        sub = self.subscription(ns, wid)
        with self.store.transaction() as tx:
            # Read under the lock the dispatcher's settling takes too: a 410 may have stopped it.
            now = next((s for s in self.subscriptions(ns, tx) if s.iri == sub.iri), None)
            if now is None or not now.active:
                raise Conflict(f"{sub.iri.value} is stopped (its receiver answered 410, or it was removed): nothing "
                               "would be sent; subscribe the URL again", active=False)
            upto = events.last_sequence(tx)
            count = events.count(tx, ns.iris, after, upto, sub.types)
            tx.append(queries.load("webhook_replay"), {
                "sub": sub.iri, "parties": [NamedNode(o) for o in ns.iris], "types": [Literal(t) for t in sub.types],
                "after": after, "upto": upto, "now": self.clock.now()})
        return count


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """What the fan-out needs of one event: its document, type and parties; and to send it, its
    time and data (the JSON text)."""
    iri: NamedNode
    type: str
    parties: frozenset[str]
    time: str = ""
    data: str = "{}"

    def event(self, sequence: int) -> events.Event:
        return events.Event(sequence, self.type, self.time, json.loads(self.data), self.iri)


def new_events(rows) -> dict[int, NewEvent]:
    """The events of app/queries/webhook_new_events.rq's rows (one per party), by number."""
    found: dict[int, NewEvent] = {}
    for row in rows:
        n, party = int(row["sequence"].value), row["party"].value
        seen = found.get(n)
        found[n] = NewEvent(row["event"], row["type"].value, (seen.parties if seen else frozenset()) | {party},
                            row["time"].value, row["data"].value)
    return found


def fan_out_bindings(subscriptions, found: dict[int, NewEvent], upto: int, window: int, due: dt.datetime,
                     room: int | None = None) -> dict:
    """The bindings of app/queries/webhook_fan_out.ru, and the deliveries to send at once.

    `subscriptions`: (IRI, owner's IRI spellings, event types, cursor) of each one behind `upto`;
    `found`: the events by number. Each gets a delivery of every event numbered after its cursor
    (`window` of them at most: a long backlog goes in slices) that is of its types and names its
    owner as a party: rows (delivery, subscription, event, number).

    Without `room` (due later), every delivery is made pending ("deliveries") and each cursor
    moves to the last number looked at ("cursors"). With `room` (due at once), the deliveries of
    the oldest events, `room` at most, are to be sent by the pass ("send"), none is written: each
    subscription they belong to is claimed up to just before its first delivery left for the next
    pass, or to the last number looked at ("claims"); the cursors of the others move there now.
    """
    deliveries, cursors = [], []
    for sub, owners, types, after in subscriptions:
        last = min(upto, after + window)
        for n in range(after + 1, last + 1):
            event = found.get(n)
            if event is not None and event.type in types and not event.parties.isdisjoint(owners):
                deliveries.append((NamedNode(f"{sub.value}/deliveries/{n}"), sub, event.iri, n))
        cursors.append((sub, last))
    if room is None:
        return {"deliveries": deliveries, "cursors": cursors, "claims": [], "send": [], "now": due}
    oldest = sorted(range(len(deliveries)), key=lambda k: deliveries[k][3])
    left: dict[NamedNode, int] = {}
    for k in oldest[room:]:
        left.setdefault(deliveries[k][1], deliveries[k][3])
    send = [deliveries[k] for k in sorted(oldest[:room])]
    sending = {row[1] for row in send}
    reach = [(sub, left[sub] - 1 if sub in left else last) for sub, last in cursors]
    return {"deliveries": [], "cursors": [r for r in reach if r[0] not in sending],
            "claims": [r for r in reach if r[0] in sending], "send": send, "now": due}


def _checked(body, guard) -> tuple[str, tuple[str, ...]]:
    """The URL and event types of a subscription request; 422 naming what is wrong."""
    if not isinstance(body, dict):
        raise InvalidValue('send {"url": "https://…", "events": ["procurement.order_received", …]}', pointer="")
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise InvalidValue("url: the https URL deliveries are POSTed to is missing", pointer="/url")
    guard(url.strip(), field="url")
    types = body.get("events")
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise InvalidValue(f"events: a non-empty list of event types, from {', '.join(events.TYPES)}",
                           pointer="/events")
    unknown = [t for t in types if t not in events.TYPES]
    if unknown:
        raise InvalidValue(f"events: unknown event type(s) {', '.join(map(repr, unknown[:5]))}; "
                           f"known: {', '.join(events.TYPES)}", pointer="/events", known=list(events.TYPES))
    return url.strip(), tuple(dict.fromkeys(types))


def _subscription(row) -> Subscription:
    return Subscription(row["sub"], row["owner"].value, row["url"].value, tuple(sorted(row["types"].value.split())),
                        row["active"].value in ("true", "1"), row["created"].value, int(row["cursor"].value))


def _attempt(row) -> dict:
    out = {"event": events.event_id(int(row["sequence"].value)), "attempt": int(row["number"].value),
           "at": row["at"].value, "durationMs": round(float(row["duration"].value) * 1000, 1)}
    if "status" in row:
        out["status"] = int(row["status"].value)
    if "error" in row:
        out["error"] = row["error"].value
    return out


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")

