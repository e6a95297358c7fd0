"""Contracts: a supplier's prices for one consumer, per catalogue item, between two days.

A contract lives in the supplier's namespace (`{supplier}/contracts/{id}`); the supplier alone
writes it, and it is readable by the supplier and the consumer it names (hub:consumer), nobody
else. Its prices count in an order line's best price (app/catalog/prices.py) from its first day
to its last, both included, in UTC: the server stores the days as xsd:date.

The payload is shaped into the document as the server stores it (pure, `from_payload`); the
`Contracts` service checks, in one unit of work, that every item priced is a catalogue item
of the supplier's, and writes it.
"""
from __future__ import annotations

import datetime as dt

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app import queries
from app.domain import documents as docs
from app.domain.versions import Expected
from app.domain import policy
from app.domain.agents import Agent
from app.domain.kinds import CONTRACTS
from app.errors import Conflict, NotFound, PayloadTooLarge, ShapeViolation, violation
from app.namespaces import RDF_TYPE, XSD, T, hub
from app.rdf.terms import day_of
from app.rdf.triples import Indexed, number

Contract, ContractPrice, consumer_term, contractPrice, item_term = (
    hub(n) for n in ("Contract", "ContractPrice", "consumer", "contractPrice", "item"))
# One contract prices at most this many items: a bigger one is a mistake, or an attack on the
# validator's time (each price is checked by SHACL and against the catalogue).
MAX_PRICES = 5000
_DATE = NamedNode(XSD + "date")


def check_size(triples: list[Triple]) -> None:
    """Refuse (413) a payload with more contract prices than one contract may have."""
    count = sum(1 for t in triples if t.predicate == contractPrice)
    if count > MAX_PRICES:
        raise PayloadTooLarge(f"a contract may price at most {MAX_PRICES} items; this one prices {count}: "
                              "split it into several contracts", maxPrices=MAX_PRICES, prices=count)


def consumer(triples: list[Triple], contract: NamedNode):
    """The consumer a contract names (None in a document without one)."""
    return Indexed(triples).first(contract, consumer_term)


def items(triples: list[Triple], contract: NamedNode) -> list:
    """The catalogue items a contract prices, in the order it lists them."""
    index = Indexed(triples)
    return [index.first(entry, item_term) for entry in index.objects(contract, contractPrice)]


def from_payload(triples: list[Triple], target: NamedNode | None, ns: docs.Namespace,
                 base_url: str) -> tuple[NamedNode, list[Triple]]:
    """The contract document a payload describes (POST: target None), or 422 with what is wrong."""
    collection = ns.collection(CONTRACTS)
    iri, triples = docs.single_document(triples, CONTRACTS, target, collection, base_url)
    sent = Indexed(triples)
    # Price entries and their prices are parts of the contract: named ones become its own nodes,
    # so that a contract never writes a statement about another document.
    renames = {}
    for entry in sent.objects(iri, contractPrice):
        if isinstance(entry, NamedNode):
            renames[entry] = BlankNode()
        for price in sent.objects(entry, T.hasPrice):
            if isinstance(price, NamedNode):
                renames[price] = BlankNode()
    doc = Indexed(docs.rename(triples, renames)).subtree(iri)
    return iri, _canonical(_checked(doc, iri, ns), iri, ns.base_url)


def _may_buy(iri: str, base_url: str) -> bool:
    """Whether an IRI may name a contract's consumer: an enterprise of this server (not a person, a
    document or a path no enterprise has), or any IRI of another platform (a partner's buyer)."""
    return docs.is_enterprise(iri, base_url) or not iri.startswith(base_url + "/")


