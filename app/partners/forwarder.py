"""Forwarding a hub's remote lines to partner platforms, and keeping the partners in line after.

The order of things, and why: a checkout commits here first (its local reservations and the
hub's record of each forwarded order, app/partners/records.py, in one unit of work under the
write lock), then, with the lock released, each forwarded order it changed is sent to its
partner as it now stands (POST the first time, PUT after). Concurrent baskets compose exactly
in the record, because they meet under our lock; the partner is only ever told "the order is
now this", so sending again is harmless, and a retry and a compensation are the same act. If a
partner refuses (409) or does not answer (timeout, 5xx) an order this basket grew, the basket
is undone here in a second unit of work (the customer order as it was, its local reservations
released, its Idempotency-Key forgotten so the customer's retry runs afresh), every forwarded
order it touched is sent again (shrinking it at the partners that had accepted), and only then
does the customer get 409 or 503. A change that only shrank orders is never refused: what
could not reach a partner stays `pending` and the retry queue (`retry_pending`, run by `serve`
and by `dfc-hub forward-orders`) sends it later, as it does the session close's Complete.

A first POST whose answer was lost is noted before it is sent (its Idempotency-Key and body)
and sent again identically until it is answered, so the partner creates the order once. Sends
of one forwarded order are serialised in this process (several processes sharing one store
are not: see the README).
"""
from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urljoin, urlsplit

from pyoxigraph import NamedNode

from app import queries
from app.domain import documents as docs
from app.partners import records as fwd
from app.domain import order_documents as orders
from app.partners import desk as partners
from app.namespaces import T
from app.errors import Conflict, CredentialsRefused, HubError, PartnerError, PartnerUnavailable, Shortage
from app.outbound import UnsafeURL
from app.partners.client import Reply
from app.partners.tokens import PartnerTokens
from app.rdf import read_payload
from app.rdf.answer_context import own_contexts
from app.rdf.triples import first, tidy
from app.store import Undone
from app.store.locks import KeyLocks

log = logging.getLogger(__name__)
MAX_DOCUMENTS = 20_000      # a remote catalogue larger than this is refused, not half-copied
ATTEMPTS = 3                # sends in a row for one order, when it changed while being sent


class Refused(Exception):
    """A partner answered 409: not enough stock there (its problem document)."""

    def __init__(self, partner: NamedNode, problem: dict):
        super().__init__(problem.get("detail", "refused"))
        self.partner, self.problem = partner, problem


