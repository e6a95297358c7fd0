"""The fast prescreen never lets through what pyshacl would refuse (app/validation/prescreen.py).

It may say "ask pyshacl" for a payload that conforms (that costs time only), never "surely
conforms" for one that does not: checked on every real payload and on broken variants of them.
"""
from __future__ import annotations

import random

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.rdf import read_payload
from app.validation import default_validator
from conftest import CONFORMANCE

XSD = "http://www.w3.org/2001/XMLSchema#"
FILES = sorted(p for p in CONFORMANCE.rglob("*.json")) if CONFORMANCE.is_dir() else []


def payload(path):
    try:
        return read_payload(path.read_bytes(), "application/ld+json", "http://payload.invalid/").triples
    except Exception:   # the corpus has a few payloads the reader refuses; nothing to screen
        return None


def variants(triples, rnd: random.Random, count: int):
    """Broken copies: a triple dropped, a value of the wrong kind, a number out of range."""
    swaps = [Literal("not a number"), Literal("-1", datatype=NamedNode(XSD + "decimal")),
             Literal("12", datatype=NamedNode(XSD + "integer")), NamedNode("http://payload.invalid/x"),
             BlankNode(), Literal("2024-13-45T99:00:00", datatype=NamedNode(XSD + "dateTime"))]
    for _ in range(count):
        i = rnd.randrange(len(triples))
        if rnd.random() < 0.4:
            yield triples[:i] + triples[i + 1:]
        else:
            t = triples[i]
            yield triples[:i] + [Triple(t.subject, t.predicate, rnd.choice(swaps))] + triples[i + 1:]


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_prescreen_agrees_with_pyshacl(shared, path):
    triples = payload(path)
    if triples is None:
        pytest.skip("the reader refuses this payload before validation")
    validator = default_validator()
    assert validator.surely_conforms(triples) == validator.validate(triples).conforms
    rnd = random.Random(path.name)
    for broken in variants(triples, rnd, 12):
        if validator.surely_conforms(broken):
            assert validator.validate(broken).conforms, "the prescreen let a violation through"


def test_a_violation_is_never_screened_through():
    line, qv = NamedNode("http://x.test/l"), BlankNode()
    b = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
    base = [Triple(line, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), NamedNode(b + "OrderLine")),
            Triple(line, NamedNode(b + "concerns"), NamedNode("http://x.test/o")),
            Triple(line, NamedNode(b + "hasQuantity"), qv),
            Triple(qv, NamedNode(b + "value"), Literal("-2", datatype=NamedNode(XSD + "decimal")))]
    validator = default_validator()
    assert not validator.validate(base).conforms and not validator.surely_conforms(base)


@pytest.mark.parametrize("term", ["quantity", "concerns", "hasPrice"])
def test_a_term_stated_twice_is_never_screened_through(term):
    """Two quantities (issue 9) once reserved one and released the other: maxCount must hold."""
    b = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
    line = NamedNode("http://x.test/l")
    twice = {"quantity": [Literal("1", datatype=NamedNode(XSD + "decimal")),
                          Literal("5", datatype=NamedNode(XSD + "decimal"))],
             "concerns": [NamedNode("http://x.test/o1"), NamedNode("http://x.test/o2")],
             "hasPrice": [BlankNode(), BlankNode()]}[term]
    triples = [Triple(line, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), NamedNode(b + "OrderLine")),
               Triple(line, NamedNode(b + "quantity"), Literal("1", datatype=NamedNode(XSD + "decimal")))]
    if term != "concerns":
        triples.append(Triple(line, NamedNode(b + "concerns"), NamedNode("http://x.test/o")))
    triples = [t for t in triples if not (term == "quantity" and t.predicate.value.endswith("#quantity"))]
    triples += [Triple(line, NamedNode(b + term), value) for value in twice]
    validator = default_validator()
    assert not validator.surely_conforms(triples)
    report = validator.validate(triples)
    assert any(v["path"] == b + term for v in report.violations)
