"""The store contract: every backend (memory, on-disk Oxigraph, a real `oxigraph serve`) behaves alike."""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple

from app.errors import StoreUnavailable
from app.store import QueryError, open_store
from app.store.embedded import EmbeddedStore
from app.store.remote import RemoteStore
from support import STOCK_GRAPH, STOCK_PROP, read_stock, set_stock, take_in_process, take_many
from support.oxigraph_server import running_oxigraph

EX = "http://example.org/test/"
XSD = "http://www.w3.org/2001/XMLSchema#"
G1, G2, G3 = (NamedNode(f"{EX}graph/{i}") for i in (1, 2, 3))
S, P, Q = NamedNode(EX + "s"), NamedNode(EX + "p"), NamedNode(EX + "q")
NASTY = 'say "hi" } ; DROP ALL ; INSERT DATA { <x> <y> <z> } # ?x $x \\ \n line2\r\ttab é 🥕 \u2028'
INJECTION = '"} ; DROP ALL ; INSERT DATA {'


def nn(local: str) -> NamedNode:
    return NamedNode(EX + local)


def typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + datatype))


def canonical(triples) -> list[str]:
    """Return triples as sorted N-Quads with blank nodes canonically renamed (isomorphism test)."""
    ds = ox.Dataset(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
    ds.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return sorted(str(q) for q in ds)


def all_quads(store) -> list[str]:
    """Every quad of the store, default graph included, as sorted text (blank nodes are per-backend)."""
    rows = store.select("SELECT ?g ?s ?p ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
    return sorted(" ".join(str(r.get(k, "")) for k in ("g", "s", "p", "o")) for r in rows)


def default_graph(store) -> list[str]:
    """The default graph's triples as sorted text."""
    return sorted(str(Triple(r["s"], r["p"], r["o"])) for r in store.select("SELECT * WHERE { ?s ?p ?o }"))


def tricky_triples() -> list[Triple]:
    """Blank nodes, typed and language literals with quotes, newlines and Unicode."""
    b1, b2 = BlankNode(), BlankNode()
    return [
        Triple(S, P, Literal(NASTY)),
        Triple(S, P, Literal(INJECTION)),
        Triple(S, P, Literal('"""\'\'\' ends with a quote"')),
        Triple(S, P, Literal("Möhren 🥕\nzweite Zeile", language="de")),
        Triple(S, P, Literal("carottes", language="fr-be")),
        Triple(S, P, typed("42", "integer")),
        Triple(S, P, typed("-0.5", "decimal")),
        Triple(S, P, typed("2024-08-22T05:40:38+02:00", "dateTime")),
        Triple(S, P, Literal("x", datatype=NamedNode(EX + "custom#type"))),
        Triple(S, P, Literal("")),
        Triple(S, Q, b1),
        Triple(b1, P, b2),
        Triple(b2, P, Literal("deep")),
        Triple(b2, Q, S),
        Triple(NamedNode("http://example.org/ünïcode/path?a=1&b=2#frag"), P, Literal("iri")),
    ]


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def oxigraph_url(tmp_path_factory):
    """One real `oxigraph serve` for this module (tests empty it before use)."""
    with running_oxigraph(tmp_path_factory.mktemp("oxigraph-serve")) as url:
        yield url


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory):
    """One on-disk store for this module (tests empty it before use; opening RocksDB is slow)."""
    store = open_store(f"oxigraph:{tmp_path_factory.mktemp('oxigraph-disk') / 'store'}")
    yield store
    store.close()


@pytest.fixture(params=["memory", "oxigraph", "sparql"])
def store(request):
    """An empty store of each backend."""
    if request.param == "memory":
        s = open_store("memory:")
    elif request.param == "oxigraph":
        s = request.getfixturevalue("disk_store")
    else:
        s = open_store(f"sparql:{request.getfixturevalue('oxigraph_url')}")
    s.update("DROP ALL")
    yield s
    if request.param != "oxigraph":
        s.close()


@pytest.fixture
def filled(store):
    """A store with three named graphs and a default-graph triple."""
    store.update("""INSERT DATA {
        GRAPH ?g1 { ?s ?p "one" . ?s ?q "one-b" }
        GRAPH ?g2 { ?s ?p "two" }
        GRAPH ?g3 { ?s ?p "three" }
        ?s ?p "default"
    }""", {"g1": G1, "g2": G2, "g3": G3, "s": S, "p": P, "q": Q})
    return store


def test_open_store_picks_the_backend():
    assert isinstance(open_store("memory:"), EmbeddedStore)
    remote = open_store("sparql:http://127.0.0.1:9/")
    assert isinstance(remote, RemoteStore)
    assert (remote.query_url, remote.update_url, remote.store_url) == (
        "http://127.0.0.1:9/query", "http://127.0.0.1:9/update", "http://127.0.0.1:9/store")
    for bad in ("postgres://x", "sparql:", "sparql:localhost:7878"):
        with pytest.raises(ValueError):
            open_store(bad)


def test_a_stopped_server_is_gone_and_reported_unavailable(tmp_path):
    with running_oxigraph(tmp_path) as url:
        store = open_store(f"sparql:{url}")
        assert store.ask("ASK {}") is True
    try:
        with pytest.raises(StoreUnavailable):
            store.ask("ASK {}")
        with pytest.raises(StoreUnavailable):
            store.update("INSERT DATA { ?s ?p ?s }", {"s": S, "p": P})
    finally:
        store.close()


# --- replace_graphs -------------------------------------------------------------------------

def test_replace_graphs_replaces_only_the_named_graphs(filled):
    before_g3, before_default = filled.graph(G3), default_graph(filled)
    new = [Triple(S, P, Literal("one, again")), Triple(S, Q, nn("o"))]

    filled.replace_graphs({G1: new}, remove=[G2])

    assert canonical(filled.graph(G1)) == canonical(new)
    assert filled.graph(G2) == []
    assert filled.graph(G3) == before_g3 != []
    assert default_graph(filled) == before_default != []


def test_replace_graphs_given_what_they_hold_writes_the_same_result(filled):
    """With `current`, graphs change by their difference; blank nodes force a whole replace."""
    old_g1, old_g2 = filled.graph(G1), filled.graph(G2)
    qv = BlankNode()
    new_g1 = [*old_g1[1:], Triple(S, Q, nn("added"))]                 # one removed, one added
    new_g2 = [*old_g2, Triple(S, Q, qv), Triple(qv, P, Literal("7"))]  # a new blank node
    new_g4 = [Triple(S, P, Literal("fresh"))]
    filled.replace_graphs({G1: new_g1, G2: new_g2, nn("graph/4"): new_g4},
                          current={G1: old_g1, G2: old_g2, nn("graph/4"): []})
    assert canonical(filled.graph(G1)) == canonical(new_g1)
    assert canonical(filled.graph(G2)) == canonical(new_g2)
    assert canonical(filled.graph(nn("graph/4"))) == canonical(new_g4)
    kept = filled.graph(G2)                                             # now holds a blank node
    changed = [t for t in kept if t.predicate != P or not isinstance(t.subject, BlankNode)]
    changed.append(Triple(next(t.object for t in kept if isinstance(t.object, BlankNode)), P, Literal("8")))
    filled.replace_graphs({G2: changed}, current={G2: kept})
    values = {t.object.value for t in filled.graph(G2) if isinstance(t.subject, BlankNode)}
    assert values == {"8"} and len([t for t in filled.graph(G2) if t.predicate == Q and isinstance(t.object, BlankNode)]) == 1


def test_replace_graphs_with_no_triples_drops_the_graph_and_missing_graphs_are_fine(filled):
    filled.replace_graphs({G1: [], nn("graph/never"): []}, remove=[nn("graph/absent")])
    assert not filled.has_graph(G1)
    assert filled.has_graph(G2)
    filled.replace_graphs({})  # nothing to do, no error


def test_replace_graphs_is_all_or_nothing_when_building_fails(filled):
    before = all_quads(filled)

    def triples_then_failure():
        yield Triple(S, P, Literal("partial"))
        raise RuntimeError("the caller's triples broke half way")

    with pytest.raises(RuntimeError):
        filled.replace_graphs({G1: [Triple(S, P, Literal("new"))], G2: triples_then_failure()}, remove=[G3])
    assert all_quads(filled) == before


def test_an_update_that_fails_to_parse_changes_nothing(filled):
    before = all_quads(filled)
    with pytest.raises(QueryError):
        filled.update("DROP ALL ; INSERT DATA { GRAPH ?g { ?s ?p 'x' } } ; INSERT DATA { oops", {"g": G1, "s": S, "p": P})
    assert all_quads(filled) == before


def test_an_update_whose_last_operation_fails_changes_nothing(filled):
    # DROP and INSERT succeed, then CREATE of an existing graph fails: all three are undone.
    before = all_quads(filled)
    with pytest.raises(QueryError):
        filled.update("DROP GRAPH ?g1 ; INSERT DATA { GRAPH ?g3 { ?s ?p 'added' } } ; CREATE GRAPH ?g2",
                      {"g1": G1, "g2": G2, "g3": G3, "s": S, "p": P})
    assert all_quads(filled) == before


# --- graph, has_graph -----------------------------------------------------------------------

def test_graph_returns_exactly_the_triples_put_there(store):
    triples = tricky_triples()
    store.replace_graphs({G1: triples, G2: [Triple(S, P, Literal("elsewhere"))]})
    got = store.graph(G1)
    assert len(got) == len(triples)
    assert canonical(got) == canonical(triples)
    assert {t.object for t in got if isinstance(t.object, Literal)} >= {Literal(NASTY), Literal(INJECTION)}


def test_graphs_returns_the_union_of_the_named_graphs_only(store):
    third = nn("graph/third")
    store.replace_graphs({G1: tricky_triples(), G2: [Triple(S, P, Literal("two"))],
                          third: [Triple(S, P, Literal("three"))]})
    got = store.graphs([G1, G2, nn("graph/absent")])
    assert canonical(got) == canonical([*tricky_triples(), Triple(S, P, Literal("two"))])
    assert store.graphs([]) == []


def test_graph_of_a_missing_graph_is_empty(store):
    assert store.graph(G1) == []


def test_a_graph_read_back_can_be_written_back(store):
    store.replace_graphs({G1: tricky_triples()})
    store.replace_graphs({G2: store.graph(G1)})
    assert canonical(store.graph(G2)) == canonical(tricky_triples())


def test_has_graph(filled):
    assert filled.has_graph(G1)
    assert not filled.has_graph(nn("graph/absent"))
    filled.replace_graphs({}, remove=[G1])
    assert not filled.has_graph(G1)
    assert not filled.has_graph(nn("default"))  # default-graph triples belong to no named graph


# --- select, ask, construct ---------------------------------------------------------------

def test_select_returns_terms_and_leaves_unbound_variables_out(store):
    b = BlankNode()
    store.add_quads([Quad(S, P, Literal("3", datatype=NamedNode(XSD + "integer")), G1),
                     Quad(nn("t"), P, Literal("chou", language="fr"), G1),
                     Quad(nn("t"), Q, b, G1)])
    rows = store.select("""SELECT ?s ?o ?extra WHERE {
        GRAPH ?g { ?s ?p ?o OPTIONAL { ?s ?q ?extra } } } ORDER BY ?s""",
                        {"g": G1, "p": P, "q": Q})
    assert len(rows) == 2
    assert rows[0] == {"s": S, "o": typed("3", "integer")}
    assert rows[1]["s"] == nn("t")
    assert rows[1]["o"] == Literal("chou", language="fr")
    assert isinstance(rows[1]["extra"], BlankNode)
    assert store.select("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": G2}) == []


