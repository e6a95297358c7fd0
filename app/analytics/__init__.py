"""Read-only SPARQL for analysts, over the anonymised dataset (API.md `/sparql`).

The dataset is allowed, never filtered after the fact: each query runs with its default graph
and its named graphs both set to graphs from `analyst_graphs.rq` (resource documents of the
kinds app/domain/policy.py lists for analysts, with no person in them, customers' orders only
when every statement is one app/domain/personal.py allows), computed afresh for
each query from the very state the query reads (the store's `reader()`: an embedded store's
snapshot), so a document that starts to describe a person drops out at once. Setting both
replaces whatever the query's FROM / FROM NAMED say, on both backends; those clauses, and the
protocol's `default-graph-uri` / `named-graph-uri`, can only narrow the dataset to the allowed
graphs they name. Everyone, the admin included, gets this view: the endpoint never answers
with a person's triples.

Cost, measured with 10,000 customer orders and their 10,000 persons: listing the allowed graphs
takes about 0.48 s in memory, 0.74 s on disk, since every statement of every customer order is
checked against the allowed ones (0.21 s and 0.23 s without that check, in the same runs);
restricting an embedded query to them adds ~0.03 s; a remote server receives both
lists in a form body (20,000 graph names: ~2.4 MB, ~0.9 s). The list is kept for the snapshot
it was computed from, which never changes, so the queries that read the same snapshot (every one
until the next write) share it; a list kept any longer could still hold a document that has
since started to describe a person. A remote store has no snapshot: each query lists afresh.
An embedded query runs in a worker process over a snapshot (app/store/snapshots.py): with the
demo data, 2–3 ms a query while the snapshot is current, 70–90 ms for the first query after a
write (the checkpoint, taken under the write lock, and the worker opening it); the same query
in-process took 0.1 ms, but could not be stopped.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pyoxigraph as ox
from pyoxigraph import NamedNode

from app import queries
from app.analytics.runner import QueryRunner
from app.analytics.text import QueryText, read_query
from app.config import Settings
from app.domain import personal, policy
from app.errors import NotAcceptable
from app.rdf.render import keep_carriage_returns, to_jsonld, to_ntriples, to_rdfxml, to_turtle, \
    xml_character_outside
from app.store import Store
from app.store.base import N_TRIPLES, RESULT_FORMATS

__all__ = ["Analytics", "Dataset", "QueryText", "read_query", "RESULT_MEDIA", "GRAPH_MEDIA"]

# Media types an analyst may ask for, the default first.
RESULT_MEDIA = RESULT_FORMATS
GRAPH_MEDIA = {"text/turtle": to_turtle, "application/ld+json": to_jsonld, N_TRIPLES: to_ntriples,
               "application/rdf+xml": to_rdfxml}
XML_RESULTS = "application/sparql-results+xml"
# Always in both lists: the SPARQL protocol reads empty lists as "no restriction". Never written.
NOTHING = NamedNode("urn:x-dfc-hub:analytics:no-graph")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """The graphs one query asks for, by IRI (None: every allowed graph); only the allowed ones
    among them are read, resolved when the query runs."""
    default: tuple[str, ...] | None
    named: tuple[str, ...] | None


def dataset_bindings(api: str) -> dict:
    """What analyst_graphs.rq is bound to: the kinds analysts read (app/domain/policy.py), and
    what is a person's or may be shown of a customer's order (app/domain/personal.py)."""
    return {"api": api, "types": list(policy.ANALYST_TYPES),
            "personTypes": sorted(personal.PERSON_TYPES, key=lambda t: t.value),
            "allowed": personal.customer_order_rows(), "anIRI": personal.IRI, "aNode": personal.NODE,
            "contact": personal.CONTACT_PATTERN}


class Analytics:
    """Runs analysts' queries against one store, within the settings' limits."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.api = settings.public_base_url + "/api/dfc/"
        self.runner = QueryRunner(settings.sparql_timeout_seconds, settings.sparql_max_queries,
                                  settings.sparql_max_result_bytes)
        self._kept: tuple[str, list[NamedNode]] | None = None     # (snapshot, its allowed graphs)

    def allowed_graphs(self, reader=None) -> list[NamedNode]:
        """The graphs of the anonymised dataset, now (as `reader` sees the store, if given)."""
        state = getattr(reader, "state", None)
        kept = self._kept
        if state is not None and kept is not None and kept[0] == state:
            return kept[1]
        rows = (reader or self.store).select(queries.load("analyst_graphs"), dataset_bindings(self.api))
        graphs = [r["g"] for r in rows]
        if state is not None:
            self._kept = (state, graphs)
        return graphs

    def dataset(self, query: QueryText, default_uris: Sequence[str] = (),
                named_uris: Sequence[str] = ()) -> Dataset:
        """The dataset of one query: what the protocol's parameters, else its FROM clauses, name;
        everything allowed when neither names any."""
        if default_uris or named_uris:
            return Dataset(tuple(default_uris), tuple(named_uris))
        if query.names_dataset:
            return Dataset(query.from_graphs, query.from_named)
        return Dataset(None, None)

    def run(self, query: QueryText, media_type: str, dataset: Dataset, family: str = "1.x") -> bytes:
        """Run a query over `dataset`; return its results serialised as `media_type`."""
        raw = N_TRIPLES if query.returns_graph else media_type
        body = self.runner.run(lambda out: self._answer(query, raw, dataset, out))
        if media_type == XML_RESULTS:
            return _well_formed(body)
        if not query.returns_graph:
            return body
        triples = [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        return GRAPH_MEDIA[media_type](triples, family)

    def _answer(self, query: QueryText, media_type: str, dataset: Dataset, out) -> None:
        with self.store.reader(self.runner.max_bytes) as reader:
            out.stop_with(reader.cancel)
            default, named = self._resolve(dataset, self.allowed_graphs(reader))
            reader.query_to(query.text, default, named, media_type, out, self.runner.timeout)

    @staticmethod
    def _resolve(dataset: Dataset, allowed: list[NamedNode]):
        """The default and named graphs to read: the allowed ones the dataset names."""
        if dataset.default is None and dataset.named is None:
            return (*allowed, NOTHING), (*allowed, NOTHING)
        names = {g.value: g for g in allowed}
        default, named = ([names[u] for u in dict.fromkeys(uris or ()) if u in names]
                          for uris in (dataset.default, dataset.named))
        return (*default, NOTHING), (*named, NOTHING)

    def close(self) -> None:
        self.runner.close()


def _well_formed(body: bytes) -> bytes:
    """Results as XML only when an XML parser can read them back whole (pyoxigraph's writer
    copies a literal's characters as they are); else a 406 naming the formats that can."""
    bad = xml_character_outside(body)
    if bad is not None:
        others = [m for m in RESULT_MEDIA if m != XML_RESULTS]
        raise NotAcceptable(f"these results hold {bad}, a character XML 1.0 cannot carry, escaped or not: "
                            f"ask for {', '.join(others)}", available=others)
    return keep_carriage_returns(body)