def _checked(doc: list[Triple], iri: NamedNode, ns: docs.Namespace) -> list[Triple]:
    """Refuse (422) what the shapes cannot see: repeated terms, days in the wrong order, an item twice."""
    index, problems = Indexed(doc), []

    def once(node, terms, required=True):
        for term in terms:
            values = index.objects(node, term)
            if len(values) > 1 or (required and not values):
                problems.append(violation(node, term, ", ".join(v.value for v in values) or None,
                                          f"{_short(term)} must have one value, not {len(values)}"))

    once(iri, (consumer_term, T.startDate, T.endDate))
    who = index.first(iri, consumer_term)
    if isinstance(who, NamedNode) and who.value in ns.iris:
        problems.append(violation(iri, consumer_term, who, "a supplier makes no contract with itself"))
    elif isinstance(who, NamedNode) and not _may_buy(who.value, ns.base_url):
        problems.append(violation(iri, consumer_term, who, "the consumer is an enterprise: on this server, "
                                  "…/api/dfc/enterprises/{id}, not one of its documents"))
    start, end = (_day(index.first(iri, term)) for term in (T.startDate, T.endDate))
    for term, day in ((T.startDate, start), (T.endDate, end)):
        if day is None and index.first(iri, term) is not None:
            problems.append(violation(iri, term, index.first(iri, term), f"{_short(term)} must be a date"))
    if start and end and end < start:
        problems.append(violation(iri, T.endDate, index.first(iri, T.endDate),
                                  f"the contract ends ({end}) before it starts ({start})"))
    seen: dict = {}
    for entry in index.objects(iri, contractPrice):
        once(entry, (item_term, T.hasPrice))
        price = index.first(entry, T.hasPrice)
        once(price, (T.value,))
        once(price, (T.hasUnit,), required=False)
        value = number(index.first(price, T.value))
        if value is None or value < 0:
            problems.append(violation(entry, T.hasPrice, index.first(price, T.value),
                                      "a contract price's dfc-b:value is a number >= 0"))
        item = index.first(entry, item_term)
        if not isinstance(item, NamedNode) or not ns.owns(item.value):
            problems.append(violation(entry, item_term, item, f"a contract prices catalogue items of {ns.eid}'s"))
        elif item in seen:
            problems.append(violation(entry, item_term, item, f"{item.value} is priced twice in this contract"))
        seen.setdefault(item, entry)
    if problems:
        raise ShapeViolation(f"{len(problems)} problem(s) in the contract", violations=problems)
    return doc


def _canonical(doc: list[Triple], iri: NamedNode, base_url: str) -> list[Triple]:
    """The days as xsd:date, each entry and price typed, an enterprise of ours as consumer in its
    own spelling: a contract stored one way, however sent."""
    index = Indexed(doc)
    who = index.first(iri, consumer_term)
    # Reads and prices match the consumer by its IRI: `…/Enterprises/x` would lock x out of its contract.
    if isinstance(who, NamedNode) and docs.is_enterprise(who.value, base_url):
        spelled = NamedNode(docs.owner_key(who.value, base_url))
        doc = [*(t for t in doc if not (t.subject == iri and t.predicate == consumer_term)),
               Triple(iri, consumer_term, spelled)]
    out = [t for t in doc if not (t.subject == iri and t.predicate in (T.startDate, T.endDate))]
    out += [Triple(iri, term, Literal(_day(index.first(iri, term)).isoformat(), datatype=_DATE))
            for term in (T.startDate, T.endDate)]
    typed = set(out)
    for entry in index.objects(iri, contractPrice):
        price = index.first(entry, T.hasPrice)
        for node, cls in ((entry, ContractPrice), (price, T.Price)):
            if Triple(node, RDF_TYPE, cls) not in typed:
                out.append(Triple(node, RDF_TYPE, cls))
    return out


def _day(term) -> dt.date | None:
    """The day a date or date-time literal names (as written, whatever its offset)."""
    return day_of(term.value, term.datatype.value) if isinstance(term, Literal) else None


def _short(term: NamedNode) -> str:
    local = term.value.rsplit("#", 1)[-1]
    return ("hub:" if term.value.startswith(hub("").value) else "dfc-b:") + local