def test_select_gives_back_every_kind_of_term_as_stored(store):
    """Nasty literals, language tags with and without a base direction, custom datatypes, blank
    nodes and triple terms come back equal to what was stored; a blank node read back names the
    same node (the embedded store reads results in one call, not row by row)."""
    rtl = Literal("جزر", language="ar", direction=ox.BaseDirection.RTL)
    triples = [*tricky_triples(), Triple(S, Q, rtl), Triple(nn("r"), P, Triple(S, P, Literal("quoted")))]
    store.add_quads([Quad(t.subject, t.predicate, t.object, G1) for t in triples])
    rows = store.select("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": G1})
    assert canonical(Triple(r["s"], r["p"], r["o"]) for r in rows) == canonical(triples)
    found = next(r["o"] for r in rows if r["s"] == S and r["p"] == Q and isinstance(r["o"], BlankNode))
    assert [t.object for t in store.graph(G1) if t.subject == found and t.predicate == P] != []


def test_select_aggregates(filled):
    rows = filled.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert rows == [{"n": typed("4", "integer")}]  # the default-graph triple is not in a GRAPH


def test_ask(filled):
    assert filled.ask("ASK { GRAPH ?g { ?s ?p 'one' } }", {"g": G1, "s": S, "p": P}) is True
    assert filled.ask("ASK { GRAPH ?g { ?s ?p 'one' } }", {"g": G2, "s": S, "p": P}) is False


