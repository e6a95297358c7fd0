"""Conformance validation time per payload over the corpus: ours against bare pyshacl, in one run.

    .venv/bin/python bench/validate.py [--repeat N]

For every payload of ../shared/conformance/real, interleaved so that drift hits both alike:
  - ours: app.validation.report.check — parse offline, normalise, SHACL with the compiled
    shapes, hints, the whole report (what POST /api/conformance/validate does, minus HTTP);
  - bare pyshacl: `pyshacl.validate(data_graph, shacl_graph=shapes)` with the same shapes
    graph, on the same payload already parsed into an rdflib Graph (parsing not timed).
Prints p50 and p99 over all (payload, repeat) timings and the ratio ours / pyshacl; the goal is
an overhead of at most 20 %, i.e. a ratio ≤ 1.20. Only ratios of the same run mean anything.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import rdflib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyshacl import validate as pyshacl_validate  # noqa: E402

from app.errors import HubError  # noqa: E402
from app.rdf import read_payload  # noqa: E402
from app.validation import default_validator, load_shapes_graph, to_rdflib  # noqa: E402
from app.reports.conformance import corpus_files, media_of  # noqa: E402
from app.validation.report import PAYLOAD_BASE, check  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    shapes = load_shapes_graph()
    validator = default_validator()
    payloads = []
    for path in corpus_files():
        body, media = path.read_bytes(), media_of(path)
        # pyshacl gets the payload as an rdflib Graph of the same (normalised) triples SHACL sees.
        try:
            read = read_payload(body, media, PAYLOAD_BASE)
        except HubError:
            continue        # a payload the server refuses before SHACL (an invalid IRI): nothing to compare
        graph = rdflib.Graph()
        for triple in to_rdflib(read.triples):
            graph.add(triple)
        payloads.append((path.name, body, media, graph))

    for name, body, media, graph in payloads:       # warm up caches and lazy imports on both sides
        check(body, media, validator=validator)
        pyshacl_validate(graph, shacl_graph=shapes, inference="none")

    ours, bare, per_file = [], [], {}
    for _ in range(args.repeat):
        for name, body, media, graph in payloads:
            t = time.perf_counter()
            check(body, media, validator=validator)
            mid = time.perf_counter()
            pyshacl_validate(graph, shacl_graph=shapes, inference="none")
            end = time.perf_counter()
            ours.append(mid - t)
            bare.append(end - mid)
            per_file.setdefault(name, ([], []))
            per_file[name][0].append(mid - t)
            per_file[name][1].append(end - mid)

    print(f"conformance validation, {len(payloads)} corpus payloads x {args.repeat} runs "
          "(ours: parse + normalise + SHACL + hints; pyshacl: SHACL only, graph pre-parsed)")
    width = max(len(n) for n in per_file)
    for name, (o, b) in sorted(per_file.items(), key=lambda kv: -statistics.median(kv[1][1])):
        print(f"  {name:{width}s}  ours {statistics.median(o) * 1000:7.2f} ms   "
              f"pyshacl {statistics.median(b) * 1000:7.2f} ms   ratio {statistics.median(o) / statistics.median(b):5.2f}")
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        o, b = percentile(ours, q), percentile(bare, q)
        print(f"{label}: ours {o * 1000:7.2f} ms   bare pyshacl {b * 1000:7.2f} ms   ratio ours/pyshacl {o / b:5.2f}")
    total_o, total_b = sum(ours), sum(bare)
    print(f"total: ours {total_o:.2f} s   bare pyshacl {total_b:.2f} s   ratio {total_o / total_b:.2f}"
          "   (goal: ours at most 1.20x bare pyshacl)")


if __name__ == "__main__":
    main()
