"""The store as an rdflib `Dataset` that Oxigraph answers, for analysts' notebooks and scripts.

    from app.store.dataset import open_dataset
    ds = open_dataset("oxigraph:./data/store")     # read-only; no `serve` may be writing it
    for row in ds.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        print(row.g, row.n)
    item = rdflib.Graph(store=ds.store, identifier=rdflib.URIRef(iri))    # one document, read-only

Queries run in Oxigraph's engine, not rdflib's: oxrdflib answers `Dataset.query` itself (a
plain `Graph(store="Oxigraph")` falls back to rdflib's Python engine without a word, ~200 times
slower on updates). The default graph is the union of all documents' graphs, so a pattern
without GRAPH matches in any of them; `GRAPH ?g` still names the document. Every graph is there, persons' included: this is the operator's view, not
the anonymised one `/sparql` gives analysts.
"""
from __future__ import annotations

import pyoxigraph as ox
import rdflib
from oxrdflib import OxigraphStore


def open_dataset(spec: str, writable: bool = False) -> rdflib.Dataset:
    """Open `oxigraph:PATH` or `sparql:URL` as an rdflib Dataset; read-only unless `writable`."""
    kind, _, where = spec.partition(":")
    if kind == "oxigraph" and where:
        # Either open needs the server stopped: a read-only one takes no lock, but RocksDB may
        # delete files under it while another process writes (pyoxigraph calls that undefined).
        # Beside a running server, use its /sparql, or `sparql:` with a shared Oxigraph server.
        store = ox.Store(where) if writable else ox.Store.read_only(where)
        return rdflib.Dataset(store=OxigraphStore(store=store), default_union=True)
    if kind == "sparql" and where.startswith(("http://", "https://")):
        from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
        base = where.rstrip("/")
        store = (SPARQLUpdateStore(f"{base}/query", f"{base}/update") if writable
                 else SPARQLStore(f"{base}/query"))
        return rdflib.Dataset(store=store, default_union=True)
    raise ValueError(f"open_dataset takes oxigraph:PATH or sparql:URL, not {spec!r}")