def test_construct_returns_the_template_triples(filled):
    triples = filled.construct("CONSTRUCT { ?s ?new ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
                               {"g": G1, "new": nn("copied")})
    assert set(triples) == {Triple(S, nn("copied"), Literal("one")), Triple(S, nn("copied"), Literal("one-b"))}


def test_typed_literals_are_stored_in_their_canonical_form(store):
    # Oxigraph keeps values, not spellings: compare numbers by value, never by lexical form.
    store.add_quads([Quad(S, nn(f"v/{i}"), typed(v, d), G1)
                     for i, (v, d) in enumerate([("1.0", "decimal"), ("007", "integer"), ("1E2", "double"), ("1", "boolean")])])
    got = {t.predicate.value[-1]: t.object for t in store.graph(G1)}
    assert got == {"0": typed("1", "decimal"), "1": typed("7", "integer"),
                   "2": typed("100", "double"), "3": typed("true", "boolean")}


def test_a_bad_query_raises_query_error(store):
    with pytest.raises(QueryError):
        store.select("SELECT WHERE {")
    with pytest.raises(QueryError):
        store.ask("ASK {")


# --- update with bindings -----------------------------------------------------------------

VALUES = {
    "iri": NamedNode("http://example.org/test/a?b=c&d#e"),
    "nasty": NASTY,
    "injection": INJECTION,
    "single": "'} ; DROP ALL ; INSERT DATA { # '",
    "int": 1500,
    "neg": -3,
    "dec": Decimal("0.1"),
    "big": Decimal("12345678901234567890.000000001"),
    "when": dt.datetime(2024, 8, 22, 5, 40, 38, 123456, tzinfo=dt.timezone.utc),
    "flag": False,
}
EXPECTED = {
    "iri": NamedNode("http://example.org/test/a?b=c&d#e"),
    "nasty": Literal(NASTY),
    "injection": Literal(INJECTION),
    "single": Literal("'} ; DROP ALL ; INSERT DATA { # '"),
    "int": typed("1500", "integer"),
    "neg": typed("-3", "integer"),
    "dec": typed("0.1", "decimal"),
    "big": typed("12345678901234567890.000000001", "decimal"),
    "when": typed("2024-08-22T05:40:38.123456Z", "dateTime"),  # canonical form of +00:00
    "flag": typed("false", "boolean"),
}


