"""Who is a person: the buyers whose details belong in a person's graph, never in an order.

A checkout's buyer is an enterprise only when it is named as one: by an IRI typed
`dfc-b:Enterprise` (and no person type), or by one of this server's enterprise IRIs. Any
other buyer the payload says anything about, in any vocabulary, is a person: a list of the
terms people are described with would miss the next vocabulary (a `foaf:mbox`, a
`schema:telephone` once stayed in the order, reached analysts and escaped erasure). So are
buyers named by an IRI that says who they are (`mailto:`, `tel:`) or that lies in an
enterprise's persons' collection here, described or not.
"""
from __future__ import annotations

import re

from pyoxigraph import NamedNode

from app.domain import documents as docs
from app.namespaces import FOAF, RDF_TYPE, SCHEMA, SCHEMA_HTTPS, VCARD, W3C_PERSON, T

# Classes of people in the vocabularies platforms use: a node typed so is a person, whatever
# else it is typed (a sole trader sent as Person and Enterprise keeps their details private).
PERSON_TYPES = frozenset({T.Person, NamedNode(FOAF + "Person"), NamedNode(SCHEMA + "Person"),
                          NamedNode(SCHEMA_HTTPS + "Person"), NamedNode(VCARD + "Individual"),
                          NamedNode(W3C_PERSON + "Person")})
# IRI schemes that are a person's contact, not an identifier of an enterprise.
CONTACT_SCHEMES = ("mailto:", "tel:")
PERSONS = "persons"      # the collection under an enterprise that holds its customers
# What follows `{hub}/persons/` in a person IRI the server mints or accepts back.
PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_person(triples, node, ns: docs.Namespace, base_url: str) -> bool:
    """Tell whether an order's buyer is a person the payload describes or names.

    This hub's own person IRI sent alone (a returning customer named by IRI) is not: the order
    book finds that person in the store, and keeps what it holds of them. Any other IRI in a
    persons' collection (another hub's, a placeholder, one no person could have) is.
    """
    if node is None:
        return False
    about = [t for t in triples if t.subject == node]
    types = {t.object for t in about if t.predicate == RDF_TYPE}
    if types & PERSON_TYPES:
        return True
    if isinstance(node, NamedNode):
        if node.value.lower().startswith(CONTACT_SCHEMES) or is_persons_iri(node, base_url):
            return bool(about) or person_iri(node, ns, base_url) is None
        if T.Enterprise in types or is_enterprise_iri(node, base_url):
            return False
    return bool(about)


def is_persons_iri(node, base_url: str) -> bool:
    """Tell whether an IRI lies in some enterprise's persons' collection on this server."""
    if not isinstance(node, NamedNode) or docs.enterprise_of(node.value, base_url) is None:
        return False
    parts = node.value[len(base_url + "/api/dfc/"):].split("/")    # enterprises/{eid}/persons…
    return len(parts) > 2 and parts[2] == PERSONS


def is_enterprise_iri(node: NamedNode, base_url: str) -> bool:
    """One of this server's enterprise IRIs (either spelling), nothing below it."""
    eid = docs.enterprise_of(node.value, base_url)
    return eid is not None and node.value in docs.Namespace(base_url, eid).iris


def person_iri(node, ns: docs.Namespace, base_url: str) -> NamedNode | None:
    """The IRI as the server gives persons (`{hub}/persons/{id}`, nothing deeper), or None.

    Any other IRI a client gives a person (a catalogue item, another customer's order) is
    pseudonymised instead: writing the person there would replace that document (issue 9).
    """
    if not isinstance(node, NamedNode):
        return None
    for spelling in docs.variants(node.value, base_url):
        head, _, pid = spelling.rpartition("/")
        if head == ns.iri + "/" + PERSONS and PERSON_ID.fullmatch(pid):
            return NamedNode(spelling)
    return None
