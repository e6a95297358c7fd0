"""ontology/hub.ttl is the one source of our terms: the code's lists and our context agree with it.

Which terms only the server writes, which a PUT keeps and each term's datatype are annotated in
hub.ttl (app/rdf/vocabulary.py reads them). What is derived from it cannot drift; what is not (the
ledger's terms, the session close, our JSON-LD context) is checked here against it, and each
check is shown to fail on a vocabulary that says otherwise.
"""
from __future__ import annotations

from importlib import resources

import pyoxigraph as ox
import pytest
from pyoxigraph import NamedNode

from app.rdf import vocabulary
from app.domain import stock, order_documents as orders
from app.catalog import prices
from app.namespaces import HUB, RDFS, XSD, T, hub
from app.rdf import answer_context
from app.rdf.normalise import BOOLEANS, DATES, NUMERIC, OBJECT_PROPERTIES
from app.rdf.contexts import local_context

HUB_TTL = resources.files("app.ontology").joinpath("hub.ttl").read_bytes()
# Our object properties whose values no answer writes as an IRI of their own: an idempotent
# answer's location is bookkeeping, never served; a summary's rows are blank nodes it embeds;
# a remote store's lock graphs (fences, commit markers) are never in any answer; nor are a
# delivery batch's entries, blank nodes.
NOT_REFERENCES = {hub("location"), hub("row"), hub("fences"), hub("wrote"), hub("delivered")}


def handled() -> dict[NamedNode, frozenset[NamedNode]]:
    """Where the code keeps a client's value of a server-written term out, by kind of document."""
    return {
        T.Order: orders.SERVER_TERMS,                                # dropped from what is sent
        T.CatalogItem: frozenset(stock.LEDGER) - {T.onHand},         # recomputed by stock.restock
        T.SaleSession: frozenset({T.closedAt}),                      # carried over by carry_over
    }


def used_lists() -> dict:
    """The lists the normalisation and our answers' context read, as the code has them."""
    return {
        "references": OBJECT_PROPERTIES & answer_context.reference_terms(),
        "literals": {XSD + "decimal": NUMERIC, XSD + "dateTime": DATES,
                     XSD + "boolean": BOOLEANS},
        "typed": answer_context.typed_terms(),
        "handled": handled(),
        "kept_on_put": frozenset(orders.KEPT_ON_PUT),
        "context_references": {NamedNode(iri) for iri in OBJECT_PROPERTIES if iri.startswith(HUB)},
    }


def disagreements(vocab: vocabulary.Vocabulary, references, literals, typed, handled, kept_on_put,
                  context_references) -> list[str]:
    """Every way the code's lists and the vocabulary disagree, in words."""
    problems = []
    for kind in vocab.server_written_kinds() - handled.keys():
        problems.append(f"no code keeps clients' values of server-written terms out of {kind.value}")
    for kind, terms in handled.items():
        written = vocab.server_written(kind)
        problems += [f"{t.value} is server-written in {kind.value} but the code lets a client's value in"
                     for t in written - terms]
        problems += [f"the code treats {t.value} as server-written in {kind.value}; hub.ttl does not say so"
                     for t in terms - written]
    problems += [f"{t.value}: kept on PUT in the code, not annotated hub:keptOnPut"
                 for t in kept_on_put - vocab.kept_on_put()]
    problems += [f"{t.value}: annotated hub:keptOnPut, not kept on PUT by the code"
                 for t in vocab.kept_on_put() - kept_on_put]
    problems += [f"{t.value}: kept on PUT but not server-written in orders"
                 for t in vocab.kept_on_put() - vocab.server_written(T.Order)]
    for kind in vocab.server_written_kinds():
        for term in vocab.server_written(kind):
            problems += _read_as_declared(vocab, term, references, literals, typed)
    for datatype, listed in literals.items():
        ours = {t for t in listed if t.startswith(HUB)}
        problems += [f"{t} is read as {datatype} by the normalisation; hub.ttl gives it no such range"
                     for t in ours - vocab.with_range(datatype, stored=True)]
    problems += [f"our context types {t} as {d}; hub.ttl does not" for t, d in typed.items()
                 if t.startswith(HUB) and t not in vocab.with_range(d)]
    declared = vocab.declared("ObjectProperty")
    problems += [f"our context reads {t.value} as a reference; hub.ttl declares no such object property"
                 for t in context_references - declared]
    problems += [f"{t.value} is an object property of ours that our context does not read as a reference"
                 for t in declared - context_references - NOT_REFERENCES]
    return problems


def _read_as_declared(vocab, term, references, literals, typed) -> list[str]:
    """How normalisation and our context read a server-written term, against its declaration."""
    datatype = vocab.range_of(term)
    if datatype is None or not datatype.startswith(XSD):
        if term in vocab.declared("DatatypeProperty"):
            return [f"{term.value} is a datatype property with no XSD rdfs:range"]
        return [] if term.value in references else [f"{term.value} is not read as a reference"]
    out = []
    if datatype not in literals:
        out.append(f"{term.value}: no normalisation for its datatype {datatype}")
    elif term.value not in literals[datatype]:
        out.append(f"{term.value} is not normalised as {datatype}")
    if datatype in (XSD + "decimal", XSD + "dateTime") and typed.get(term.value) != datatype:
        out.append(f"our context does not type {term.value} as {datatype}")
    return out


def test_the_code_and_the_context_agree_with_hub_ttl():
    assert disagreements(vocabulary.OURS, **used_lists()) == []


