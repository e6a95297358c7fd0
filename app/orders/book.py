"""The order book: every order change and its stock reservation, in one unit of work each.

In one `store.transaction()`, which holds the locks of the producers it changes (app/orders/
lock_keys.py: guessed before, checked under them), an operation reads what it changes
(the order, the hub's wholesale orders, the ledgers of the items its lines draw on), has the
planners decide (pure functions: app/orders/wholesale.py, checkouts.py, stock.plan_moves),
and writes every document it touched in one atomic update. The lock is what makes it exact:
on-disk Oxigraph does not isolate concurrent writers (DESIGN.md), so no conditional update
alone could be trusted.

Catalogue links (offer → item → product) are resolved before taking the lock: they change
rarely, and everything that decides whether stock suffices is read again inside it. A customer
order's change is planned in app/orders/checkouts.py, a wholesale order's in wholesale.py.
The supplier's moves (moves.py), hold expiry (expiry.py) and a sale session's close
(session_close.py) are mixed in from modules of their own.
"""
from __future__ import annotations

import dataclasses

from pyoxigraph import NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.domain.versions import Expected
from app.domain import lifecycle, policy, stock, order_documents as orders
from app.catalog import prices
from app.orders import checkouts, consolidation, holds, idempotency, lock_keys, summary, wholesale
from app.orders.expiry import HoldExpiry
from app.catalog import hub_settings
from app.domain import erasure, personal, units
from app.events import order_events
from app.domain.statuses import DRAFT
from app.domain.agents import Agent
from app.catalog.links import LinkCache, sizes
from app.orders.idempotency import Answer
from app.domain.kinds import ORDERS
from app.orders.moves import OrderMoves
from app.orders.session_close import CLOSE_PART, SessionClose
from app.config import Settings
from app.errors import Conflict, InvalidValue, NotFound, ShapeViolation, violation
from app.namespaces import RDF_TYPE, T
from app.store import Store


