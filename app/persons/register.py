"""A hub's customers: their personal data, its export, its erasure and its retention period.

A customer is kept at `{hub}/persons/{id}`, a graph of their own (app/domain/order_documents.py puts
nothing of theirs in the orders); the hub that holds them reads, exports and erases them
(app/domain/policy.py). Erasure is one unit of work: the person's graph becomes a tombstone and
every copy is scrubbed (app/domain/erasure.py plans each document), then the store drops the
snapshots analysts read (app/store/snapshots.py), which still held the erased data.
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import Literal, NamedNode, Triple

from app import queries
from app.domain import sessions
from app.domain import erasure
from app.orders import idempotency
from app.domain.documents import Namespace, enterprise_of
from app.domain.personal import PERSON_ID
from app.errors import BadRequest, Gone, NotFound
from app.rdf.triples import number
from app.store import Store


class Persons:
    """The customers of every hub in one store."""

    def __init__(self, store: Store, base_url: str, clock):
        self.store, self.base_url, self.clock = store, base_url, clock

    def iri(self, ns: Namespace, pid: str) -> NamedNode:
        """The IRI of person `pid` of a hub; 400 for an id the server never gives a person."""
        if not PERSON_ID.fullmatch(pid):
            raise BadRequest(f"{pid!r} is not a person id: 1 to 64 letters, digits, _ and -",
                             parameter="pid")
        return NamedNode(f"{ns.iri}/persons/{pid}")

    def read(self, ns: Namespace, pid: str) -> tuple[NamedNode, list[Triple]]:
        """The person's document; 404 if the hub holds no such person, 410 once erased."""
        person = self.iri(ns, pid)
        return person, _held(self.store.graph(person), person)

    def export(self, ns: Namespace, pid: str) -> list[Triple]:
        """The person and every order they placed with the hub, in one graph."""
        person, triples = self.read(ns, pid)
        rows = self.store.select(queries.load("orders_of_person"), {**ns.bindings(), "person": person})
        return [*triples, *self.store.graphs([r["g"] for r in rows])]

    def erase(self, ns: Namespace, pid: str) -> NamedNode:
        """Erase a person now (404 unknown, 410 erased already); return their orders' new pseudonym."""
        return self._erase(self.iri(ns, pid), self.clock.now())

    def erase_due(self, days: int, now: dt.datetime | None = None) -> list[NamedNode]:
        """Erase every person the retention period (`days` after the close of the last session
        they bought in; 0 keeps everyone) has run out for; return them."""
        if days <= 0:
            return []
        now = now or self.clock.now()
        cutoff = now - dt.timedelta(days=days)
        rows = self.store.select(queries.load("persons_sessions"), {"api": Literal(self.base_url + "/api/dfc/")})
        erased = []
        for row in rows:
            try:
                if _due(row, cutoff) and self._erase(row["person"], now, cutoff) is not None:
                    erased.append(row["person"])
            except (Gone, NotFound):    # erased by the hub meanwhile
                continue
        return erased

    def _erase(self, person: NamedNode, now: dt.datetime, cutoff: dt.datetime | None = None) -> NamedNode | None:
        """One unit of work: tombstone the person, scrub and rename every copy. With `cutoff`
        (retention), check again under the lock that the person is still due, else do nothing.
        It locks the person's IRI, as a checkout naming the person does (app/orders/lock_keys.py),
        so an order cannot name them between its check and its commit."""
        with self.store.transaction(keys=[person]) as tx:
            held = _held(tx.graph(person), person)
            if cutoff is not None:
                rows = tx.select(queries.load("person_sessions"), {"person": person})
                if not rows or not _due(rows[0], cutoff):
                    return None
            values = erasure.personal_values(held)
            pseudonym = erasure.fresh_pseudonym(person)

            def scrub(triples):
                return erasure.scrub(triples, person, pseudonym, values)
            hub = Namespace(self.base_url, enterprise_of(person.value, self.base_url))
            done = set()
            for row in tx.select(queries.load("graphs_naming_person"), {"person": person}):
                # The hub's own documents are scrubbed; another enterprise's only lose the reference.
                _put_changed(tx, row["g"], scrub if hub.owns(row["g"].value)
                             else lambda triples: erasure.renamed(triples, person, pseudonym))
                done.add(row["g"])
            for row in tx.select(queries.load("answers_naming"), {"needle": Literal(person.value)}):
                _put_changed(tx, row["g"], lambda triples: idempotency.rewritten(triples, scrub))
                done.add(row["g"])
            _unmention(tx, hub, erasure.identifying_values(held), done)
            tx.put(person, erasure.tombstone(person, now))
            tx.create(pseudonym, erasure.pseudonym_document(pseudonym))
        self.store.forget_stale_copies()
        return pseudonym


def _held(triples: list[Triple], person: NamedNode) -> list[Triple]:
    """The person's document as held: 410 for a tombstone, 404 for nothing or no person."""
    erasure.refuse_erased(triples, person)
    if not erasure.is_person(triples, person):
        raise NotFound(f"no person at {person.value}")
    return triples


def _unmention(tx, hub: Namespace, values, done: set) -> None:
    """Another customer's order of the hub, and its kept answer, may name the person in a note
    without naming their IRI: what names them alone (`values`: erasure.identifying_values)
    goes from those too."""
    if not values:
        return

    def unmentioned(triples):
        return erasure.unmentioned(triples, values)
    needles = {**hub.bindings(), "needles": [Literal(v.lower()) for v in sorted(values)]}
    for row in tx.select(queries.load("orders_mentioning"), needles):
        if row["g"] not in done:
            _put_changed(tx, row["g"], unmentioned)
    for row in tx.select(queries.load("answers_mentioning"), needles):
        if row["g"] not in done:
            _put_changed(tx, row["g"], lambda triples: idempotency.rewritten(triples, unmentioned))


def _put_changed(tx, name: NamedNode, change) -> None:
    before = tx.graph(name)
    after = change(before)
    if set(after) != set(before):
        tx.put(name, after)


def _due(row: dict, cutoff: dt.datetime) -> bool:
    """Every session the person bought in is closed, the last one before `cutoff` (or none at all)."""
    if (number(row.get("open")) or 0) > 0:
        return False
    last = sessions.instant(row.get("last"))
    return last is None or last <= cutoff