def test_update_binds_every_kind_of_value_as_one_term(filled):
    before = all_quads(filled)
    template = "INSERT DATA { GRAPH ?g {\n" + "\n".join(
        f"  ?s <{EX}v/{name}> ?{name} ." for name in VALUES) + "\n} }"
    filled.update(template, {"g": nn("graph/values"), "s": S, **VALUES})

    rows = filled.select("SELECT ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": nn("graph/values"), "s": S})
    assert {r["p"].value.removeprefix(EX + "v/"): r["o"] for r in rows} == EXPECTED
    # Nothing was dropped and nothing else was inserted: each value stayed one literal.
    assert sorted(set(all_quads(filled)) - set(before)) == sorted(
        f"{nn('graph/values')} {S} {NamedNode(EX + 'v/' + k)} {v}" for k, v in EXPECTED.items())


def test_bound_values_match_in_patterns_and_filters(filled):
    filled.update("INSERT DATA { GRAPH ?g { ?s ?p ?v } }", {"g": G2, "s": S, "p": P, "v": INJECTION})
    assert filled.select("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?v } }", {"g": G2, "p": P, "v": INJECTION}) == [{"s": S}]
    assert filled.ask("ASK { GRAPH ?g { ?s ?p ?o FILTER(?o = $v) } }", {"g": G2, "v": INJECTION})
    assert not filled.ask("ASK { GRAPH ?g { ?s ?p ?o FILTER(?o = $v) } }", {"g": G2, "v": INJECTION + " "})
    # Numbers compare as numbers; ?avail is bound, ?available (which it prefixes) is not.
    set_stock(filled, 7)
    query = "ASK { GRAPH ?g { ?item ?prop ?available FILTER(?available >= ?avail) } }"
    assert filled.ask(query, {"g": STOCK_GRAPH, "prop": STOCK_PROP, "avail": 7}) is True
    assert filled.ask(query, {"g": STOCK_GRAPH, "prop": STOCK_PROP, "avail": Decimal("7.5")}) is False
    assert filled.ask(query, {"g": STOCK_GRAPH, "prop": STOCK_PROP, "avail": 6.5}) is True