class Forwarder:
    """Sends the hub's forwarded orders to partner platforms, and syncs their catalogues."""

    def __init__(self, store, client, base_url: str, clock, max_json_depth: int = 64):
        # `client` (app/partners/client.py PartnerClient) is the network, given, never imported here.
        self.store, self.client, self.base_url, self.clock = store, client, base_url, clock
        self.max_json_depth = max_json_depth
        self.tokens = PartnerTokens(store, client)
        # One lock per forwarded order, in this process, while a thread holds or waits for it.
        self._locks = KeyLocks()

    # --- catalogue ---------------------------------------------------------------------------

    def sync(self, partner_iri: NamedNode, validator) -> dict:
        """Fetch the partner's configured catalogue and keep a copy of it; report what changed."""
        partner = partners.load(self.store, partner_iri)
        partners.check_catalog(partner.enterprise.value, partner.catalog)     # configured before it was checked
        reply = self._ask(partner_iri, "GET", partner.catalog)
        if not 200 <= reply.status < 300:
            raise PartnerUnavailable(f"the partner answered {reply.status} to GET {partner.catalog}",
                                     url=partner.catalog, partnerStatus=reply.status)
        triples = self._read(reply, partner.catalog).triples
        if not validator.surely_conforms(triples):
            report = validator.validate(triples)
            if not report.conforms:
                raise PartnerError(f"the catalogue at {partner.catalog} does not conform to the DFC shapes; "
                                   "nothing was copied", violations=report.violations)
        try:
            fetched = docs.split_documents(triples, orphans_to=NamedNode(partner.catalog))
        except HubError as e:
            raise PartnerError(f"the catalogue at {partner.catalog} cannot be kept: {e.detail}") from None
        if len(fetched) > MAX_DOCUMENTS:
            raise PartnerError(f"the catalogue at {partner.catalog} holds {len(fetched)} documents, more "
                               f"than the {MAX_DOCUMENTS} a sync copies")
        with self.store.transaction(keys=partners.partner_keys(partner_iri)) as tx:
            # Read again under the lock: the partner may have been changed or removed meanwhile.
            current = partners.load(tx, partner_iri)
            if current != partner:
                raise Conflict(f"the partner {partner_iri.value} changed during the sync; nothing was copied: "
                               "sync again")
            return partners.keep_copies(tx, partner, fetched, self.base_url, self.clock.now())

    def _read(self, reply: Reply, url: str):
        # A partner running this server names our contexts under its own base: read them offline.
        own = own_contexts(_origin(url).rstrip("/"))
        try:
            return read_payload(reply.body, reply.media_type, url, self.max_json_depth, own,
                                api_base=self.base_url + "/api/dfc/")
        except HubError as e:
            raise PartnerError(f"the partner's answer from {url} is not usable DFC: {e.detail}") from None

    # --- after a customer order's unit of work ------------------------------------------------

    def settle(self, done, undo) -> None:
        """Send the forwarded orders a committed change touched; `undo(order, before)` it if a partner refuses.

        `done` is what the customer order's unit of work read and wrote (app/store/transaction.py
        Committed); this runs after its commit, outside the lock.
        """
        touched = {name: _grew(done.read.get(name) or [], doc, name) for name, doc in done.writes.items()
                   if fwd.partner_of(doc, name) is not None}
        if not touched:
            return
        failures = {}
        for name in touched:
            try:
                self.push(name)
            except (Refused, PartnerUnavailable, PartnerError) as e:
                failures[name] = e
                if not touched[name]:
                    log.warning("forwarded order %s stays pending: %s", name.value, e)
        fatal = {name: e for name, e in failures.items() if touched[name]}
        if not fatal:
            return
        customer = _customer_order(done)
        after = done.writes.get(customer, []) if customer is not None else []
        if customer is not None:
            undo(customer, done.read.get(customer) or None)
        for name in touched:
            self.push_quietly(name)
        raise Undone(_answer(fatal, done.writes, after, customer))

    # --- sending -------------------------------------------------------------------------------

    def push(self, order: NamedNode) -> None:
        """Bring the partner in line with the forwarded order as it stands here (Refused, 503, 502)."""
        with self._locks.hold([order.value]):
            for _ in range(ATTEMPTS):
                doc = self.store.graph(order)
                partner_iri = fwd.partner_of(doc, order)
                if partner_iri is None:
                    return
                try:
                    partner = partners.load(self.store, partner_iri)
                    done = self._send(order, doc, partner)
                except (PartnerUnavailable, PartnerError, Refused) as e:
                    reason = _reason(e)     # bound now: the name `e` is gone once the block ends
                    self._edit(order, lambda d: fwd.failed(d, order, reason))
                    raise
                except UnsafeURL as e:
                    reason = e.detail
                    self._edit(order, lambda d: fwd.failed(d, order, reason))
                    raise PartnerError(f"the partner's URL is refused: {reason}") from None
                if done:
                    return

    def push_quietly(self, order: NamedNode) -> bool:
        """push, a failure logged and left in the queue; True when the partner acknowledged."""
        try:
            self.push(order)
            return True
        except (Refused, PartnerUnavailable, PartnerError, HubError) as e:
            log.warning("forwarded order %s stays pending: %s", order.value, e)
            return False

    def retry_pending(self) -> tuple[int, int]:
        """One pass over the retry queue; (acknowledged, still pending)."""
        done = left = 0
        for row in self.store.select(queries.load("forwarded_orders")):
            if self.push_quietly(row["order"]):
                done += 1
            else:
                left += 1
        return done, left

    def push_session(self, session: NamedNode, hub_iri: NamedNode) -> None:
        """After a close: send each forwarded order of the session (Complete); failures stay queued."""
        for row in self.states(session, hub_iri):
            if row["state"].value == fwd.PENDING:
                self.push_quietly(row["order"])

    def states(self, session: NamedNode, hub_iri: NamedNode) -> list[dict]:
        """Each forwarded order of a session with its partner, sync state and remote IRI."""
        return self.store.select(queries.load("session_forwarded"), {"session": session, "hub": hub_iri})

    def _ask(self, partner: NamedNode, method: str, url: str, body: bytes | None = None,
             key: str | None = None, token: str | None = None) -> Reply:
        """One call with the partner's token (`token`, else the one in use); after a 401, once more
        with a fresh one, if the partner's credentials give another. Never to an origin the
        credentials were not given for (desk.check_origin: 422)."""
        token = token or self.tokens.current(partner, url)
        reply = self.client.send(method, url, token, body, key)
        if reply.status == 401 and token is not None:
            fresh = self.tokens.renew(partner, url, stale=token)
            if fresh != token:
                reply = self.client.send(method, url, fresh, body, key)
        return reply

    def _send(self, order, doc, partner: partners.Partner) -> bool:
        """One send; True when the partner now holds the order as it stands here."""
        remote = first(doc, order, fwd.REMOTE_ORDER)
        buyer = orders.buyer(doc, order)
        sent = fwd.what_is_sent(doc, order)
        if remote is None:
            key, text = first(doc, order, fwd.PENDING_POST), first(doc, order, fwd.PENDING_BODY)
            if key is None and not fwd.has_lines(doc, order):
                return self._acknowledge(order, sent, None, None)     # nothing to tell yet
            token = self.tokens.current(partner.iri, partner.orders)     # refused before anything is noted
            if key is None:
                key = uuid.uuid4().hex
                text = json.dumps(fwd.body(doc, order, buyer, partner.orders, None))
                self._edit(order, lambda d: fwd.with_pending_post(d, order, key, text))
            else:
                key, text, sent = key.value, text.value, None     # an earlier state: send again after
            reply = self._ask(partner.iri, "POST", partner.orders, text.encode(), key, token)
            if reply.status >= 300:     # refused: the partner created nothing
                self._edit(order, lambda d: fwd.without_pending_post(d, order))
            self._check(reply, partner, "POST", partner.orders)
            answer = self._read(reply, partner.orders).triples if reply.body.strip() else []
            location = reply.headers.get("location")
            remote = fwd.answered_order(answer, urljoin(partner.orders, location) if location else None)
            if remote is None or not remote.value.startswith(_origin(partner.orders)):
                raise PartnerError(f"the partner's answer to our POST at {partner.orders} names no order of its own")
            return self._acknowledge(order, sent, remote, fwd.remote_lines(answer, remote, doc, order))
        body = json.dumps(fwd.body(doc, order, buyer, partner.orders, remote)).encode()
        # The IRI the partner gave: its token goes there only if it was given for that origin.
        reply = self._ask(partner.iri, "PUT", remote.value, body, uuid.uuid4().hex)
        self._check(reply, partner, "PUT", remote.value)
        answer = self._read(reply, remote.value).triples if reply.body.strip() else []
        lines = fwd.remote_lines(answer, remote, doc, order) if answer else None
        return self._acknowledge(order, sent, remote, lines)

    def _check(self, reply: Reply, partner, method: str, url: str) -> None:
        if reply.status == 409:
            raise Refused(partner.iri, reply.problem())
        if not 200 <= reply.status < 300:
            problem = reply.problem()
            raise PartnerError(f"the partner answered {reply.status} to {method} {url}", partnerStatus=reply.status,
                               partnerDetail=str(problem.get("detail", ""))[:500])

    def _acknowledge(self, order, sent, remote, lines) -> bool:
        """Note the partner's acknowledgement; False when the order changed meanwhile (send again)."""
        same = []

        def edit(doc):
            kept = {t.subject: t.object for t in doc if t.predicate == fwd.REMOTE_LINE}
            out = fwd.acknowledged(doc, order, remote, kept if lines is None else lines, self.clock.now()) \
                if remote is not None else fwd.acknowledged_empty(doc, order, self.clock.now())
            if sent is None or fwd.what_is_sent(doc, order) != sent:
                return fwd.pending(out, order)
            same.append(True)
            return out
        self._edit(order, edit)
        return bool(same)

    def _edit(self, order, change) -> None:
        """Rewrite the forwarded order's bookkeeping in a unit of work of its own."""
        # Locked as checkouts lock it: by itself and by its seller (a producer's orders and stock).
        seller = first(self.store.graph(order), order, T.soldBy)
        keys = [order, *([docs.owner_key(seller.value, self.base_url)] if isinstance(seller, NamedNode) else [])]
        with self.store.transaction(keys=keys) as tx:
            doc = tx.graph(order)
            if doc:
                tx.put(order, change(doc))

    def close(self) -> None:
        self.client.close()


