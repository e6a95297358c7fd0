"""The audit after a storm: what the store holds, and every way it fails to add up.

`read_store` reads orders and ledgers with our own SPARQL, straight from the store (not
through the server under test), and every order's whole document. Each `*_problems` function
returns readable discrepancies, so a test asserts `== []` and a failure lists them all:

- `ledger_problems`: each item's ledger against the order documents in the store (no buyer
  needed): held and committed are the sums of `orders.usage` (committed: the unshipped part of
  orders in a committing status), on hand is the stock less what every order's shipped
  deliveries carried (`orders.shipped`), and nothing is negative;
- `lifecycle_problems`: each wholesale order's history a chain of moves the lifecycle allows,
  ending in its status, and every move and shipment the server acknowledged in it;
- `consolidation_problems`: the hub's one wholesale order per session against its customer orders;
- `model_problems`: the store against what the buyers were told (every answer known);
- `crash_problems`: the same when some answers were lost (before or after, both allowed);
- `answer_problems`: answers other than a 2xx or a 409 shortage that makes sense (or, where
  the store may be overloaded, a 503 saying it did not answer: see `store_unavailable`).
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal

from pyoxigraph import NamedNode, Triple

from app.domain import lifecycle, statuses, order_documents as order_docs
from app.namespaces import DFC_B, DFC_V, HUB, T
from app.rdf.triples import Indexed
from app.store import Store
from support.order_storm import (CANCELLED, COMPLETE, HELD, ITEM_OF_OFFER, ITEMS, SELLER_IRI, Buyer, State)

ZERO = Decimal(0)
PREFIXES = f"PREFIX dfc-b: <{DFC_B}>\nPREFIX hub: <{HUB}>\n"
ORDER_LINES = PREFIXES + """
SELECT ?order ?status ?customer ?consolidated ?session ?line ?item ?offer ?qv ?ql WHERE {
  GRAPH ?order {
    ?order a dfc-b:Order .
    OPTIONAL { ?order dfc-b:hasOrderStatus ?status }
    OPTIONAL { ?order hub:customerOrder ?customer }
    OPTIONAL { ?order hub:consolidated ?consolidated }
    OPTIONAL { ?order dfc-b:belongsTo ?session }
    OPTIONAL {
      ?order dfc-b:hasPart ?line .
      OPTIONAL { ?line hub:stockItem ?item }
      OPTIONAL { ?line dfc-b:concerns ?offer }
      OPTIONAL { ?line dfc-b:hasQuantity/dfc-b:value ?qv }
      OPTIONAL { ?line dfc-b:quantity ?ql }
    }
  }
}"""
LEDGERS = PREFIXES + """
SELECT ?item ?term ?value WHERE {
  GRAPH ?item {
    ?item a dfc-b:CatalogItem ; ?term ?value .
    VALUES ?term { hub:onHand hub:held hub:committed dfc-b:stockLimitation }
  }
}"""
_TERMS = {f"{HUB}onHand": "onHand", f"{HUB}held": "held", f"{HUB}committed": "committed",
          f"{DFC_B}stockLimitation": "stockLimitation"}


@dataclasses.dataclass
class Snapshot:
    orders: dict[str, State]             # orders that reserve themselves: buyers' and the hub's wholesale
    customers: dict[str, State]          # customer orders (their lines reserve via the wholesale one)
    consolidated: dict[str, str]         # the hub's consolidated wholesale orders → their session
    sessions: dict[str, str]             # customer order → its session
    ledgers: dict[str, dict[str, list[Decimal]]]   # item → term → values stated
    problems: list[str]                  # malformed documents
    documents: dict[str, list[Triple]] = dataclasses.field(default_factory=dict)   # every order's graph


@dataclasses.dataclass
class _Found:
    statuses: set = dataclasses.field(default_factory=set)
    customer: bool = False
    consolidated: bool = False
    sessions: set = dataclasses.field(default_factory=set)
    lines: dict = dataclasses.field(default_factory=dict)    # line → (items, quantities)


def read_at(spec: str) -> "Snapshot":
    """Open the store at `spec`, read its snapshot, close it (no server may hold it open)."""
    from app.store import open_store
    store = open_store(spec)
    try:
        return read_store(store)
    finally:
        store.close()


def read_store(store: Store) -> Snapshot:
    """Read every order and item ledger straight from the store."""
    found: dict[str, _Found] = defaultdict(_Found)
    for row in store.select(ORDER_LINES):
        f = found[row["order"].value]
        if "status" in row:
            f.statuses.add(row["status"].value.removeprefix(DFC_V))
        f.customer |= row.get("customer") is not None and row["customer"].value == "true"
        f.consolidated |= row.get("consolidated") is not None and row["consolidated"].value == "true"
        if "session" in row:
            f.sessions.add(row["session"].value)
        if "line" in row:
            items, quantities = f.lines.setdefault(row["line"].value, (set(), set()))
            # A customer line names no stock item: its offer leads to one.
            item = row.get("item") or (row.get("offer") if f.customer else None)
            if item is not None:
                items.add(ITEM_OF_OFFER.get(item.value, item.value))
            quantities |= {Decimal(row[q].value) for q in ("qv", "ql") if q in row}
    snap = Snapshot({}, {}, {}, {}, _ledgers(store), [],
                    {k.value: v for k, v in store.documents([NamedNode(o) for o in found]).items()})
    for order, f in found.items():
        state = _state(order, f, snap.problems)
        if state is None:
            continue
        (snap.customers if f.customer else snap.orders)[order] = state
        if f.consolidated or f.customer:
            if len(f.sessions) != 1:
                snap.problems.append(f"{order} belongs to sessions {sorted(f.sessions)}")
                continue
            (snap.sessions if f.customer else snap.consolidated)[order] = next(iter(f.sessions))
    return snap


def _state(order: str, f: _Found, problems: list[str]) -> State | None:
    if len(f.statuses) != 1:
        problems.append(f"{order} has order statuses {sorted(f.statuses)}")
        return None
    counts: dict[str, Decimal] = defaultdict(Decimal)
    for line, (items, quantities) in f.lines.items():
        if len(items) != 1 or len(quantities) != 1:
            problems.append(f"{line} has stock items {sorted(items)} and quantities {sorted(quantities)}")
            continue
        counts[next(iter(items))] += next(iter(quantities))
    return State.of(next(iter(f.statuses)), counts)


def _ledgers(store: Store) -> dict[str, dict[str, list[Decimal]]]:
    out: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for row in store.select(LEDGERS):
        out[row["item"].value][_TERMS[row["term"].value]].append(Decimal(row["value"].value))
    return {k: dict(v) for k, v in out.items()}


def _empty() -> dict[str, dict[str, Decimal]]:
    return {item: {"held": ZERO, "committed": ZERO} for item in ITEMS}


def _add(sums, state: State, bucket: str | None) -> None:
    for item, quantity in state.lines:
        if bucket is not None:
            sums.setdefault(item, {"held": ZERO, "committed": ZERO})[bucket] += quantity


def reserved(orders: dict[str, State], customers: dict[str, State] | None = None) -> dict:
    """Σ quantities per item that the ledger must count as held and as committed.

    An order reserves its own lines (Held: held, Complete: committed); a customer order's
    lines are held upstream in the hub's wholesale order while it is Held or Complete.
    """
    sums = _empty()
    for state in orders.values():
        _add(sums, state, {HELD: "held", COMPLETE: "committed"}.get(state.status))
    for state in (customers or {}).values():
        _add(sums, state, "held" if state.status in (HELD, COMPLETE) else None)
    return sums


def usage_sums(documents: dict[str, list[Triple]]) -> dict[str, dict[str, Decimal]]:
    """Per item: Σ held and Σ committed usage of every order document, and Σ shipped from it."""
    sums = {item: {"held": ZERO, "committed": ZERO, "shipped": ZERO} for item in ITEMS}
    for name, doc in documents.items():
        order = NamedNode(name)
        for item, (held, committed) in order_docs.usage(doc, order).items():
            sums[item.value]["held"] += held
            sums[item.value]["committed"] += committed
        items = {line.iri: line.stock_item for line in order_docs.lines(doc, order)}
        for line, quantity in order_docs.shipped(doc, order).items():
            sums[items[line].value]["shipped"] += quantity
    return sums


def ledger_problems(snapshot: Snapshot) -> list[str]:
    """Every way the items' ledgers fail to add up against the order documents the store holds."""
    out = list(snapshot.problems)
    sums = usage_sums(snapshot.documents)
    for item, stocked in ITEMS.items():
        on_hand = stocked - sums[item]["shipped"]
        if sums[item]["held"] + sums[item]["committed"] > on_hand or on_hand < 0:
            out.append(f"{item}: oversold: the orders reserve {sums[item]['held']} held + "
                       f"{sums[item]['committed']} committed of {on_hand} on hand ({stocked} stocked, "
                       f"{sums[item]['shipped']} shipped)")
        stated = snapshot.ledgers.get(item, {})
        values = {}
        for term in ("onHand", "held", "committed", "stockLimitation"):
            found = stated.get(term, [])
            if len(found) != 1:
                out.append(f"{item} states {term} {found}, not exactly one value")
            else:
                values[term] = found[0]
        if len(values) < 4:
            continue
        if values["onHand"] != on_hand:
            out.append(f"{item}: onHand {values['onHand']}, but {stocked} stocked less "
                       f"{sums[item]['shipped']} shipped is {on_hand}")
        if any(v < 0 for v in values.values()):
            out.append(f"{item}: a ledger value is negative ({values}): oversold")
        if values["onHand"] - values["held"] - values["committed"] != values["stockLimitation"]:
            out.append(f"{item}: onHand - held - committed != stockLimitation ({values})")
        for term in ("held", "committed"):
            if values[term] != sums[item][term]:
                out.append(f"{item}: the ledger says {term} {values[term]}, the orders' usage "
                           f"adds up to {sums[item][term]}")
    return out


