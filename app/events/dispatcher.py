"""Webhook delivery: Standard Webhooks 1.0, at least once, shared by every process of one store.

One pass (`Dispatcher.run_pass`), run by the thread inside `dfc-hub serve` and by
`dfc-hub deliver-events` alike:

1. claim: the deliveries due and unclaimed (a backlog, retries, lapsed claims) are claimed for
   this pass until a deadline well past the receiver's timeout (one unit of work: the store-wide
   write lock makes the claim exclusive, so two processes never send one attempt at once);
2. fan out (one unit of work, under the same lock): each active subscription gets a delivery of
   every new event of its types naming its enterprise. Those due later are made pending
   documents, and its cursor moves past them. Those due at once are sent by this pass, as many
   as the batch has room for, oldest events first, and not written yet: the subscription is
   claimed by the pass up to the last of them, its cursor left where it was; the other events
   wait behind it for the next pass;
3. send, outside the lock, in parallel (app/events/sender.py, through the outbound adapter; in a
   process of its own under `serve` on an embedded store, app/events/sender_process.py): the
   URL checked again and the connection pinned to the addresses checked (DNS rebinding), no redirect followed, the whole
   attempt (connect, headers, body) within DFC_HUB_WEBHOOK_TIMEOUT_SECONDS; `webhook-id` is the
   event's id on every attempt;
4. settle: each result is recorded if the pass still holds the claim — delivered (2xx), due
   again after the next step of DFC_HUB_WEBHOOK_RETRY_SCHEDULE (or Retry-After, if later), or
   failed after the last; a 410 disables the subscription. Each attempt is a document of its own,
   but those of deliveries sent from the fan-out that a 2xx answered: the pass records them as
   entries of one batch per subscription, the deliveries with them; those subscriptions' cursors
   move past what their claim reached.

All state is in the store: a process killed mid-pass leaves claims that expire, and the next
pass of any process sends those deliveries again, with their original ids.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import uuid

from pyoxigraph import Literal, NamedNode

from app import queries
from app.events import outbox as events
from app.domain.documents import Namespace, enterprise_of
from app.domain.sessions import instant
from app.events.subscriptions import fan_out_bindings, new_events
from app.namespaces import XSD
from app.rdf.terms import datetime_literal, decimal_literal, instant_literal

MAX_RETRY_AFTER = 86400          # a Retry-After further away than a day is read as a day
FAN_OUT = 500                    # events one pass gives each subscription, at most
WORKERS = 16                     # deliveries sent at once
BATCH = 64                       # a pass claims at most this many (app/queries/webhook_due.rq's LIMIT)


@dataclasses.dataclass(frozen=True)
class Claimed:
    """One delivery this pass holds: what to send, and where."""
    delivery: NamedNode
    subscription: NamedNode
    attempts: int                # attempts made before this one, in this round
    url: str
    key: str                     # the signing key, base64
    event: events.Event
    fresh: bool = False          # sent from the fan-out: no document of it is written yet


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one attempt gave."""
    status: int | None           # the receiver's HTTP status; None when no answer came
    duration: float              # seconds
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def parse_schedule(text: str) -> tuple[float, ...]:
    """DFC_HUB_WEBHOOK_RETRY_SCHEDULE: seconds before each attempt, the first counted from the event."""
    try:
        steps = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise ValueError(f"DFC_HUB_WEBHOOK_RETRY_SCHEDULE must be seconds separated by commas, not {text!r}") from None
    if not steps or any(s < 0 for s in steps):
        raise ValueError("DFC_HUB_WEBHOOK_RETRY_SCHEDULE needs at least one number of seconds, none negative")
    return steps


