"""Our vocabulary (ontology/hub.ttl) declares, with a comment, every term the server writes."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from app.namespaces import HUB, RDFS, T

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology" / "hub.ttl"


def test_every_hub_term_the_code_uses_is_declared_with_a_comment():
    store = ox.Store()
    store.load(ONTOLOGY.read_bytes(), format=ox.RdfFormat.TURTLE)
    used = {term for term in vars(T).values() if isinstance(term, ox.NamedNode) and term.value.startswith(HUB)}
    assert used, "T names our terms"
    for term in used:
        comments = list(store.quads_for_pattern(term, ox.NamedNode(RDFS + "comment"), None))
        assert comments and comments[0].object.value.strip(), f"{term.value} has no rdfs:comment"
