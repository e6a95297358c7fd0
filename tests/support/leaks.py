"""Scan what leaves the server for a person's personal data: `assert_no_personal_data(out, person)`.

`out` is anything the server sends out (an HTTP body, a partner call, a webhook payload, a log),
as text or bytes; `person` is a `Person` below, or any iterable of the strings to look for.
Each value is looked for case-insensitively as written, URL-encoded (a query string, a form),
JSON-escaped (`\\u00e9`) and, for a phone number, as its digits alone (with and without the
country code), so that a value is found however the channel spells it. A failure names each
value found and the text around it.

The scenario's persons use values found nowhere else (no product, place or IRI holds them), so
a hit is a leak, never a coincidence.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus


@dataclasses.dataclass(frozen=True)
class Person:
    """A customer as a test describes them, with the personal data a scan looks for."""
    first_name: str
    family_name: str
    email: str
    phone: str
    street: str
    city: str
    postcode: str

    def values(self) -> list[str]:
        """Every value of theirs a scan looks for."""
        return [self.first_name, self.family_name, self.email, self.phone, self.street, self.city, self.postcode]

    def jsonld(self, node: str = "_:buyer") -> dict:
        """The Person node a checkout payload describes them with (DFC terms)."""
        return {"@id": node, "@type": "dfc-b:Person", "dfc-b:firstName": self.first_name,
                "dfc-b:familyName": self.family_name, "dfc-b:email": self.email,
                "dfc-b:hasPhoneNumber": {"@type": "dfc-b:PhoneNumber", "dfc-b:phoneNumber": self.phone},
                "dfc-b:hasAddress": {"@type": "dfc-b:Address", "dfc-b:street": self.street,
                                     "dfc-b:city": self.city, "dfc-b:postcode": self.postcode}}


ZEPHYRINE = Person("Zéphyrine", "Quarteron-Vasseur", "zephyrine.qv@example.org", "+33 6 47 29 81 53",
                   "17 impasse des Grives-Musiciennes", "Saint-Aubin-des-Ormeaux", "F-85473")
BARNABE = Person("Barnabé", "Oudinot-Ferrandière", "b.oudinot@example.net", "+44 7700 900 418",
                 "9 Wrenfield Crescent", "Little Haddenbury", "HD7 4QX")


def spellings(value: str) -> set[str]:
    """The forms a value may take on the way out, lower-cased."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
             json.dumps(value, ensure_ascii=False)[1:-1]}
    digits = re.sub(r"\D", "", value)
    if value.startswith("+") and len(digits) >= 10:    # a phone number, however it is grouped,
        forms |= {digits, digits[-9:]}                  # and without its country code (06…, 07700…)
    return {f.lower() for f in forms if f}


def findings(out: str | bytes, person: Person | Iterable[str]) -> list[str]:
    """Each value of the person's found in `out`, with the text around it."""
    text = out.decode("utf-8", "replace") if isinstance(out, (bytes, bytearray)) else str(out)
    lowered = text.lower()
    flat = re.sub(r"[\s.\-()]", "", lowered)      # a phone number split by spaces, dots or dashes
    values = person.values() if isinstance(person, Person) else list(person)
    found = []
    for value in values:
        for form in sorted(spellings(value)):
            where = lowered.find(form)
            if where < 0 and form.isdigit():
                where = flat.find(form)
                haystack = flat
            else:
                haystack = lowered
            if where >= 0:
                found.append(f"{value!r} (as {form!r}): …{haystack[max(0, where - 60):where + len(form) + 60]}…")
                break
    return found


def assert_no_personal_data(out: str | bytes, person: Person | Iterable[str], where: str = "the output") -> None:
    """Fail, naming what was found, if `out` carries any of the person's personal data."""
    found = findings(out, person)
    assert not found, f"{where} carries personal data:\n" + "\n".join(found)


def checkout_by(client, token, person: Person, *lines, hub: str = "hub-a", session: str = "week-48",
                note: str | None = None, buyer: str = "_:buyer", **headers):
    """Post (Flask test `client`) a Held checkout at a hub's session by `person`, described in
    full; lines are (offer IRI, quantity[, more terms of the line]); `note` becomes the order's
    dfc-b:description."""
    base = client.application.config["SETTINGS"].public_base_url
    hub_iri = f"{base}/api/dfc/enterprises/{hub}"
    order = {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": buyer, "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:belongsTo": f"{hub_iri}/sale_sessions/{session}",
             "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": q, "dfc-b:concerns": o,
                                **(more[0] if more else {})}
                               for o, q, *more in (lines or [(f"{hub_iri}/offers/jean-carrots", 1)])]}
    if note is not None:
        order["dfc-b:description"] = note
    doc = {"@context": "https://www.datafoodconsortium.org", "@graph": [order, person.jsonld(buyer)]}
    return client.post(f"/api/dfc/enterprises/{hub}/orders", headers={**token, **headers},
                       data=json.dumps(doc), content_type="application/ld+json")


# Every literal of any graph that contains a value, whatever its case: the erasure check.
_SCAN = "SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isLiteral(?o) && CONTAINS(LCASE(STR(?o)), ?needle)) }"


def stored(store, person: Person | Iterable[str]) -> set[tuple[str, str]]:
    """(value, graph) for each of the person's values that a literal of any graph of the store
    contains: a SPARQL scan over everything the store holds, not the analyst view."""
    values = person.values() if isinstance(person, Person) else list(person)
    return {(value, row["g"].value) for value in values for row in store.select(_SCAN, {"needle": value.lower()})}