class OrderBook(OrderMoves, HoldExpiry, SessionClose):
    def __init__(self, store: Store, base_url: str, clock, *, links: LinkCache | None = None,
                 forwarder=None, max_deliveries: int = Settings.max_deliveries):
        self.store, self.base_url, self.clock = store, base_url, clock
        # Offer → Source, kept across the book's own writes (which change no link).
        self.links = links or LinkCache(store, base_url)
        # Sends what checkouts change of orders forwarded to partner platforms (app/partners).
        self.forwarder = forwarder
        # Deliveries one order may have: a consumer's POSTs would otherwise grow the supplier's
        # order without bound (DFC_HUB_MAX_DELIVERIES).
        self.max_deliveries = max_deliveries
        # Orders a session's close writes in one update: Oxigraph makes every other writer wait
        # for an update under way, so a checkout beside a close waits for one part, not all.
        self.close_part = CLOSE_PART

    # --- reading ---------------------------------------------------------------------------

    def find(self, iri: str) -> tuple[NamedNode, list[Triple]] | None:
        return docs.find(self.store, iri, self.base_url)

    def readable(self, agent: Agent | None, ns: docs.Namespace, triples, order) -> None:
        """An order is readable by its seller and its buyer (and the admin), nobody else."""
        policy.require(agent, "order", "read", owner=ns, buyers=[orders.buyer(triples, order)], order=order.value)

    def listing(self, agent: Agent | None, ns: docs.Namespace) -> list[NamedNode]:
        """The orders of a seller the agent may read: all for the seller, its own for a buyer."""
        agent = policy.require_token(agent, "order", "list")
        if policy.sees_all(agent, ns):
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

    def each_document(self, names: list) -> dict[NamedNode, list[Triple]]:
        """Several documents' triples, document by document, in one request."""
        return self.store.documents(names)

    def summary(self, session: NamedNode, ns: docs.Namespace) -> list:
        """A session's summary rows for its hub (app/orders/summary.py)."""
        return summary.rows(self.store, session, NamedNode(ns.iri))

    def forwarded(self, session: NamedNode, ns: docs.Namespace) -> list[dict]:
        """The session's orders forwarded to partner platforms, with their sync state."""
        return self.forwarder.states(session, NamedNode(ns.iri)) if self.forwarder is not None else []

    # --- writing an order ------------------------------------------------------------------

    def save(self, ns: docs.Namespace, incoming: orders.Incoming | None, agent: Agent | None, *,
             target: NamedNode | None = None, expected: Expected = Expected(),
             key: idempotency.Key | None = None) -> Answer:
        """POST (target None), PUT (incoming and target) or DELETE (incoming None) an order."""
        policy.require_token(agent, "order", "delete" if incoming is None else "create" if target is None else "replace")
        iri = incoming.iri if incoming is not None else target
        new = incoming.triples if incoming is not None else None
        if new is not None:
            new = self._stamp_buyer(new, iri, agent, ns)
        existing = self.find(iri.value)
        customer = new is not None and (self._is_customer(incoming) or (
            existing is not None and orders.is_customer(existing[1], existing[0])))
        sources = {}
        if new is not None:
            lines = orders.lines(new, iri)
            sources = self._resolve(ns, lines, incoming.hints, customer)
            self._refuse_uncounted(ns, lines, sources, existing)
            if not customer and any(sources[line.offer].restricted for line in lines):
                prices.refuse_closed(self.store, ns, orders.buyer(new, iri), lines, sources,
                                     orders.lines(existing[1], existing[0]) if existing else [], self.clock.now())
        w = _Write(ns, incoming, agent, iri, new, target, expected, key, customer, sources)
        keys = lock_keys.guess(self.base_url, existing[0] if existing else iri, existing and existing[1], new,
                               sources, customer, lock_keys.own(w))
        for attempt in self.store.attempts(keys):       # the producers found, then checked under their locks
            with attempt as tx:
                tx.leaves_catalogue()
                if self.forwarder is not None:      # after the lock: partners hear of it, or it is undone
                    tx.after_commit(lambda done: self.forwarder.settle(
                        done, undo=lambda order, before: self.restore(ns, order, before, key)))
                answer = self._save(tx, w)
        return answer


    def replayed(self, key: idempotency.Key) -> Answer | None:
        """The first answer to a request with this Idempotency-Key, None if there is none (422: another request's)."""
        return idempotency.replay(self.store, key)

    def restore(self, ns, iri: NamedNode, before: list[Triple] | None, key: idempotency.Key | None) -> None:
        """Undo a customer order's committed change (a partner refused it): as `before`, key forgotten."""
        new = None if not before else list(dict.fromkeys(
            t for t in before if t.predicate not in (T.wholesaleLine, T.contribution)))
        sources = self._resolve(ns, orders.lines(new, iri), {}, True) if new is not None else {}
        own = [iri, key.graph if key is not None else None]
        for attempt in self.store.attempts(lock_keys.guess(self.base_url, iri, before, new, sources, True, own)):
            with attempt as tx:
                tx.leaves_catalogue()
                current = tx.graph(iri)
                if current:
                    for name, triples in self._plan(tx, ns, iri, current, new, sources, True).items():
                        tx.put(name, triples)
                    if new is None:
                        tx.drop(iri)
                if key is not None:
                    tx.drop(key.graph)
                lock_keys.check(tx, self.base_url, own + [orders.session(current or new or [], iri)])

    def _save(self, tx, w: "_Write") -> Answer:
        """An order's change inside its unit of work: its first answer again, or find, check, rule, plan, write."""
        return idempotency.once(tx, w.key, lambda: self._write(tx, w))

    def _write(self, tx, w: "_Write") -> Answer:
        iri, current, new = self._current(tx, w)
        self._check(w, iri, current, new)
        new = self._ruled(tx, w, iri, current, new)
        self._refuse_unknown_buyer(tx, w, iri, current, new)
        graphs = self._plan(tx, w.ns, iri, current, new, w.sources,
                            w.customer or (current is not None and orders.is_customer(current, iri)))
        self._persons(tx, w, graphs)
        # The answer is the document as written, so its ETag is the one a GET gives.
        answer = Answer(201 if current is None else (204 if new is None else 200),
                        iri.value if current is None else None, graphs.get(iri, []) if new is not None else [])
        for name, triples in graphs.items():
            tx.put(name, triples)
        if new is None:
            tx.drop(iri)
        session = [orders.session(doc, iri) for doc in (current, new) if doc is not None]
        lock_keys.check(tx, self.base_url, lock_keys.own(w, iri) + session)
        order_events.order_written(tx, iri, current, new, w.ns, w.agent, self.clock.now())
        return answer

    def _current(self, tx, w: "_Write") -> tuple[NamedNode, list[Triple] | None, list[Triple] | None]:
        """The order as stored (under whichever spelling of its IRI), and the new one named alike."""
        found = docs.find(tx, w.iri.value, self.base_url)
        if found is None:
            return w.iri, None, w.new
        iri, current = found
        new = docs.rename(w.new, {w.incoming.iri: iri}) if w.new is not None and w.incoming.iri != iri else w.new
        return iri, current, new

    def _check(self, w: "_Write", iri, current, new) -> None:
        """Existence (404, 409 on a second POST), If-Match (412), who may write it, its kind kept."""
        if w.incoming is None and current is None:
            raise NotFound(f"no order at {iri.value}")
        if w.target is None and current is not None:
            raise Conflict(f"{iri.value} exists already; PUT it to change it", iri=iri.value)
        w.expected.check(current)
        self._authorise(w.agent, w.ns, current, new, iri)
        holds.refuse_ended(current, iri, self.clock.now())
        holds.refuse_passed(current, new, iri, self.clock.now())
        holds.refuse_on_consolidated(current, new, iri)
        if current is not None and new is not None and orders.is_customer(current, iri) != w.customer:
            raise Conflict("an order cannot change from a customer's order to a wholesale order "
                           "or back; place a new order")

    def _ruled(self, tx, w: "_Write", iri, current, new) -> list[Triple] | None:
        """The new order as the lifecycle and the prices make it; a deletion the lifecycle allows."""
        if new is not None:
            new = self._lifecycle(current, new, iri, w.ns, w.agent, w.customer)
            return new if w.customer else prices.on_save(tx, w.ns, iri, current, new, self.clock.now())
        if current is not None and not orders.is_customer(current, iri):
            _deletable(current, iri)
        return None

    def _persons(self, tx, w: "_Write", graphs: dict) -> None:
        """The person a checkout describes gets a document of their own; an erased one is refused."""
        if w.incoming is not None and w.incoming.person is not None:
            person, described = w.incoming.person
            held = self._refuse_non_person(tx, person)
            # A customer named again without a word about them keeps what the hub holds of them.
            if not held or set(described) - {Triple(person, RDF_TYPE, T.Person)}:
                graphs.setdefault(person, described)

    @staticmethod
    def _refuse_unknown_buyer(tx, w: "_Write", iri, current, new) -> None:
        """A customer named by IRI alone: 410 once erased; 422 for an IRI of the hub's persons that
        names nobody, given as a new order's buyer (before the stock is looked at: bad input first)."""
        if w.incoming is not None and w.incoming.person is not None:
            return
        if new is not None and w.customer and isinstance(who := orders.buyer(new, iri), NamedNode):
            held = tx.graph(who)
            erasure.refuse_erased(held, who)      # named by IRI alone, and erased meanwhile
            # Nobody there: the order's notes could never be exported or erased with a person.
            if not held and (current is None or orders.buyer(current, iri) != who):
                raise InvalidValue(f"the hub holds no customer at {who.value}: describe the customer (a blank "
                                   "node with their details), or name one it holds", pointer="/dfc-b:orderedBy",
                                   buyer=who.value)

    def _plan(self, tx, ns, iri, current, new, sources, customer: bool) -> dict[NamedNode, list[Triple]]:
        """Read what the planners need, let them plan (pure), read the ledgers the plan moves; record
        the events of the deliveries the plan cut back."""
        now = self.clock.now()
        if customer:
            found = checkouts.read(tx, ns, iri, current, new, {t.producer for t in sources.values()})
            change = checkouts.plan(found, ns, iri, current, new, sources, now, self.base_url)
        else:
            s = orders.session(new, iri) if new is not None else None
            session_doc = tx.graph(s) if isinstance(s, NamedNode) else []
            change = wholesale.plan(iri, current, new, sources, session_doc, now)
        for name in change.created:
            tx.new(name)
        documents = {}
        for name, doc in change.documents.items():
            documents[name], cut = lifecycle.settled(doc, name, now)
            # A customer's cancellation cut back its hub's planned deliveries: events, in this unit of work.
            order_events.deliveries_gave_way(tx, name, documents[name], cut, self.base_url, now)
        return {**documents, **self._moves(tx, change.usage, change.wanted)}

    @staticmethod
    def _moves(tx, usage: orders.Usage, wanted: dict, shipped: dict | None = None) -> dict:
        """The item documents a usage change (and a shipment) makes, read inside the unit of work."""
        moving = {item for item, (h, c) in usage.items() if h or c} | set(shipped or ())
        items = tx.graphs(sorted(moving, key=lambda n: n.value))
        return stock.plan_moves(items, usage, wanted, shipped)

    def _stamp_buyer(self, new, iri, agent: Agent, ns) -> list[Triple]:
        if orders.buyer(new, iri) is None and not agent.admin and agent.iri not in ns.iris:
            new = [*new, Triple(iri, T.orderedBy, NamedNode(agent.iri))]
        return new

    def _refuse_non_person(self, tx, iri: NamedNode) -> list[Triple]:
        """A person's details replace a person's document, never another kind of document; return it."""
        held = tx.graph(iri)
        erasure.refuse_erased(held, iri)     # 410: an erased person's IRI is never filled again
        if held and Triple(iri, RDF_TYPE, T.Person) not in held:
            raise Conflict(f"{iri.value} names a document that is not a person's", iri=iri.value)
        return held

    def _is_customer(self, incoming: orders.Incoming) -> bool:
        if incoming.person is not None:
            return True
        who = orders.buyer(incoming.triples, incoming.iri)
        seller = docs.enterprise_of(incoming.iri.value, self.base_url)
        # The seller's own person named by IRI alone (a returning customer, an erased one, whose
        # order is then refused as theirs: 410, or the pseudonym an erasure left): never an
        # enterprise, so never a wholesale order. Another hub's person was pseudonymised already.
        return seller is not None and personal.person_iri(
            who, docs.Namespace(self.base_url, seller), self.base_url) is not None

    def _authorise(self, agent: Agent, ns, current, new, iri) -> None:
        action = "delete" if new is None else "create" if current is None else "replace"
        policy.require(agent, "order", action, owner=ns, order=iri.value,
                       buyers=[orders.buyer(doc, iri) for doc in (current, new) if doc is not None])

    def _lifecycle(self, current, new, iri, ns, agent: Agent, customer: bool) -> list[Triple]:
        """Apply the status rules; return the new document with the server's own statements."""
        if customer:
            new = self._customer_status(current, new, iri)
        else:
            held = lifecycle.roles(agent, ns.iris, orders.buyer(current if current is not None else new, iri))
            new = lifecycle.on_write(current, new, iri, held, NamedNode(agent.iri), self.clock.now())
        new.append(Triple(iri, T.soldBy, NamedNode(ns.iri)))
        if current is not None:   # what the server made the order (consolidated…) stays so
            new += [t for t in current if t.subject == iri and t.predicate in orders.KEPT_ON_PUT]
            new += holds.kept(current, new, iri)
        return list(dict.fromkeys(new))

    @staticmethod
    def _customer_status(current, new, iri) -> list[Triple]:
        """A customer order keeps the DFC statuses only: Held, Complete, Cancelled, Draft."""
        old_status = orders.status(current, iri) if current is not None else None
        status = orders.status(new, iri) or old_status or T.Held
        if old_status == T.Cancelled and status != T.Cancelled:
            raise Conflict("a cancelled order cannot change; place a new order", orderStatus=T.Cancelled.value)
        if old_status == T.Complete and status in (T.Held, T.Draft):
            raise Conflict("a Complete order cannot go back to Held or Draft",
                           orderStatus=old_status.value, requestedStatus=status.value)
        return orders.set_status(new, iri, status)

    # --- resolution (before the lock) ------------------------------------------------------

    def _resolve(self, ns, lines: list[orders.Line], hints, customer: bool) -> dict:
        """Each line's offer → its Source (wholesale) or its upstream Target (customer); 422 if none."""
        wanted = [line.offer for line in lines]
        found = self.links.sources(list(dict.fromkeys(wanted)), hints)
        unknown = [o for o, s in found.items() if s is None]
        if unknown:
            raise ShapeViolation(f"{len(unknown)} order line(s) concern offers this server does not know",
                                 violations=[_unknown_offer(o) for o in unknown])
        if customer:
            settings = hub_settings.read(self.store, ns)
            return self.links.targets((ns.iri, settings), found, lambda some: consolidation.targets(
                self.store, ns, some, settings, self.base_url))
        foreign = [o for o, s in found.items() if not ns.owns((s.item or s.offer).value)]
        if foreign:
            raise ShapeViolation(f"an order to {ns.eid} may only concern {ns.eid}'s offers",
                                 violations=[_unknown_offer(o, f"{o.value} is not an offer of {ns.eid}")
                                             for o in foreign])
        return found

    def _refuse_uncounted(self, ns, lines: list[orders.Line], sources: dict, existing) -> None:
        """A line sent in a unit must count items (app/domain/units.py); the sizes it is judged by
        are read only then, so lines sent as plain numbers (most platforms') cost nothing more.
        A line kept as it is stored is not judged again: an order written before the rule (or
        before its product's size changed) can still be cancelled or moved on."""
        measured = [line for line in lines if line.unit is not None]
        if measured and existing:
            kept = {_as_sent(line) for line in orders.lines(existing[1], existing[0])}
            measured = [line for line in measured if _as_sent(line) not in kept]
        if not measured:
            return
        # Source and Target both name the product the line's offer sells.
        product = {line.offer: getattr(sources.get(line.offer), "product", None) for line in measured}
        known = sizes(self.store, NamedNode(ns.iri), [p for p in set(product.values()) if p is not None])
        units.refuse_uncounted(measured, {offer: known.get(p) for offer, p in product.items()})

    def give_statuses(self) -> None:
        """Give wholesale orders written before the supplier lifecycle their hub:status (at start)."""
        for attempt in self.store.attempts(None):       # at start: a lapsed lock is tried again
            with attempt as tx:
                tx.leaves_catalogue()
                tx.append(queries.load("lifecycle_statuses"))