class Dispatcher:
    """Delivers the store's pending webhook deliveries, one pass at a time."""

    def __init__(self, store, clock, base_url: str, schedule: str, timeout: float, sender):
        self.store, self.clock, self.base_url = store, clock, base_url
        # Sends each claimed delivery (app/events/sender.py): the network, given, never imported here.
        self.sender = sender
        self.schedule, self.timeout = parse_schedule(schedule), timeout
        # Past the receiver's deadline for each of the waves a pass sends its claims in (twice,
        # for a loaded machine), so a live sender still holds them when it settles.
        self.claim_for = dt.timedelta(seconds=-(-BATCH // WORKERS) * 2 * timeout + 10)

    def sending_through(self, sender) -> "Dispatcher":
        """This dispatcher with another sender: `serve` gives an embedded store's one a process of its own."""
        other = copy.copy(self)
        other.sender = sender
        return other

    # --- one pass -------------------------------------------------------------------------

    def run_pass(self) -> int:
        """Claim what is due, fan out new events (claiming those due now, room permitting), send
        what was claimed, record how it went; return how many were sent."""
        token = uuid.uuid4().hex
        claimed = self.claim(token)          # first: a backlog, retries and lapsed claims go out oldest first
        claimed += self.fan_out(token, BATCH - len(claimed))
        if not claimed:
            return 0
        outcomes = self.sender.send_all(claimed)
        self.settle(token, list(zip(claimed, outcomes)))
        return len(claimed)

    def drain(self, max_passes: int = 10**6) -> int:
        """Run passes until nothing is due (the cron command); return how many attempts were made."""
        total = 0
        for _ in range(max_passes):
            sent = self.run_pass()
            if not sent:
                break
            total += sent
        return total

    def fan_out(self, token: str, room: int) -> list[Claimed]:
        """Give each active subscription its deliveries of the events recorded since its cursor:
        pending documents if due later; if due now, at most `room` of them to send in the pass
        `token`, which claims their subscriptions' events and writes them once sent (`settle`).

        What sending them needs, the fan-out has read. Measured (bench/events.py, every checkout
        an event, 5 subscriptions): each delivery claimed apart cost a third more of the
        dispatcher's time; each one made pending for want of room went out through a later pass's
        claim after all (two thirds of them); and writing a delivery as it was made, claimed,
        settled and attempted (22 statements, two documents) held the ratio to no subscription
        near 0.7, where the same pass writing none read 0.87; one document of 11 statements a
        delivery, 0.76, and an entry of 3 in the pass's batch, 0.82."""
        now = self.clock.now()
        due = now + dt.timedelta(seconds=self.schedule[0])
        sending = due <= now
        if (sending and room <= 0) or not self._behind(self.store):    # most passes find nothing
            return []
        window = min(FAN_OUT, room) if sending else FAN_OUT
        with self.store.transaction() as tx:
            tx.leaves_catalogue()      # deliveries and cursors only: the memory of offers outlives it
            upto = events.last_sequence(tx)
            # A subscription another pass is sending for is left to it (its claim lapses if it died);
            # one outside its subscriber's namespace was not made by subscribing, and gets nothing.
            subs = []
            for row in tx.select(queries.load("webhooks_active")):
                if _free(row, now) and self._subscribed(row):
                    subs.append((row["sub"], frozenset(self._spellings(row["owner"].value)),
                                 frozenset(row["types"].value.split()), int(row["cursor"].value)))
            behind = [s for s in subs if s[3] < upto]
            if not behind:
                return []
            # One read of the new events for every subscription, matched by a rule (subscriptions.py).
            wanted = sorted({n for *_, after in behind for n in range(after + 1, min(upto, after + window) + 1)})
            found = new_events(tx.select(queries.load("webhook_new_events"), {"sequences": wanted}))
            bindings = fan_out_bindings(behind, found, upto, window, due, room if sending else None)
            send = bindings.pop("send")
            ends = {r["sub"]: (r["url"].value, r["key"].value) for r in tx.select(
                queries.load("webhook_endpoints"), {"subscriptions": list({row[1] for row in send})})} if send else {}
            tx.append(queries.load("webhook_fan_out"), {**bindings, "token": token, "until": now + self.claim_for})
        sent = {n: found[n].event(n) for n in {n for *_, n in send}}      # each event read once, for all
        return [Claimed(d, sub, 0, *ends[sub], sent[n], fresh=True) for d, sub, _, n in send]

    def claim(self, token: str) -> list[Claimed]:
        """Claim the deliveries due now and unclaimed for the pass `token` (at most BATCH); return them."""
        now = self.clock.now()
        if not self.store.ask(queries.load("webhook_anything_due"), {"now": now}):
            return []
        with self.store.transaction() as tx:
            tx.leaves_catalogue()      # deliveries and cursors only: the memory of offers outlives it
            due = [r["d"] for r in tx.select(queries.load("webhook_due"), {"now": now})]
            rows = tx.select(queries.load("webhook_sending"), {"deliveries": due}) if due else []
            if rows:
                tx.append(queries.load("webhook_claim"),
                          {"deliveries": [r["d"] for r in rows], "token": token, "until": now + self.claim_for})
        return [_claimed(r) for r in rows]

    def settle(self, token: str, results: list[tuple[Claimed, Outcome]]) -> None:
        """Record each attempt and what comes next, in one unit of work."""
        now = self.clock.now()
        at = datetime_literal(now.astimezone(dt.timezone.utc))
        with self.store.transaction() as tx:
            tx.leaves_catalogue()      # deliveries and cursors only: the memory of offers outlives it
            fresh = [(c, o) for c, o in results if c.fresh]
            if fresh:
                self._settle_sent(tx, token, fresh, now, at)
            documented = [(c, o) for c, o in results if not c.fresh]     # claimed one by one
            delivered = [c.delivery for c, outcome in documented if outcome.ok]
            if delivered:
                tx.append(queries.load("webhook_delivered"), {"deliveries": delivered, "token": token})
            # Every attempt made has its document, but a fresh delivery's that a 2xx answered (an
            # entry of the pass's batch); as on the claimed path, whether or not the pass still holds it.
            attempts = [_attempt_row(c, token, o, at) for c, o in results if not (c.fresh and o.ok)]
            if attempts:
                tx.append(queries.load("webhook_attempts_made"), {"attempts": attempts})
            for c, outcome in documented:
                if not outcome.ok:
                    made = c.attempts + 1
                    state, due = self._next(made, outcome, now)
                    tx.append(queries.load("webhook_settle"), {"d": c.delivery, "token": token,
                                                               "state": state, "attempts": made, "next": due})
            for c, outcome in results:
                if outcome.status == 410:
                    tx.append(queries.load("webhook_disable"), {
                        "sub": c.subscription, "now": instant_literal(now),
                        "reason": f"the receiver answered 410 Gone to {c.event.id}"})

    def _settle_sent(self, tx, token: str, results: list[tuple[Claimed, Outcome]], now: dt.datetime, at) -> None:
        """Record the deliveries sent from this pass's fan-out, for the subscriptions it still
        holds (app/queries/webhook_sent.ru checks): a 2xx's as an entry of the pass's batch for its
        subscription, a failure's as a pending (or failed) delivery document; their cursors move
        past what the claim reached."""
        delivered, failed = [], []
        for c, o in results:
            sequence = _integer(c.event.sequence)
            if o.ok:
                delivered.append((c.delivery, c.subscription, sequence, decimal_literal(round(o.duration, 6)),
                                  _integer(o.status)))
            else:
                state, due = self._next(1, o, now)
                failed.append((c.delivery, c.subscription, c.event.iri, sequence, Literal(state), due))
        tx.append(queries.load("webhook_sent"), {
            "delivered": delivered, "failed": failed, "subscriptions": list({c.subscription for c, _ in results}),
            "token": token, "at": at})

    def _next(self, made: int, outcome: Outcome, now: dt.datetime) -> tuple[str, dt.datetime]:
        if outcome.status == 410 or made >= len(self.schedule):
            return "failed", now
        wait = max(self.schedule[made], min(outcome.retry_after or 0, MAX_RETRY_AFTER))
        return "pending", now + dt.timedelta(seconds=wait)

    # --- helpers --------------------------------------------------------------------------

    def _behind(self, reader) -> bool:
        last = events.last_sequence(reader)
        return any(int(r["cursor"].value) < last and self._subscribed(r)
                   for r in reader.select(queries.load("webhooks_active")))

    def _subscribed(self, row) -> bool:
        """Whether a subscription lies in its subscriber's namespace, as subscribing makes it."""
        eid = enterprise_of(row["owner"].value, self.base_url)
        return eid is not None and Namespace(self.base_url, eid).owns(row["sub"].value)

    def _spellings(self, owner: str) -> tuple[str, ...]:
        eid = enterprise_of(owner, self.base_url)
        return Namespace(self.base_url, eid).iris if eid else (owner,)

    def close(self) -> None:
        """Wait for the sends under way, then close the sender's connections."""
        self.sender.close()


def _free(row, now: dt.datetime) -> bool:
    """Whether no pass holds a live claim on the subscription's events (app/queries/webhooks_active.rq)."""
    until = instant(row["sending"]) if "sending" in row else None
    return until is None or until < now


def _claimed(row) -> Claimed:
    return Claimed(row["d"], row["sub"], int(row["attempts"].value), row["url"].value, row["key"].value,
                   events.from_row(row))


def _attempt_row(claimed: Claimed, token: str, outcome: Outcome, at: Literal) -> tuple:
    """One row of app/queries/webhook_attempts_made.ru: the attempt this pass made of `claimed`."""
    return (NamedNode(f"{claimed.delivery.value}/attempts/{token}"), claimed.subscription,
            _integer(claimed.event.sequence), _integer(claimed.attempts + 1), at,
            decimal_literal(round(outcome.duration, 6)),
            None if outcome.status is None else _integer(outcome.status),
            Literal(outcome.error) if outcome.error else None)


def _integer(n: int) -> Literal:
    return Literal(str(n), datatype=NamedNode(XSD + "integer"))