def test_the_order_rules_drop_what_hub_ttl_says_the_server_writes_in_orders():
    assert {T.stockItem, T.wholesaleLine, T.customerOrder, T.consolidated, T.soldBy, T.partOf,
            T.forCustomerOrder, T.contribution, T.ordered} <= orders.SERVER_TERMS
    lines = {prices.catalogPrice, prices.priceSource, prices.confirmedPrice}
    assert set(orders.KEPT_ON_PUT) == {T.consolidated, T.forCustomerOrder, T.statusChange, T.hasDelivery,
                                       T.deliveryMode} | lines
    assert prices.KEPT_ON_LINES == lines and lines <= orders.SERVER_TERMS   # kept on lines, not the order
    assert T.onHand not in orders.SERVER_TERMS      # the producer writes its stock


def _with(extra: str, *, without: str = "") -> vocabulary.Vocabulary:
    text = HUB_TTL.decode()
    if without:
        assert without in text
        text = text.replace(without, "")
    return vocabulary.Vocabulary.parse((text + extra).encode())


@pytest.mark.parametrize("extra, named", [
    ("hub:newLink a owl:ObjectProperty ; hub:serverWritten dfc-b:Order ; rdfs:range dfc-b:Offer .",
     ["lets a client's value in", "not read as a reference", "our context does not read"]),
    ("hub:newAmount a owl:DatatypeProperty ; hub:serverWritten dfc-b:CatalogItem ; rdfs:range xsd:decimal .",
     ["lets a client's value in", "not normalised as", "our context does not type"]),
    ("hub:newWhen a owl:DatatypeProperty ; hub:serverWritten dfc-b:Order .", ["no XSD rdfs:range"]),
    ("hub:newFlag a owl:DatatypeProperty ; hub:serverWritten dfc-b:Enterprise ; rdfs:range xsd:boolean .",
     ["no code keeps clients' values"]),
])
def test_a_server_written_term_added_to_hub_ttl_alone_is_named(extra, named):
    problems = disagreements(_with("\n" + extra + "\n"), **used_lists())
    for words in named:
        assert any(words in p for p in problems), (words, problems)


@pytest.mark.parametrize("without, named", [
    ("hub:keptOnPut true ;", "not annotated hub:keptOnPut"),
    ("hub:serverWritten dfc-b:CatalogItem ;", "hub.ttl does not say so"),
    ("dfc-b:partOf hub:serverWritten dfc-b:Order .", "hub.ttl does not say so"),
    ("rdfs:range xsd:dateTime ;", "hub.ttl does not"),
])
def test_a_constant_naming_a_term_hub_ttl_does_not_annotate_is_named(without, named):
    problems = disagreements(_with("", without=without), **used_lists())
    assert any(named in p for p in problems), problems


def test_every_annotation_hub_ttl_uses_is_declared_there_with_a_comment():
    store = ox.Store()
    store.load(HUB_TTL, format=ox.RdfFormat.TURTLE)
    for term in (vocabulary.SERVER_WRITTEN, vocabulary.KEPT_ON_PUT, vocabulary.ANSWER_ONLY):
        assert term in vocabulary.OURS.declared("AnnotationProperty")
        assert list(store.quads_for_pattern(term, NamedNode(RDFS + "comment"), None)), term
    used = {q.predicate for q in store if q.predicate.value.startswith(HUB)}
    assert used <= vocabulary.OURS.declared("AnnotationProperty"), "hub.ttl uses an undeclared hub: annotation"


def test_every_hub_term_the_code_names_is_declared_in_hub_ttl():
    named = {t for t in vars(T).values() if isinstance(t, NamedNode) and t.value.startswith(HUB)}
    assert named and named <= vocabulary.OURS.declared()
    assert {NamedNode(t) for t in NUMERIC | DATES | BOOLEANS
            if t.startswith(HUB)} <= vocabulary.OURS.declared("DatatypeProperty")


@pytest.mark.parametrize("family", ["1.x", "2.0"])
def test_our_served_context_types_every_numeric_and_date_term_of_ours(family):
    ctx = answer_context.served(family)
    for datatype, short in ((XSD + "decimal", "xsd:decimal"), (XSD + "dateTime", "xsd:dateTime")):
        ours = vocabulary.OURS.with_range(datatype)
        assert ours
        for iri in ours:
            assert ctx["hub:" + iri[len(HUB):]] == {"@type": short}
    # Summary totals are typed for readers, but are not normalised: nothing stores them.
    assert HUB + "orderedQuantity" in answer_context.typed_terms()
    assert HUB + "orderedQuantity" not in NUMERIC
    assert local_context(family)["hub"] == HUB


def test_what_analysts_may_read_of_a_customer_order_agrees_with_hub_ttl():
    """Each of our terms a customer's order may hold and still reach analysts (app/domain/
    personal.py) is declared, with values of the kind its range says: a datatype property's
    literals (a string only as exact values), an object property's IRIs or blank nodes."""
    from pyoxigraph import Literal

    from app.domain import personal
    kinds = {XSD + "decimal": personal.NUMBER, XSD + "dateTime": personal.INSTANT, XSD + "date": personal.DAY,
             XSD + "boolean": personal.BOOLEAN}
    ours = {t: k for t, k in personal.CUSTOMER_ORDER_TERMS.items() if t.value.startswith(HUB)}
    assert ours and set(ours) <= vocabulary.OURS.declared()
    for term, allowed in ours.items():
        datatype = vocabulary.OURS.range_of(term)
        if term in vocabulary.OURS.declared("DatatypeProperty"):
            expected = {Literal} if datatype == XSD + "string" else {kinds[datatype]}
            assert {type(k) if isinstance(k, Literal) else k for k in allowed} == expected, term
        else:
            assert set(allowed) <= {personal.IRI, personal.NODE}, term
