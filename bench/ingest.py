"""Catalogue import rate: through HTTP, through the store layer, and against baselines, in one run.

    .venv/bin/python bench/ingest.py [--repeat N]

Prints medians and ratios measured side by side in this run (machines here are noisy, so
only ratios between figures of the same run mean anything):
  - store layer (split into documents + Store.replace_graphs) vs raw pyoxigraph bulk load
    of the same quads, on a large synthetic catalogue made from the FDC one;
  - HTTP import of the FDC catalogue fixture (real `dfc-hub serve`, on-disk Oxigraph)
    vs the same import through rdflib's in-memory Graph and rdflib's JSON-LD parser,
    with and without the same SHACL validation.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app.domain.documents import split_documents  # noqa: E402
from app.runtime.loading import load_documents  # noqa: E402
from app.rdf import read_payload  # noqa: E402
from app.rdf.contexts import local_context  # noqa: E402
from app.store import open_store  # noqa: E402
from app.validation import load_shapes_graph  # noqa: E402
from support.oxigraph_server import free_port  # noqa: E402

FDC = ROOT.parent / "shared" / "conformance" / "real" / "ofn" / "fdc-shopify-catalog-hodmedod.json"
FDC_BASE = "https://env-0105831.jcloud-ver-jpe.ik-server.com"
ADMIN = "bench-admin"


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def big_catalog(copies: int) -> list[ox.Quad]:
    """The FDC catalogue's documents `copies` times over, each copy under its own IRIs."""
    text = FDC.read_text()
    triples = []
    for i in range(copies):
        doc = text.replace("/test-hodmedod/SuppliedProducts/", f"/test-hodmedod/SuppliedProducts/c{i}-")
        triples += read_payload(doc.encode(), "application/ld+json", None).triples
    documents = split_documents(triples, orphans_to=ox.NamedNode(FDC_BASE + "/orphans"))
    return [ox.Quad(t.subject, t.predicate, t.object, g) for g, ts in documents.items() for t in ts]


def bench_store_layer(copies: int, repeat: int) -> None:
    quads = big_catalog(copies)
    by_graph: dict = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(q.triple)

    def ours():
        # What `dfc-hub load` does: documents in batches of 500, new ones through the bulk path.
        with tempfile.TemporaryDirectory() as d:
            store = open_store(f"oxigraph:{d}")
            load_documents(store, by_graph)
            store.close()

    def ours_transactional():
        # What the API does: each batch of documents replaced in one transaction.
        with tempfile.TemporaryDirectory() as d:
            store = open_store(f"oxigraph:{d}")
            names = list(by_graph)
            for i in range(0, len(names), 500):
                store.replace_graphs({n: by_graph[n] for n in names[i:i + 500]})
            store.close()

    def raw():
        with tempfile.TemporaryDirectory() as d:
            store = ox.Store(d)
            store.bulk_extend(quads)
            store.flush()
            del store

    ours_t, tx_t, raw_t = [], [], []
    for _ in range(repeat):          # interleaved, so drift hits all alike
        ours_t += timed(ours, 1)
        tx_t += timed(ours_transactional, 1)
        raw_t += timed(raw, 1)
    n = len(quads)
    o, x, r = statistics.median(ours_t), statistics.median(tx_t), statistics.median(raw_t)
    print(f"store layer, {n} quads in {len(by_graph)} documents (on-disk Oxigraph):")
    print(f"  ours, loader (dfc-hub load's path)           :     {n / o:10.0f} quads/s  ({o * 1000:.0f} ms)")
    print(f"  ours, API path (replace_graphs, one transaction a batch): {n / x:5.0f} quads/s  ({x * 1000:.0f} ms)")
    print(f"  raw pyoxigraph bulk_extend:                          {n / r:10.0f} quads/s  ({r * 1000:.0f} ms)")
    print(f"  ratio loader/raw time: {o / r:.2f}x, API path/raw: {x / r:.2f}x   (goal: within 2x)")


def bench_http(repeat: int) -> None:
    body = FDC.read_bytes()
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "PUBLIC_BASE_URL": FDC_BASE, "DFC_HUB_ADMIN_TOKEN": ADMIN,
               "DFC_HUB_STORE": f"oxigraph:{d}/store"}
        exe = Path(sys.executable).with_name("dfc-hub")
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/api/dfc/Enterprises/test-hodmedod/catalog"
            session = requests.Session()
            headers = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/ld+json"}
            for _ in range(100):
                try:
                    session.get(url, timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)

            def post():
                r = session.post(url, data=body, headers=headers)
                assert r.status_code == 200, r.text

            for _ in range(5):
                post()
            http_t = timed(post, repeat)
        finally:
            proc.terminate()
            proc.wait()

    context = local_context("1.x")
    doc = json.loads(body)

    def naive_parse():
        # rdflib would fetch the remote context; give it the same local one we use.
        graph = rdflib.Graph()
        graph.parse(data=json.dumps({**doc, "@context": context}), format="json-ld",
                    base=FDC_BASE + "/api/dfc/Enterprises/test-hodmedod/catalog")
        return graph

    from pyshacl import validate as pyshacl_validate
    shapes = load_shapes_graph()

    def naive_with_shacl():
        graph = naive_parse()
        pyshacl_validate(graph, shacl_graph=shapes, inference="none")

    naive_t = timed(naive_parse, repeat)
    naive_shacl_t = timed(naive_with_shacl, repeat)
    n = len(read_payload(body, "application/ld+json", None).triples)
    h = statistics.median(http_t)
    p99 = sorted(http_t)[int(0.99 * (len(http_t) - 1))]
    print(f"HTTP import of the FDC catalogue ({n} triples, parse + SHACL + store, real server):")
    print(f"  ours over HTTP:                        {1 / h:8.1f} imports/s  (p50 {h * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms)")
    for label, times in (("rdflib Graph + rdflib JSON-LD parser", naive_t),
                         ("  … + pyshacl with the same shapes", naive_shacl_t)):
        m = statistics.median(times)
        print(f"  {label:38s} {1 / m:8.1f} imports/s  (p50 {m * 1000:.1f} ms)  -> ours is {m / h:.2f}x faster")
    print("  goal: at least 5x the rdflib import")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--copies", type=int, default=200)
    args = parser.parse_args()
    bench_store_layer(args.copies, max(3, args.repeat // 6))
    bench_http(args.repeat)


if __name__ == "__main__":
    main()