# --- helpers --------------------------------------------------------------------------------------

def _grew(before, after, order) -> bool:
    """Tell whether a change asks the partner for more of anything than it held."""
    was = {line.offer: line.quantity for line in orders.lines(before, order)}
    return any(line.quantity > was.get(line.offer, 0) for line in orders.lines(after, order))


def _customer_order(done) -> NamedNode | None:
    for name, doc in done.writes.items():
        if orders.is_customer(doc, name):
            return name
    for name in done.drops:
        if orders.is_customer(done.read.get(name) or [], name):
            return name
    return None


def _answer(fatal: dict, written: dict, customer_doc, customer) -> HubError:
    """What the customer is told: 409 with every partner's shortages, else 503."""
    refusals = [e for e in fatal.values() if isinstance(e, Refused)]
    if refusals:
        shortages = []
        for name, e in fatal.items():
            if isinstance(e, Refused):
                shortages += _shortages(e, written.get(name, []), name, customer_doc, customer)
        return Shortage(f"a partner platform has not enough stock for {len(shortages)} line(s); "
                        "nothing was reserved", shortages=shortages)
    first_error = next(iter(fatal.values()))
    if isinstance(first_error, CredentialsRefused):
        return CredentialsRefused(f"{first_error.detail}; nothing was reserved", **first_error.extra)
    if isinstance(first_error, PartnerError):
        return PartnerError(f"a partner platform answered what we cannot use ({first_error.detail}); "
                            "nothing was reserved")
    return PartnerUnavailable(f"a partner platform did not answer in time ({first_error.detail}); nothing "
                              "was reserved: try again later with the same Idempotency-Key")