# --- helpers --------------------------------------------------------------------------------

def _as_sent(line: orders.Line) -> tuple:
    return line.iri, line.offer, line.quantity, line.unit


def _deletable(current, iri) -> None:
    """Refuse (409) to delete a wholesale order past draft: its history stays; cancel it instead."""
    status = lifecycle.status_of(current, iri)
    if status != DRAFT:
        raise Conflict(f"an order in {status.value.rsplit('#', 1)[-1]} cannot be deleted; cancel it "
                       "(POST its status) so that both parties keep its history",
                       currentStatus=status.value.rsplit("#", 1)[-1])



def _unknown_offer(offer, message=None) -> dict:
    return violation(offer, T.concerns, offer, message or f"{offer.value} is not an offer this server knows: "
                     "import the seller's catalogue first, or use the offer's IRI from it")


@dataclasses.dataclass(frozen=True)
class _Write:
    """One POST, PUT or DELETE of an order, as `save` received and prepared it."""
    ns: docs.Namespace
    incoming: orders.Incoming | None      # None: a DELETE
    agent: Agent | None
    iri: NamedNode
    new: list[Triple] | None              # the payload's triples, the buyer stamped
    target: NamedNode | None              # None: a POST
    expected: Expected
    key: idempotency.Key | None
    customer: bool                        # a customer's order at a hub, not a wholesale order
    sources: dict                         # offer → Source, resolved before the lock
