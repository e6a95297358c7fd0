"""Golden tests of the SPARQL the code builds (not loaded from app/queries)."""
from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.store.updates import graphs_query, replace_graphs_update

G1, G2 = NamedNode("http://hub.test/a"), NamedNode("http://hub.test/b")
P = NamedNode("http://hub.test/p")


def test_graphs_query_golden():
    assert graphs_query([G1, G2]) == (
        "CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?g { <http://hub.test/a> <http://hub.test/b> } "
        "GRAPH ?g { ?s ?p ?o } }")
    assert graphs_query([]) == ""


def test_replace_graphs_update_golden():
    text = replace_graphs_update({G1: [Triple(G1, P, Literal('say "hi"\n} ; DROP ALL'))],
                                  G2: [Triple(G2, P, BlankNode("b0"))]}, remove=[NamedNode("http://hub.test/c")])
    assert text == (
        "DROP SILENT GRAPH <http://hub.test/a> ;\n"
        "DROP SILENT GRAPH <http://hub.test/b> ;\n"
        "DROP SILENT GRAPH <http://hub.test/c> ;\n"
        "INSERT DATA {\n"
        "GRAPH <http://hub.test/a> {\n"
        '<http://hub.test/a> <http://hub.test/p> "say \\"hi\\"\\n} ; DROP ALL" .\n'
        "}\n"
        "GRAPH <http://hub.test/b> {\n"
        "<http://hub.test/b> <http://hub.test/p> _:b0 .\n"
        "}\n"
        "}")
    assert replace_graphs_update({}) == ""


def test_replace_graphs_update_by_difference_golden():
    old = [Triple(G1, P, Literal("1")), Triple(G1, P, Literal("keep"))]
    new = [Triple(G1, P, Literal("keep")), Triple(G1, P, Literal("2"))]
    text = replace_graphs_update({G1: new, G2: [Triple(G2, P, Literal("x"))]}, current={G1: old, G2: []})
    assert text == (
        "DELETE DATA {\n"
        "GRAPH <http://hub.test/a> {\n"
        '<http://hub.test/a> <http://hub.test/p> "1" .\n'
        "}\n"
        "} ;\n"
        "INSERT DATA {\n"
        "GRAPH <http://hub.test/a> {\n"
        '<http://hub.test/a> <http://hub.test/p> "2" .\n'
        "}\n"
        "GRAPH <http://hub.test/b> {\n"
        '<http://hub.test/b> <http://hub.test/p> "x" .\n'
        "}\n"
        "}")


def test_replace_graphs_update_changes_a_blank_node_in_place_golden():
    """A quantity node's value changes through the statement pointing at it; the rest is untouched."""
    qv = BlankNode("qv")
    old = [Triple(G1, P, qv), Triple(qv, P, Literal("3"))]
    text = replace_graphs_update({G1: [Triple(G1, P, qv), Triple(qv, P, Literal("5"))]}, current={G1: old})
    assert text == (
        "DELETE { GRAPH <http://hub.test/a> {\n?blank0 <http://hub.test/p> \"3\" .\n} }\n"
        "INSERT { GRAPH <http://hub.test/a> {\n?blank0 <http://hub.test/p> \"5\" .\n} }\n"
        "WHERE { GRAPH <http://hub.test/a> { <http://hub.test/a> <http://hub.test/p> ?blank0 } }")
    shared = [Triple(G1, P, qv), Triple(G2, P, qv), Triple(qv, P, Literal("3"))]   # pointed at twice
    assert replace_graphs_update({G1: shared[:2] + [Triple(qv, P, Literal("5"))]}, current={G1: shared}) \
        .startswith("DROP SILENT GRAPH <http://hub.test/a> ;")