def _shortages(refusal: Refused, mirror, order, customer_doc, customer) -> list[dict]:
    """The partner's shortages in the customer's terms: the offer they bought, how much, what is left."""
    theirs = refusal.problem.get("shortages")
    if not isinstance(theirs, list):
        return [{"partner": refusal.partner.value, "detail": str(refusal.problem.get("detail", ""))[:500]}]
    by_offer = {line.offer.value: line.iri for line in orders.lines(mirror, order)}
    asked = {}
    if customer is not None:
        for line in orders.lines(customer_doc, customer):
            if line.wholesale_line is not None:
                asked.setdefault(line.wholesale_line, []).append((line.offer, line.quantity))
    out = []
    for s in theirs:
        if not isinstance(s, dict):
            continue
        line = by_offer.get(str(s.get("offer")))
        mine = asked.get(line, []) if line is not None else []
        for offer, quantity in mine or [(None, None)]:
            out.append({"offer": offer.value if offer is not None else s.get("offer"),
                        "requested": format(tidy(quantity), "f") if quantity is not None else s.get("requested"),
                        "available": s.get("available"), "partner": refusal.partner.value,
                        "remoteOffer": s.get("offer")})
    return out


def _reason(e: Exception) -> str:
    if isinstance(e, Refused):
        return f"refused (409): {e.problem.get('detail', '')}"
    return getattr(e, "detail", str(e))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"