def lifecycle_problems(snapshot: Snapshot, actors) -> list[str]:
    """Every wholesale order's history against the lifecycle's rules and the moves acknowledged.

    Each history runs draft → … → the order's status, each step one the table allows from the
    step before (a "no" to a cancellation request back where it came from); every move and
    shipment a thread was answered 200 for is in it (no write lost another's); no line shipped
    more than it has.
    """
    out = []
    for name, doc in snapshot.documents.items():
        order, index = NamedNode(name), Indexed(doc)
        if index.first(order, T.status) is None:
            continue        # a customer order: DFC statuses only
        out += _history_problems(order, index)
        quantities = {line.iri: line.quantity for line in order_docs.lines(doc, order)}
        for line, sent in order_docs.shipped(doc, order).items():
            if sent > quantities.get(line, ZERO):
                out.append(f"{line.value}: {sent} shipped of {quantities.get(line, ZERO)} ordered")
    for actor in actors:
        for ack in getattr(actor, "acks", []):
            index = Indexed(snapshot.documents.get(ack.order, []))
            recorded = index.first(NamedNode(ack.step), T.toStatus) if ack.step else None
            if ack.step is None or recorded is None or statuses.name(recorded) != ack.to.removeprefix("hub:"):
                out.append(f"{ack.order}: the server acknowledged {ack.step} → {ack.to}; the store's "
                           f"history says {recorded}")
            if ack.shipped and index.first(NamedNode(ack.shipped), T.shippedAt) is None:
                out.append(f"{ack.shipped} was acknowledged shipped; the store has no hub:shippedAt")
    return out