class Contracts:
    """The contracts of one store: listed, read, written and deleted by the rules above."""

    def __init__(self, store, base_url: str):
        self.store, self.base_url = store, base_url

    def documents(self, names: list) -> list[Triple]:
        """Several contracts' triples, in one request (a page of a listing the agent may read)."""
        return self.store.graphs(names)

    def listing(self, agent: Agent | None, ns: docs.Namespace) -> list[NamedNode]:
        """The supplier's contracts the agent may read: all for the supplier, its own for a consumer."""
        agent = policy.require_token(agent, "contract", "list")
        if policy.sees_all(agent, ns):
            return docs.list_documents(self.store, ns, CONTRACTS)
        rows = self.store.select(queries.load("contracts_of_consumer"),
                                 {**ns.bindings(), "consumer": NamedNode(agent.iri)})
        return [r["g"] for r in rows]

    def load(self, agent: Agent | None, ns: docs.Namespace, iri: str) -> tuple[NamedNode, list[Triple]]:
        """A contract readable by the agent (the supplier or its consumer), or 401/403/404."""
        policy.require_token(agent, "contract", "read")
        found = _found(self.store, iri, self.base_url)
        policy.require(agent, "contract", "read", owner=ns, buyers=[consumer(found[1], found[0])],
                       order=found[0].value)
        return found

    def write(self, agent: Agent | None, ns: docs.Namespace, iri: NamedNode, doc: list[Triple],
              replace: bool, expected: Expected = Expected()) -> tuple[NamedNode, list[Triple], bool]:
        """POST (replace False) or PUT a contract; (name, as written, created?)."""
        policy.require(agent, "contract", "replace" if replace else "create", owner=ns)
        with self.store.transaction(keys=[ns.iri]) as tx:      # the supplier's: its prices and stock
            name, current = docs.write_target(tx, iri, replace, expected, self.base_url)
            if current is not None and Triple(name, RDF_TYPE, Contract) not in current:
                raise Conflict(f"{iri.value} is not a contract; write contracts elsewhere", iri=iri.value)
            doc = docs.rename(doc, {iri: name}) if name != iri else doc
            doc = self._catalogue_items(tx, doc, name)
            tx.put(name, doc)
        return name, doc, current is None

    def delete(self, agent: Agent | None, ns: docs.Namespace, iri: str, expected: Expected = Expected()) -> None:
        """Delete a contract (the supplier): orders priced under it keep their frozen prices."""
        policy.require(agent, "contract", "delete", owner=ns)
        with self.store.transaction(keys=[ns.iri]) as tx:
            name, triples = _found(tx, iri, self.base_url)
            expected.check(triples)
            tx.drop(name)

    def _catalogue_items(self, tx, doc: list[Triple], contract: NamedNode) -> list[Triple]:
        """The contract with each item as the catalogue spells it; 422 for anything not a catalogue item."""
        named = [i for i in dict.fromkeys(items(doc, contract)) if isinstance(i, NamedNode)]
        spelled = {i: [NamedNode(s) for s in docs.variants(i.value, self.base_url)] for i in named}
        asked = list(dict.fromkeys(s for spellings in spelled.values() for s in spellings))
        rows = tx.select(queries.load("catalog_items_known"), {"items": asked}) if asked else []
        found = {r["item"] for r in rows}
        known = {i: next(s for s in spellings if s in found) for i, spellings in spelled.items()
                 if any(s in found for s in spellings)}
        unknown = [i for i in named if i not in known]
        if unknown:
            raise ShapeViolation(f"{len(unknown)} contract price(s) name no catalogue item of the supplier's",
                                 violations=[violation(contract, item_term, i, f"{i.value} is not a catalogue "
                                                       "item of the supplier's") for i in unknown])
        doc = docs.rename(doc, {i: s for i, s in known.items() if i != s})
        priced = items(doc, contract)
        if len(set(priced)) < len(priced):
            raise ShapeViolation("an item is priced twice in this contract (under two spellings)",
                                 violations=[violation(contract, item_term, i, f"{i.value} is priced twice")
                                             for i in dict.fromkeys(priced) if priced.count(i) > 1])
        return doc


def _found(reader, iri: str, base_url: str) -> tuple[NamedNode, list[Triple]]:
    found = docs.find(reader, iri, base_url)
    if found is None or Triple(found[0], RDF_TYPE, Contract) not in found[1]:
        raise NotFound(f"no contract at {iri}")
    return found