def test_a_bound_variable_need_not_be_projected(filled):
    # pyoxigraph's own substitutions demand projected variables, textual binding does not:
    # the same query runs on every backend.
    rows = filled.select("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": G1, "s": S, "p": P})
    assert rows == [{"o": Literal("one")}]


def test_binding_a_blank_node_is_refused(store):
    with pytest.raises(TypeError):
        store.select("SELECT ?p WHERE { ?s ?p ?o }", {"s": BlankNode()})


# --- add_quads ------------------------------------------------------------------------------

def test_add_quads_loads_in_bulk_without_replacing(filled):
    shared = BlankNode()
    quads = [Quad(nn(f"item/{i}"), P, Literal(str(i), datatype=NamedNode(XSD + "integer")), nn(f"graph/bulk/{i % 10}"))
             for i in range(3000)]
    quads += [Quad(S, Q, shared, G1), Quad(shared, P, Literal("shared"), G2), Quad(nn("d"), P, Literal(NASTY))]
    filled.add_quads(iter(quads))

    count = filled.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), ?prefix)) }",
                          {"prefix": EX + "graph/bulk/"})
    assert count == [{"n": typed("3000", "integer")}]
    assert len(filled.graph(nn("graph/bulk/3"))) == 300
    # Existing triples stay; a blank node shared by two quads of one call stays one node.
    assert filled.ask("ASK { GRAPH ?g1 { ?s ?p 'one' . ?s ?q ?b } GRAPH ?g2 { ?b ?p 'shared' } }",
                      {"g1": G1, "g2": G2, "s": S, "p": P, "q": Q})
    assert filled.ask("ASK { ?d ?p ?v }", {"d": nn("d"), "p": P, "v": NASTY})
    filled.add_quads([])  # nothing to add, no error


# --- write_lock -----------------------------------------------------------------------------