_PARTIES = {lifecycle.CONSUMER, lifecycle.SUPPLIER}
_WAYS = (lifecycle.BY_STATUS, lifecycle.BY_SHIPPING, lifecycle.BY_ANSWER)


def _history_problems(order: NamedNode, index: Indexed) -> list[str]:
    steps = sorted(index.objects(order, T.statusChange), key=lambda n: int(n.value.rsplit("/", 1)[-1]))
    path = [(index.first(s, T.fromStatus), index.first(s, T.toStatus)) for s in steps]
    out, before, origin = [], None, None
    for k, (source, target) in enumerate(path, 1):
        move = f"step {k} {source and statuses.name(source)} → {target and statuses.name(target)}"
        if source != before:
            out.append(f"{order.value}: {move} does not start where step {k - 1} ended ({before})")
        elif k == 1 and target != statuses.DRAFT:
            out.append(f"{order.value}: its history starts with {move}, not in draft")
        elif k > 1 and target not in lifecycle.allowed(source, _PARTIES, origin, _WAYS):
            out.append(f"{order.value}: {move} is no move of the lifecycle (a request came from {origin})")
        if target == statuses.CANCELATION_REQUESTED:
            origin = source
        before = target
    if before != index.first(order, T.status):
        out.append(f"{order.value}: its history ends in {before}, its status is {index.first(order, T.status)}")
    return out


