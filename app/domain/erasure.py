"""Erasing a person: what each document that held something of theirs becomes (pure functions).

A customer's personal data lives in their own graph (app/domain/order_documents.py keeps it out of the
orders), so erasure is first that graph becoming a tombstone: the person's IRI then answers
410 Gone and is never filled again. What else may hold something of theirs is scrubbed: the
orders naming them (a note they left, personal terms a payload put on the order itself: every
statement analysts may not read of a customer's order, app/domain/personal.py) and the answers
kept for retries (app/orders/idempotency.py), which are copies of those orders.

The orders stay, and add up as before, but name a fresh random pseudonym instead of the erased
IRI: that IRI is known to whoever held the person, and a pseudonym derived from a partner's id
(app/persons/pseudonyms.py) can be derived again from an email, so orders left under it could be
tied back to the person. Under the fresh one, a customer's orders stay linked to one another
(analysts still count orders per customer), and to nobody. app/persons/register.py does the I/O.
"""
from __future__ import annotations

import datetime as dt
import secrets

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.domain import personal
from app.errors import Gone
from app.namespaces import RDF_TYPE, XSD, T, b, hub
from app.rdf.terms import datetime_literal
from app.rdf.triples import Indexed, first

ERASED, ERASED_AT = hub("ErasedPerson"), hub("erasedAt")
PSEUDONYM = hub("Pseudonym")
# Terms that say who someone is or where they live: never kept outside a person's own graph.
PERSONAL = frozenset(b(n) for n in ("firstName", "familyName", "email", "hasAddress", "hasPhoneNumber",
                                    "phoneNumber", "street", "city", "postcode"))
# Free text on a customer's order: a note of theirs may say anything about them.
NOTES = frozenset({b("description")})
_STRINGS = (NamedNode(XSD + "string"), NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"))
# Shorter values (initials, a country code) would match unrelated text: not searched for.
MIN_SEARCHED = 3
# Nor, in other customers' orders, one shorter than a short email (a@b.fr).
MIN_IDENTIFYING = 6


def tombstone(person: NamedNode, at: dt.datetime) -> list[Triple]:
    """What stays in the person's graph: that they were erased, and when; nothing about them."""
    instant = at.astimezone(dt.timezone.utc).replace(microsecond=0)
    return [Triple(person, RDF_TYPE, ERASED), Triple(person, ERASED_AT, datetime_literal(instant))]


def pseudonym_document(pseudonym: NamedNode) -> list[Triple]:
    """What is kept at the pseudonym an erasure left: that it is one. A checkout describing
    someone there is then refused (app/orders/book.py: not a person's document), or the erased
    customer's orders would become theirs."""
    return [Triple(pseudonym, RDF_TYPE, PSEUDONYM)]


def is_person(triples, person: NamedNode) -> bool:
    return Triple(person, RDF_TYPE, T.Person) in triples


def is_erased(triples, person: NamedNode) -> bool:
    return Triple(person, RDF_TYPE, ERASED) in triples


def refuse_erased(triples, person: NamedNode) -> None:
    """410 for an erased person's IRI: no later write describes anyone there again."""
    if is_erased(triples, person):
        at = first(triples, person, ERASED_AT)
        raise Gone(f"the person {person.value} was erased{' at ' + at.value if at is not None else ''}: "
                   "nothing of theirs is kept; a returning customer is described as a new person "
                   "(a blank node) and gets a new IRI", person=person.value,
                   erasedAt=at.value if at is not None else None)


def fresh_pseudonym(person: NamedNode) -> NamedNode:
    """A new random IRI in the same persons' collection, derived from nothing."""
    return NamedNode(f"{person.value.rsplit('/', 1)[0]}/{secrets.token_hex(6)}")


def personal_values(triples) -> frozenset[str]:
    """The text of every string the person's graph holds (names, email, phone, address parts)."""
    return frozenset(t.object.value for t in triples
                     if isinstance(t.object, Literal) and t.object.datatype in _STRINGS
                     and len(t.object.value.strip()) >= MIN_SEARCHED)


# Terms whose value names one person alone: searched for in other customers' notes too.
_ALONE = frozenset(b(n) for n in ("email", "phoneNumber", "street"))


def identifying_values(triples) -> frozenset[str]:
    """What names the person and nobody else: their email, phone number and street, and their
    full name. Searched for in other customers' orders, where a first name, a family name, a
    city or a postcode alone would take from someone else's note what is theirs ("Eva" is in
    "evening", a city in many an address)."""
    strings = [(t.predicate, t.object.value.strip()) for t in triples
               if isinstance(t.object, Literal) and t.object.datatype in _STRINGS]
    found = {v for p, v in strings if p in _ALONE}
    named = dict(strings)
    if named.get(b("firstName")) and named.get(b("familyName")):
        found.add(f"{named[b('firstName')]} {named[b('familyName')]}")
    return frozenset(v for v in found if len(v) >= MIN_IDENTIFYING)


def scrub(triples, person: NamedNode, pseudonym: NamedNode, values) -> list[Triple]:
    """A document with the person renamed to `pseudonym`, and nothing personal left in it.

    Gone: statements of personal terms and notes (with the blank nodes only they lead to), and
    any string that contains one of the person's `values`; from a customer's order, every
    statement but those known to say nothing about the customer (app/domain/personal.py), so
    a note in any vocabulary goes too, and the order may reach analysts again.
    """
    doc = Indexed(list(triples))
    needles = [v.casefold() for v in values]
    customer = personal.is_customer_order(triples)
    dropped = {t for t in triples if t.predicate in PERSONAL or t.predicate in NOTES
               or _mentions(t.object, needles) or (customer and not personal.says_nothing(t))}
    below = {x.subject for t in dropped if isinstance(t.object, BlankNode) for x in doc.subtree(t.object)}
    kept = [t for t in triples if t not in dropped and t.subject not in below]
    return [Triple(pseudonym if t.subject == person else t.subject, t.predicate,
                   pseudonym if t.object == person else t.object) for t in kept]


def renamed(triples, person: NamedNode, pseudonym: NamedNode) -> list[Triple]:
    """Another enterprise's document naming the person: the reference points at `pseudonym`, and
    what it says of the person's node goes; the rest is that enterprise's record, not the hub's
    to rewrite (scrubbing it of the strings the hub chose as the person's name once wiped a
    producer's own history of a confirmed order)."""
    return [Triple(t.subject, t.predicate, pseudonym if t.object == person else t.object)
            for t in triples if t.subject != person]


def unmentioned(triples, values) -> list[Triple]:
    """Another customer's order of the hub (or its kept answer) that does not name the person:
    only the statements whose string mentions one of the person's `values` go (a note of theirs
    naming the person); the rest is that customer's, and stays."""
    needles = [v.casefold() for v in values]
    return [t for t in triples if not _mentions(t.object, needles)]


def _mentions(term, needles: list[str]) -> bool:
    if not (isinstance(term, Literal) and term.datatype in _STRINGS):
        return False
    text = term.value.casefold()
    return any(n in text for n in needles)