def run_with_deadline(fn, seconds=10.0):
    """Run `fn` in a daemon thread; fail (instead of hanging the suite) if it does not finish."""
    outcome = {}

    def body():
        try:
            outcome["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported below
            outcome["error"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn.__name__} did not finish within {seconds} s (deadlock?)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_write_lock_is_reentrant_and_writes_inside_it(store):
    def nested():
        with store.write_lock():
            set_stock(store, 5)
            with store.write_lock():
                store.update("INSERT DATA { GRAPH ?g { ?s ?p 'inner' } }", {"g": G1, "s": S, "p": P})
                store.add_quads([Quad(S, P, Literal("bulk"), G1)])
                store.replace_graphs({G2: [Triple(S, P, Literal("replaced"))]})
            return read_stock(store)

    assert run_with_deadline(nested) == 5
    assert len(store.graph(G1)) == 2 and len(store.graph(G2)) == 1
    run_with_deadline(nested)  # the lock was fully released


def test_write_lock_excludes_other_threads(store):
    inside, order = threading.Event(), []

    def holder():
        with store.write_lock():
            inside.set()
            time.sleep(0.1)
            order.append("holder done")

    def waiter():
        assert inside.wait(60)      # a bound, not a measure: the holder thread may be slow to start
        with store.write_lock():
            order.append("waiter in")

    threads = [threading.Thread(target=f, daemon=True) for f in (holder, waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert order == ["holder done", "waiter in"]


def test_write_lock_is_released_when_the_block_raises(store):
    with pytest.raises(ZeroDivisionError):
        with store.write_lock():
            1 / 0
    assert run_with_deadline(lambda: take_many(store, 0)) == 0
    run_with_deadline(lambda: set_stock(store, 1))


# --- persistence and concurrency -----------------------------------------------------------

def test_an_on_disk_store_keeps_its_data_after_close_and_reopen(tmp_path):
    spec = f"oxigraph:{tmp_path / 'store'}"
    store = open_store(spec)
    store.replace_graphs({G1: tricky_triples()})
    store.close()
    store.close()  # closing twice is harmless

    again = open_store(spec)
    try:
        assert canonical(again.graph(G1)) == canonical(tricky_triples())
    finally:
        again.close()


def test_an_on_disk_store_opened_twice_reports_unavailable(tmp_path):
    store = open_store(f"oxigraph:{tmp_path / 'store'}")
    try:
        with pytest.raises(StoreUnavailable):
            open_store(f"oxigraph:{tmp_path / 'store'}")
    finally:
        store.close()


def hammer_with_threads(store, stock, threads, attempts):
    set_stock(store, stock)
    granted, start = [], threading.Barrier(threads)

    def worker():
        start.wait(10)
        granted.append(take_many(store, attempts))

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not any(t.is_alive() for t in pool)
    assert len(granted) == threads, "a worker failed"
    return sum(granted)


@pytest.mark.parametrize("store", ["memory", "oxigraph"], indirect=True)
def test_threads_never_oversell_an_embedded_store(store):
    # 2,000 attempts against 1,500 units: any lost update shows as more than 1,500 granted.
    assert hammer_with_threads(store, stock=1500, threads=8, attempts=250) == 1500
    assert read_stock(store) == 0


@pytest.mark.parametrize("store", ["sparql"], indirect=True)
def test_threads_never_oversell_a_remote_store(store):
    assert hammer_with_threads(store, stock=60, threads=4, attempts=25) == 60
    assert read_stock(store) == 0


@pytest.mark.slow
def test_processes_never_oversell_a_remote_store(oxigraph_url):
    backend = f"sparql:{oxigraph_url}"
    store = open_store(backend)
    try:
        set_stock(store, 100)
        ctx = multiprocessing.get_context("spawn")
        start, results = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=take_in_process, args=(backend, 50, start, results)) for _ in range(3)]
        try:
            for p in procs:
                p.start()
            start.wait(timeout=60)
            granted = [results.get(timeout=60) for _ in procs]
        finally:
            for p in procs:
                p.join(10)
                if p.is_alive():
                    p.kill()
                    p.join()
            results.close()
            results.join_thread()
        assert sum(granted) == 100, granted
        assert all(g > 0 for g in granted), f"the processes did not compete: {granted}"
        assert read_stock(store) == 0
    finally:
        store.close()



def test_the_remote_write_lock_excludes_other_hosts_and_outlives_a_dead_holder_by_its_ttl(oxigraph_url):
    """Two stores with their own lock files (two hosts, or private /tmp) share the store's lock."""
    import threading

    from app.store.remote import RemoteStore

    here = open_store(f"sparql:{oxigraph_url}", lock_ttl=5)
    there = RemoteStore(f"{oxigraph_url}/query", f"{oxigraph_url}/update", None, lock_ttl=5)
    there._lock_path += ".other-host"           # another machine: its own lock file
    here.update("DROP ALL")
    here._store_lock.acquire()                  # a holder that then dies without releasing:
    here._store_lock.close()                    # its heartbeat stops
    got = threading.Event()

    def writer():
        with there.write_lock():
            got.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert not got.wait(0.5), "the other host wrote while the lock was held"
    thread.join(timeout=60)                     # the dead holder's token expires after 5 s
    assert got.is_set()
    here._store_lock.token = None               # the dead holder is gone: nothing to release
    with here.write_lock():                     # and the lock is free again afterwards
        # One token and its fence: the dead holder's went, both, when the other took the lock.
        for term in ("expires", "fences"):
            rows = here.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <https://w3id.org/dfc-order-hub/ns#{term}> ?o }} }}")
            assert rows[0]["n"].value == "1", term
        assert here.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]["n"].value == "2"
    here.close()
    there.close()