def consolidation_problems(snapshot: Snapshot) -> list[str]:
    """Per session: one live wholesale order with the farm, its lines the sum of its customers'.

    The hub keeps the default settings (one order per session and producer, not by weight),
    and its customers buy the farm's offers: one customer unit is one wholesale unit.
    """
    out = []
    sessions = set(snapshot.sessions.values()) | set(snapshot.consolidated.values())
    for session in sorted(sessions):
        live = [o for o, s in snapshot.consolidated.items()
                if s == session and snapshot.orders[o].status != "Cancelled"]
        customers = {o: st for o, st in snapshot.customers.items() if snapshot.sessions.get(o) == session}
        wanted = {i: v["held"] for i, v in reserved({}, customers).items() if v["held"]}
        if not live:
            if wanted:
                out.append(f"{session}: customers hold {wanted} but the hub has no wholesale order")
            continue
        if len(live) != 1:
            out.append(f"{session}: {len(live)} live wholesale orders with the farm {sorted(live)}, not one")
            continue
        order = snapshot.orders[live[0]]
        if not live[0].startswith(SELLER_IRI + "/orders/") or order.status != HELD:
            out.append(f"{live[0]}: the session's wholesale order should be the farm's and Held: {order}")
        if order.counts() != wanted:
            out.append(f"{live[0]} holds {order.counts()}, its customers' orders add up to {wanted}")
    return out


def _expected(buyers: list[Buyer]) -> tuple[dict[str, State], dict[str, State]]:
    orders, customers = {}, {}
    for b in buyers:
        for order, state in b.orders.items():
            if state is not None:
                (customers if b.session else orders)[order] = state
    return orders, customers


def model_problems(snapshot: Snapshot, buyers: list[Buyer]) -> list[str]:
    """Every way the store differs from what the buyers were told (every answer known).

    A shared order (placed on the board) is moved by the farm too: its buyer knows its lines,
    not its status, which must be Complete (placed to shipped) or Cancelled; and only `held`
    is then the buyers' to add up (`ledger_problems` checks the rest against the store).
    """
    out = []
    orders, customers = _expected(buyers)
    shared = {o for b in buyers for o in getattr(b, "shared", ())}
    held_by_buyers = {o: s for o, s in snapshot.orders.items() if o not in snapshot.consolidated}
    for expected, actual in ((orders, held_by_buyers), (customers, snapshot.customers)):
        for order in sorted(set(expected) - set(actual)):
            out.append(f"{order} was acknowledged ({expected[order]}) but is not in the store")
        for order in sorted(set(actual) - set(expected)):
            out.append(f"{order} is in the store ({actual[order]}) but no 2xx left it there")
        for order in sorted(set(expected) & set(actual)):
            if order in shared and actual[order].status in (COMPLETE, CANCELLED) \
                    and actual[order].lines == expected[order].lines:
                continue
            if actual[order] != expected[order]:
                out.append(f"{order}: the store holds {actual[order]}, the last 2xx said {expected[order]}")
    for b in buyers:
        for order in sorted(b.refused & (set(snapshot.orders) | set(snapshot.customers))):
            out.append(f"{order} was refused with 409 but is in the store")
    sums = reserved(orders, customers)
    for item in ITEMS:
        for term in ("held",) if shared else ("held", "committed"):
            stated = snapshot.ledgers.get(item, {}).get(term)
            if stated != [sums[item][term]]:
                out.append(f"{item}: the acknowledged orders add up to {term} {sums[item][term]}, "
                           f"the ledger says {stated}")
    return out + consolidation_problems(snapshot)


