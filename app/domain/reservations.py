"""The order book: every order change and its stock reservation, in one transaction each.

Under the store's write lock, one operation reads what it changes (the order, the ledgers of
the items its lines draw on, the hub's wholesale orders), checks it, and writes every document
it touched in one atomic update. The lock is what makes it exact: on-disk Oxigraph does not
isolate concurrent writers (DESIGN.md), so no conditional update alone could be trusted.

Catalogue links (offer → item → product) are resolved before taking the lock: they change
rarely, and everything that decides whether stock suffices is read again inside it. A customer
order's change is planned in app/domain/checkouts.py, a wholesale order's here.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from pyoxigraph import NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.domain import checkouts, consolidation, hub_settings, idempotency, orders, sessions, stock, summary
from app.domain.agents import Agent
from app.domain.catalog_links import offer_sources
from app.domain.idempotency import Answer
from app.domain.kinds import ORDERS
from app.errors import (Conflict, Forbidden, NotFound, ShapeViolation, Shortage, Unauthorized,
                        violation)
from app.namespaces import RDF_TYPE, T
from app.rdf.normalise import datetime_literal
from app.rdf.triples import Indexed, number, tidy
from app.store import Store

ZERO = Decimal(0)
Usage = orders.Usage


class OrderBook:
    def __init__(self, store: Store, base_url: str, clock):
        self.store, self.base_url, self.clock = store, base_url, clock
        # Offer → Source, remembered while nothing but this book wrote (see _sources).
        self._links: dict = {}
        self._links_generation: int | None = None

    # --- reading ---------------------------------------------------------------------------

    def find(self, iri: str) -> tuple[NamedNode, list[Triple]] | None:
        return docs.find(self.store, iri, self.base_url)

    def readable(self, agent: Agent | None, ns: docs.Namespace, triples, order) -> None:
        """An order is readable by its seller and its buyer (and the admin), nobody else."""
        if agent is None:
            raise Unauthorized("orders are private: send a bearer token")
        if agent.admin or agent.iri in ns.iris or _is(orders.buyer(triples, order), agent.iri):
            if agent.allows("ReadOrders") or agent.allows("WriteOrders"):
                return
            raise Forbidden("the token lacks the ReadOrders scope")
        raise Forbidden(f"{agent.iri} is neither the seller nor the buyer of {order.value}")

    def listing(self, agent: Agent | None, ns: docs.Namespace) -> list[NamedNode]:
        """The orders of a seller the agent may read: all for the seller, its own for a buyer."""
        if agent is None:
            raise Unauthorized("orders are private: send a bearer token")
        if agent.admin or agent.iri in ns.iris:
            return docs.list_documents(self.store, ns, ORDERS)
        rows = self.store.select(queries.load("orders_of_buyer"), {**ns.bindings(), "buyer": NamedNode(agent.iri)})
        return [r["g"] for r in rows]

    def placed_for(self, session: NamedNode, ns: docs.Namespace) -> list[NamedNode]:
        """The orders an enterprise placed for a sale session (a hub's wholesale orders)."""
        rows = self.store.select(queries.load("placed_for_session"), {"session": session, "buyer": NamedNode(ns.iri)})
        return [r["order"] for r in rows]

    def session(self, iri: str) -> NamedNode:
        """The sale session at any spelling of `iri`, or 404."""
        found = self.find(iri)
        if found is None:
            raise NotFound(f"no sale session at {iri}")
        return found[0]

    def document(self, name: NamedNode) -> list[Triple]:
        """One document's triples as stored now."""
        return self.store.graph(name)

    def documents(self, names: list) -> list[Triple]:
        """Several documents' triples, in one request (a page of a collection)."""
        return self.store.graphs(names)

    def summary(self, session: NamedNode, ns: docs.Namespace) -> list:
        """A session's summary rows for its hub (app/domain/summary.py)."""
        return summary.rows(self.store, session, NamedNode(ns.iri))

    # --- writing an order ------------------------------------------------------------------

    def save(self, ns: docs.Namespace, incoming: orders.Incoming | None, agent: Agent | None, *,
             target: NamedNode | None = None, expected: docs.Expected = docs.Expected(),
             key: idempotency.Key | None = None) -> Answer:
        """POST (target None), PUT (incoming and target) or DELETE (incoming None) an order."""
        if agent is None:
            raise Unauthorized("writing an order needs a bearer token")
        if not agent.allows("WriteOrders"):
            raise Forbidden("the token lacks the WriteOrders scope")
        iri = incoming.iri if incoming is not None else target
        new = incoming.triples if incoming is not None else None
        if new is not None:
            new = self._stamp_buyer(new, iri, agent, ns)
        existing = self.find(iri.value)
        customer = new is not None and (self._is_customer(incoming) or (
            existing is not None and orders.is_customer(existing[1], existing[0])))
        sources = self._resolve(ns, new, iri, incoming.hints, customer) if new is not None else {}
        with self.store.transaction() as tx:
            answer = self._save(tx, ns, incoming, agent, iri, new, target, expected, key, customer, sources)
        self._wrote(tx)
        return answer

    def _save(self, tx, ns, incoming, agent, iri, new, target, expected, key, customer, sources) -> Answer:
        """Plan an order's change inside its unit of work: check, plan, and hand `tx` the documents."""
        if key is not None:
            answered = idempotency.replay(tx, key)
            if answered is not None:
                return answered
        found = docs.find(tx, iri.value, self.base_url)
        if found is not None:
            iri, current = found[0], found[1]
            if new is not None:
                new = docs.rename(new, {incoming.iri: iri}) if incoming.iri != iri else new
        else:
            current = None
        if incoming is None and current is None:
            raise NotFound(f"no order at {iri.value}")
        if target is None and current is not None:
            raise Conflict(f"{iri.value} exists already; PUT it to change it", iri=iri.value)
        expected.check(current)
        self._authorise(agent, ns, current, new, iri)
        if current is not None and new is not None and orders.is_customer(current, iri) != customer:
            raise Conflict("an order cannot change from a customer's order to a wholesale order "
                           "or back; place a new order")
        if new is not None:
            new = self._lifecycle(current, new, iri, ns)
        if customer or (current is not None and orders.is_customer(current, iri)):
            graphs = checkouts.plan(self, tx, ns, iri, current, new, sources)
        else:
            graphs = self._wholesale(tx, ns, iri, current, new, sources)
        if incoming is not None and incoming.person is not None:
            self._refuse_non_person(tx, incoming.person[0])
            graphs.setdefault(incoming.person[0], incoming.person[1])
        # The answer is the document as written, so its ETag is the one a GET gives.
        answer = Answer(201 if current is None else (204 if new is None else 200),
                        iri.value if current is None else None, graphs.get(iri, []) if new is not None else [])
        for name, triples in graphs.items():
            tx.put(name, triples)
        if new is None:
            tx.drop(iri)
        if key is not None:
            for name, triples in idempotency.record(key, answer).items():
                tx.put(name, triples)
        return answer

    def _stamp_buyer(self, new, iri, agent: Agent, ns) -> list[Triple]:
        if orders.buyer(new, iri) is None and not agent.admin and agent.iri not in ns.iris:
            new = [*new, Triple(iri, T.orderedBy, NamedNode(agent.iri))]
        return new

    def _refuse_non_person(self, tx, iri: NamedNode) -> None:
        """A person's details replace a person's document, never another kind of document."""
        held = tx.graph(iri)
        if held and Triple(iri, RDF_TYPE, T.Person) not in held:
            raise Conflict(f"{iri.value} names a document that is not a person's", iri=iri.value)

    def _is_customer(self, incoming: orders.Incoming) -> bool:
        if incoming.person is not None:
            return True
        who = orders.buyer(incoming.triples, incoming.iri)
        return isinstance(who, NamedNode) and Triple(who, RDF_TYPE, T.Person) in self.store.graph(who)

    def _authorise(self, agent: Agent, ns, current, new, iri) -> None:
        if agent.admin or agent.iri in ns.iris:
            return
        for doc in (current, new):
            if doc is not None and not _is(orders.buyer(doc, iri), agent.iri):
                raise Forbidden(f"{agent.iri} may only write the orders it placed itself "
                                f"(dfc-b:orderedBy <{agent.iri}>)")

    def _lifecycle(self, current, new, iri, ns) -> list[Triple]:
        """Apply the status rules; return the new document with the server's own statements."""
        old_status = orders.status(current, iri) if current is not None else None
        status = orders.status(new, iri) or old_status or T.Held
        if old_status == T.Cancelled and status != T.Cancelled:
            raise Conflict("a cancelled order cannot change; place a new order", orderStatus=T.Cancelled.value)
        if old_status == T.Complete and status in (T.Held, T.Draft):
            raise Conflict("a Complete order cannot go back to Held or Draft",
                           orderStatus=old_status.value, requestedStatus=status.value)
        new = orders.set_status(new, iri, status)
        new.append(Triple(iri, T.soldBy, NamedNode(ns.iri)))
        if current is not None:   # what the server made the order (consolidated…) stays so
            new += [t for t in current if t.subject == iri and t.predicate in orders.KEPT_ON_PUT]
        return new

    # --- resolution (before the lock) ------------------------------------------------------

    def _resolve(self, ns, new, iri, hints, customer: bool) -> dict:
        """Each line's offer → its Source (wholesale) or its upstream Target (customer); 422 if none."""
        wanted = [line.offer for line in orders.lines(new, iri)]
        found = self._sources(list(dict.fromkeys(wanted)), hints)
        unknown = [o for o, s in found.items() if s is None]
        if unknown:
            raise ShapeViolation(f"{len(unknown)} order line(s) concern offers this server does not know",
                                 violations=[_unknown_offer(o) for o in unknown])
        if customer:
            return consolidation.targets(self.store, ns, found, hub_settings.read(self.store, ns), self.base_url)
        foreign = [o for o, s in found.items() if not ns.owns((s.item or s.offer).value)]
        if foreign:
            raise ShapeViolation(f"an order to {ns.eid} may only concern {ns.eid}'s offers",
                                 violations=[_unknown_offer(o, f"{o.value} is not an offer of {ns.eid}")
                                             for o in foreign])
        return found

    def _sources(self, offers: list[NamedNode], hints) -> dict:
        """offer_sources, remembered between checkouts where this process alone writes the store.

        Order writes never change what an offer sells (they change ledgers, not links or
        prices), so they keep the memory valid; any other write (a catalogue) drops it.
        """
        generation = self.store.generation
        if generation is None or generation != self._links_generation:
            self._links, self._links_generation = {}, generation
        links = self._links
        missing = [o for o in offers if o not in links]
        if missing:
            found = offer_sources(self.store, missing, self.base_url, hints)
            if generation is not None:      # what a payload claimed (hints) is not remembered
                links.update({o: s for o, s in found.items() if s is not None and o not in (hints or {})})
        else:
            found = {}
        return {o: links.get(o, found.get(o)) for o in offers}

    def _wrote(self, tx) -> None:
        """After an order's unit of work: keep the memory if it was valid just before its commit."""
        if tx.generations is not None and tx.generations[0] is not None \
                and tx.generations[0] == self._links_generation:
            self._links_generation = tx.generations[1]

    # --- wholesale orders: the order itself reserves -----------------------------------------

    def _wholesale(self, tx, ns, iri, current, new, sources) -> dict[NamedNode, list[Triple]]:
        if new is not None:
            new = self._stamp_items(new, iri, current, sources)
            self._check_discounts(new, iri, sources)
        delta = orders.usage_minus(orders.usage(new, iri), orders.usage(current, iri))
        if new is not None:
            self._check_session(tx, new, iri, delta, changed=current is None or
                                orders.status(current, iri) != orders.status(new, iri))
        lines = _lines_by_item(new, iri, sources) if new is not None else {}
        graphs = self.ledgers(tx, delta, lines)
        if new is not None:
            graphs[iri] = new
        return graphs

    def _check_session(self, tx, new, iri, delta: Usage, changed: bool) -> None:
        """A wholesale order reserves or commits only in a session that is open (409).

        Every status that counts in the ledger (Held, Complete) is checked, whenever what the
        order counts changes: a closed session takes nothing more, one not yet open nothing yet.
        A session this server does not hold (a buyer's own, elsewhere) is the buyer's business.
        """
        s = orders.session(new, iri)
        if orders.status(new, iri) not in orders.RESERVES or not isinstance(s, NamedNode):
            return
        if not changed and not any(h or c for h, c in delta.values()):
            return
        doc = tx.graph(s)
        if Triple(s, RDF_TYPE, T.SaleSession) in doc:
            growing = changed or any(h > 0 or c > 0 for h, c in delta.values())
            sessions.check_reserving(doc, s, self.clock.now(), growing)

    def _stamp_items(self, new, iri, current, sources) -> list[Triple]:
        """Fix each line's stock item: kept from when it was first reserved, else resolved now."""
        before = {line.iri: line for line in orders.lines(current, iri)} if current else {}
        out = list(new)
        for line in orders.lines(new, iri):
            old = before.get(line.iri)
            # A line keeps the item it reserved from, unless it now concerns another offer.
            item = old.stock_item if old is not None and old.offer == line.offer and old.stock_item \
                else sources[line.offer].item
            if item is not None:
                out.append(Triple(line.iri, T.stockItem, item))
        return out

    def _check_discounts(self, doc, iri, sources) -> None:
        """A discount is a number ≥ 0 (the shapes check that) not above what it discounts."""
        problems, total, priced = [], ZERO, True
        index = Indexed(doc)
        for line in orders.lines(doc, iri):
            node = index.first(line.iri, T.hasPrice)
            price = number(index.first(node, T.value)) if node is not None else None
            source = sources.get(line.offer)
            if price is None and source is not None:
                price = source.price
            if price is None:
                priced = False
                continue
            value = price * line.quantity
            discount = number(index.first(line.iri, T.discount)) or ZERO
            if discount > value:
                problems.append(_discount(line.iri, discount, f"the line discount {discount} exceeds "
                                          f"the line's value {value} ({line.quantity} × {price})"))
            total += value - discount
        discount = number(index.first(iri, T.discount))
        if discount is not None and priced and discount > total:
            problems.append(_discount(iri, discount, f"the order discount {discount} exceeds the "
                                      f"order's value {total}"))
        if problems:
            raise ShapeViolation(f"{len(problems)} discount(s) exceed what they discount", violations=problems)

    # --- customer orders: the hub's wholesale orders reserve ----------------------------------

    # --- the ledger ------------------------------------------------------------------------

    def ledgers(self, tx, delta: Usage, lines_by_item: dict) -> dict[NamedNode, list[Triple]]:
        """The item documents a usage change makes; 409 with shortages if any would go below 0."""
        graphs, shortages = {}, []
        for item, (held, committed) in sorted(delta.items(), key=lambda kv: kv[0].value):
            if not held and not committed:
                continue
            doc = tx.graph(item)
            if Triple(item, RDF_TYPE, T.CatalogItem) not in doc:
                continue      # the item was deleted (or is no item any more): nothing to count on
            ledger = stock.read(doc, item)
            after = ledger.moved(held, committed)
            if held + committed > 0 and after.available is not None and after.available < 0:
                for offer, requested in lines_by_item.get(item, [(None, held + committed)]):
                    shortages.append({"offer": offer.value if offer else None, "stockItem": item.value,
                                      "requested": _num(requested), "available": _num(ledger.available)})
                continue
            graphs[item] = stock.write(doc, item, after)
        if shortages:
            raise Shortage(f"not enough stock for {len(shortages)} line(s); nothing was reserved",
                           shortages=shortages)
        return graphs

    # --- sale sessions ---------------------------------------------------------------------

    def close_session(self, session: NamedNode, now: dt.datetime | None = None) -> tuple[bool, list[NamedNode]]:
        """Complete every Held order of a session, once; (closed now?, the orders completed).

        One unit of work: read the session and which orders it completes, then one update
        (app/queries/close_session.ru) moves them all, whatever their number.
        """
        now = now or self.clock.now()
        with self.store.transaction() as tx:
            doc = tx.graph(session)
            if not doc:
                raise NotFound(f"no sale session at {session.value}")
            if sessions.closed_at(doc, session) is not None:
                return False, []
            owner = docs.enterprise_of(session.value, self.base_url)
            hub = NamedNode(docs.Namespace(self.base_url, owner).iri) if owner else session
            # Only the session's own hub's orders: another buyer naming it completes nothing.
            bindings = {"session": session, "hub": hub}
            completed = [r["order"] for r in tx.select(queries.load("session_held_orders"), bindings)]
            tx.append(queries.load("close_session"), {**bindings, "now": _instant(now)})
        self._wrote(tx)
        return True, completed

    def close_due(self, grace: dt.timedelta, now: dt.datetime | None = None) -> list[NamedNode]:
        """Close every session whose end date plus the grace period has passed; return them."""
        now = now or self.clock.now()
        closed = []
        for row in self.store.select(queries.load("open_sessions")):
            end = sessions.instant(row["end"], end=True)
            if end is not None and end + grace <= now and self.close_session(row["session"], now)[0]:
                closed.append(row["session"])
        return closed


# --- helpers --------------------------------------------------------------------------------

def _is(node, iri: str) -> bool:
    return isinstance(node, NamedNode) and node.value == iri


def _lines_by_item(doc, iri, sources) -> dict[NamedNode, list]:
    out = defaultdict(list)
    for line in orders.lines(doc, iri):
        if line.stock_item is not None:
            out[line.stock_item].append((line.offer, line.quantity))
    return out


def _num(value) -> str | None:
    return None if value is None else format(tidy(value), "f")


def _instant(now: dt.datetime):
    return datetime_literal(now.astimezone(dt.timezone.utc).replace(microsecond=0))


def _unknown_offer(offer, message=None) -> dict:
    return violation(offer, T.concerns, offer, message or f"{offer.value} is not an offer this server knows: "
                     "import the seller's catalogue first, or use the offer's IRI from it")


def _discount(node, value, message) -> dict:
    return violation(node, T.discount, str(value), message)