def test_a_live_holder_keeps_the_remote_lock_past_its_ttl_and_a_killed_one_frees_it_within_a_few(
        oxigraph_url, tmp_path):
    """A process holding the lock past its TTL keeps it (its heartbeat renews it); SIGKILLed, its
    token outlives it by one TTL at most, the default TTL being seconds, and another host's
    process then takes the lock.

    Judged on the token the store keeps, not by timing the waiter: how soon after the expiry
    the waiter gets its turn is the scheduler's to say. The TTL leaves the holder's heartbeat
    (every TTL / 4) seconds to spare: a holder stalled a whole TTL loses the lock by design."""
    from app.config import Settings

    assert Settings.load(environ={}).lock_ttl_seconds <= 5     # a dead holder blocks for seconds
    ttl = 3.0
    tests = Path(__file__).resolve().parent
    holder = subprocess.Popen([sys.executable, "-c", f"from support import hold_the_lock; "
                               f"hold_the_lock({f'sparql:{oxigraph_url}'!r}, {ttl})"],
                              cwd=tests, stdout=subprocess.PIPE)
    there = RemoteStore(f"{oxigraph_url}/query", f"{oxigraph_url}/update", None, lock_ttl=ttl)
    there._lock_path += ".other-host"           # another machine: its own lock file
    got, release = threading.Event(), threading.Event()

    def writer():
        with there.write_lock():
            got.set()
            release.wait(60)

    def expiry(token) -> float | None:
        """When the store says `token` expires (None once it is gone)."""
        rows = there.select("SELECT ?e WHERE { GRAPH <urn:x-dfc-hub:write-lock> { ?t <https://w3id.org/"
                            "dfc-order-hub/ns#expires> ?e } }", {"t": token})
        return dt.datetime.fromisoformat(rows[0]["e"].value).timestamp() if rows else None

    thread = threading.Thread(target=writer)
    try:
        assert holder.stdout.readline() == b"held\n"
        [row] = there.select("SELECT ?t WHERE { GRAPH <urn:x-dfc-hub:write-lock> { ?t ?p ?e } }")
        token, first = row["t"], expiry(row["t"])
        thread.start()
        deadline = time.monotonic() + 60        # a bound on waiting, not a measure
        while (expiry(token) or 0) < first + ttl and time.monotonic() < deadline:
            time.sleep(0.05)
        # Renewed at or after the moment it would have expired, and the waiter still waits.
        assert (expiry(token) or 0) >= first + ttl and not got.is_set(), "the lock was taken from a live holder"
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.time()
        left = expiry(token)                    # None: expired already, and dropped by the waiter
        assert left is None or left <= killed + ttl, "a killed holder's token outlives it by more than its TTL"
        assert got.wait(60), "the lock was never taken after its killed holder's token expired"
    finally:
        release.set()
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
        if thread.is_alive():
            thread.join(60)
        there.close()


def test_reading_results_keeps_a_bounded_number_of_datatypes():
    """A partner may store literals of any number of datatypes: reading them keeps no more than
    DATATYPES of them, and every literal still comes back with its own."""
    from app.store import results

    body = {"results": {"bindings": [{"x": {"type": "literal", "value": str(n), "datatype": f"urn:x-type:{n}"}}
                                     for n in range(3 * results.DATATYPES)]}}
    rows = results.json_rows(json.dumps(body).encode())
    assert [r["x"].datatype.value for r in rows] == [f"urn:x-type:{n}" for n in range(3 * results.DATATYPES)]
    assert len(results._DATATYPES) <= results.DATATYPES


def test_an_answer_that_is_not_sparql_json_results_is_a_query_error():
    from app.store.results import json_rows

    for body in (b"<html>proxy error</html>", b'{"head": {}}', b'{"results": {"bindings": [{"x": {"type": "alien"}}]}}'):
        with pytest.raises(QueryError):
            json_rows(body)


@pytest.mark.parametrize("keys", [None, ["producer-a"]])
def test_a_unit_of_work_putting_an_empty_document_where_there_was_none_writes_nothing_and_succeeds(store, keys):
    # Under a named lock a remote commit also carries its fences and marker: with nothing
    # else to write, it once sent an update beginning with ";" (a 400, answered as a 500).
    with store.transaction(keys=keys) as tx:
        tx.graph(G1)
        tx.put(G1, [])
    assert store.graph(G1) == []
    with store.transaction(keys=keys) as tx:
        tx.put(G2, [Triple(S, P, Literal("after"))])
    assert store.graph(G2) == [Triple(S, P, Literal("after"))]


def test_many_documents_are_read_whole_in_requests_of_a_bounded_size(store):
    """Documents are read READ_AT_ONCE to a request: a board of thousands of orders was one query
    as long as all their names (or one request each). Every one comes back, each whole."""
    from app.store.base import READ_AT_ONCE
    names = [NamedNode(f"urn:x-test:doc:{n}") for n in range(READ_AT_ONCE * 2 + 7)]
    store.bulk_load(Quad(g, P, Literal(str(n)), g) for n, g in enumerate(names))
    documents = store.documents(names)
    assert [[t.object.value for t in documents[g]] for g in names] == [[str(n)] for n in range(len(names))]
    assert len(store.graphs(names)) == len(names)