def crash_problems(snapshot: Snapshot, buyers: list[Buyer]) -> list[str]:
    """Like `model_problems` when answers were lost: such an order may be as before or after."""
    possible: dict[str, set] = defaultdict(set)
    for b in buyers:
        for order, state in b.orders.items():
            possible[order].add(state)
        if b.lost is not None:
            assert b.lost.order is not None, "a lost POST must name its order (minted_share=0)"
            possible[b.lost.order] |= {b.orders.get(b.lost.order), b.lost.after}
    out = []
    held_by_buyers = {o: s for o, s in snapshot.orders.items() if o not in snapshot.consolidated}
    actual = {**held_by_buyers, **snapshot.customers}
    for order in sorted(set(possible) | set(actual)):
        allowed = possible.get(order, {None})
        if actual.get(order) not in allowed:
            out.append(f"{order} is {actual.get(order) or 'absent'} in the store; the buyer's answers "
                       f"allow only {sorted(map(str, allowed))}")
    return out + consolidation_problems(snapshot)


# A lifecycle write refused because the order moved on meanwhile (409 naming what is allowed
# now), or because another thread shipped the delivery first (409 naming the delivery).
_LIFECYCLE_REFUSALS = ("allowed", "delivery")


def store_unavailable(r) -> bool:
    """A 503 saying the store did not answer, before anything was written: the buyer's model of
    the order stays as it was, and the audit checks that the store agrees. Not `outcome-unknown`
    (the change may have been made): that one a buyer cannot model exactly (a POST whose IRI
    the server mints cannot be read back), so it stays a failure."""
    return r.status == 503 and str((r.problem or {}).get("type", "")).endswith("/store-unavailable")


def answer_problems(buyers: list[Buyer], unavailable_ok: bool = False) -> list[str]:
    """Answers that are neither a success, a stock shortage that makes sense, nor a lifecycle
    refusal; nor, if `unavailable_ok`, a store that did not answer (`store_unavailable`)."""
    out = []
    for b in buyers:
        for r in b.requests:
            if r.status is None or r.succeeded() or (unavailable_ok and store_unavailable(r)):
                continue
            if r.op == "ship" or r.op.startswith("move "):
                if r.status != 409 or not any(k in (r.problem or {}) for k in _LIFECYCLE_REFUSALS):
                    out.append(f"{r.method} {r.url} ({r.op}) answered {r.status}: {r.problem}")
                continue
            shortages = (r.problem or {}).get("shortages") if r.status == 409 else None
            if not shortages:
                out.append(f"{r.method} {r.order or r.url} ({r.op}) answered {r.status}: {r.problem}")
            elif r.op not in ("place", "change"):
                out.append(f"{r.op} of {r.order} was refused for want of stock: {r.problem}")
            else:
                out += _shortage_problems(r, shortages)
    return out


def _shortage_problems(r, shortages) -> list[str]:
    """A 409 must name an item the request asked for, and ask more of it than was available."""
    asked = r.after.counts()
    out = []
    for s in shortages:
        item = s.get("stockItem")
        if item not in asked:
            out.append(f"{r.op} of {r.order}: shortage of {item}, which it does not ask for: {s}")
        elif s.get("available") is not None and Decimal(s["available"]) >= Decimal(s["requested"]):
            out.append(f"{r.op} of {r.order}: refused {s['requested']} of {item} with "
                       f"{s['available']} available")
    return out


def tally(buyers: list[Buyer]) -> dict[int | None, int]:
    """How many requests got each status (None: answer lost)."""
    out: dict[int | None, int] = defaultdict(int)
    for b in buyers:
        for r in b.requests:
            out[r.status] += 1
    return dict(out)
