"""open_dataset: the store as an rdflib Dataset answered by Oxigraph, embedded and remote."""
from __future__ import annotations

import pytest
import rdflib
from rdflib.query import Result

from app.cli import FIXTURES
from app.runtime.loading import load_files
from app.store import open_store
from app.store.dataset import open_dataset
from conftest import BASE
from support.oxigraph_server import running_oxigraph

STOCK = """
PREFIX dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#>
SELECT ?stock WHERE { GRAPH ?g { ?item a dfc-b:CatalogItem ; dfc-b:stockLimitation ?stock } FILTER(CONTAINS(STR(?item), "carrots")) }
"""
CARROTS = f"{BASE}/api/dfc/enterprises/jean-farm/catalog_items/carrots"


def demo_store(spec: str):
    store = open_store(spec)
    load_files(store, sorted((FIXTURES / "demo").glob("*.json")), BASE + "/api/dfc/")
    return store


def test_a_read_only_dataset_queries_in_oxigraph_and_refuses_writes(tmp_path):
    demo_store(f"oxigraph:{tmp_path / 'store'}").close()          # the server stopped
    ds = open_dataset(f"oxigraph:{tmp_path / 'store'}")
    try:
        result = ds.query(STOCK)
        # rdflib's own engine would answer a SPARQLResult: this one came from Oxigraph.
        assert type(result) is Result
        assert [int(row.stock) for row in result] == [10]
        graph = rdflib.Graph(store=ds.store, identifier=rdflib.URIRef(CARROTS))     # one document
        assert (rdflib.URIRef(CARROTS), rdflib.RDF.type, None) in graph
        with pytest.raises(RuntimeError):
            ds.add((rdflib.URIRef("urn:x:s"), rdflib.URIRef("urn:x:p"), rdflib.Literal(1), graph))
    finally:
        ds.close()


def test_a_writable_dataset_writes_the_store(tmp_path):
    demo_store(f"oxigraph:{tmp_path / 'store'}").close()
    ds = open_dataset(f"oxigraph:{tmp_path / 'store'}", writable=True)
    ds.update("INSERT DATA { GRAPH <urn:x:notes> { <urn:x:s> <urn:x:says> 'hi' } }")
    notes = rdflib.Graph(store=ds.store, identifier=rdflib.URIRef("urn:x:notes"))
    notes.add((rdflib.URIRef("urn:x:s"), rdflib.URIRef("urn:x:says"), rdflib.Literal("again")))
    ds.close()
    store = open_store(f"oxigraph:{tmp_path / 'store'}")
    try:
        assert store.ask("ASK { GRAPH <urn:x:notes> { ?s ?p 'hi', 'again' } }")
    finally:
        store.close()


def test_a_remote_store_is_a_dataset_too(tmp_path):
    with running_oxigraph(tmp_path) as url:
        demo_store(f"sparql:{url}").close()
        ds = open_dataset(f"sparql:{url}")
        try:
            assert [int(row.stock) for row in ds.query(STOCK)] == [10]
        finally:
            ds.close()


def test_other_specs_are_refused():
    for spec in ("memory:", "oxigraph:", "sparql:ftp://x", "data/store"):
        with pytest.raises(ValueError, match="oxigraph:PATH or sparql:URL"):
            open_dataset(spec)
