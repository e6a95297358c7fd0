"""Strict clients read every answer of every GET route offline (API.md "Strict JSON-LD clients").

The crawled server of tests/test_crawler.py (every feature used once, every GET route of the
OpenAPI description reached, as the admin) is read again, each RDF answer in each representation:
- JSON-LD, 1.x and the 2.0 profile: PyLD and jsonld.js, holding only the DFC contexts (as the
  official connectors and Open Food Network preload them) and refusing every other fetch, expand
  it to exactly the graph of the Turtle answer;
- RDF/XML, Turtle and N-Triples: rdflib and Raptor's `rapper` parse each to that same graph.
`rapper` (Debian raptor2-utils) and node are installed by `make test` (targets `tools` and
`connector`); where they are absent, their half skips with the reason.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import rdflib
import requests
from pyld import jsonld
from rdflib.compare import graph_diff, isomorphic

from test_crawler import ADMIN_H, world  # noqa: F401  (the crawled server, a module fixture)

# The world's clock is a ManualClock at fixed dates: how an answer is written does not depend on the date.
pytestmark = pytest.mark.dateless("the crawled world runs on a ManualClock at fixed dates")

JSONLD = "application/ld+json"
V2 = 'application/ld+json; profile="https://www.datafoodconsortium.org/dfc-v2"'
PROFILES = {"1.x": (JSONLD, "text/turtle"), "2.0": (V2, 'text/turtle; profile="dfc-v2"')}
SYNTAXES = {"application/rdf+xml": ("xml", "rdfxml"), "text/turtle": ("turtle", "turtle"),
            "application/n-triples": ("nt", "ntriples")}
DFC_CONTEXTS = {"https://www.datafoodconsortium.org": "context_1.16.0.json",
                "https://w3id.org/dfc/ontology/v2.0.0/context/context_2.0.0.json": "context_2.0.0.jsonld"}
# Hints that a term is not in its current DFC form (app/validation/hints.py).
CURRENT_FORM = {"unknown-term", "deprecated-term", "typo-term", "renamed-term", "other-version-term",
                "mixed-versions", "legacy-version"}
# Deprecated terms our answers still write, and why. An order line's `dfc-b:quantity`: Open Food
# Network and the FDC app write and read order lines with it (tests/test_ofn_replay.py compares
# it); 1.16's `dfc-b:hasQuantity` is read too, but answers keep the form those platforms read.
KEPT = {"https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#quantity"}
NODE_SCRIPTS = Path(__file__).parent / "support" / "dfc-connector"
NODE = shutil.which("node")
RAPPER = shutil.which("rapper")


@pytest.fixture(scope="module")
def rdf_urls(world):  # noqa: F811
    """Every crawled URL whose answer (as the admin asks for JSON-LD) is an RDF document (our
    contexts, JSON-LD too, describe no graph)."""
    urls = sorted({a.url for a in world.answers if a.agent == "admin" and a.status == 200 and a.media == JSONLD
                   and not a.url.startswith("/api/contexts/")})
    assert len(urls) > 30 and any("/orders/" in u for u in urls) and any(u.startswith("/sparql") for u in urls)
    return urls


def _get(world, url: str, accept: str) -> requests.Response:  # noqa: F811
    r = requests.get(world.base + url, headers={**ADMIN_H, "Accept": accept}, timeout=60)
    assert r.status_code == 200, (url, accept, r.status_code, r.text[:300])
    assert r.headers["Content-Type"].split(";")[0] == accept.split(";")[0], (url, accept, r.headers["Content-Type"])
    return r


def _differences(a: rdflib.Graph, b: rdflib.Graph, what: str) -> str | None:
    if isomorphic(a, b):
        return None
    _, only_a, only_b = graph_diff(a, b)
    return (f"{what} only:\n" + only_a.serialize(format="nt")[:1500]
            + "\nTurtle only:\n" + only_b.serialize(format="nt")[:1500])


def _dfc_loader(shared):
    def load(url, options=None):
        if url not in DFC_CONTEXTS:
            raise AssertionError(f"the answer sent PyLD to fetch {url}")
        doc = json.loads((shared / "dfc" / DFC_CONTEXTS[url]).read_text())
        return {"contextUrl": None, "documentUrl": url, "document": doc}
    return load


@pytest.mark.parametrize("family", PROFILES)
def test_pyld_with_only_the_dfc_context_reads_every_answer_as_its_turtle(world, rdf_urls, shared, family):  # noqa: F811
    accept, turtle = PROFILES[family]
    failed = {}
    for url in rdf_urls:
        doc = _get(world, url, accept).json()
        assert doc["@context"][0] in DFC_CONTEXTS and isinstance(doc["@context"][1], dict), url
        try:
            nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": _dfc_loader(shared)})
        except Exception as e:      # a fetch refused, or a document PyLD cannot read
            failed[url] = repr(e)[:500]
            continue
        diff = _differences(rdflib.Graph().parse(data=nquads, format="nt"),
                            rdflib.Graph().parse(data=_get(world, url, turtle).text, format="turtle"), "PyLD")
        if diff:
            failed[url] = diff
    assert not failed, "\n\n".join(f"{u}:\n{d}" for u, d in list(failed.items())[:5])


@pytest.mark.skipif(not (NODE and (NODE_SCRIPTS / "node_modules" / "jsonld").is_dir()),
                    reason="node and jsonld.js are not installed: `make connector` installs them (npm)")
@pytest.mark.parametrize("family", PROFILES)
def test_jsonld_js_with_only_the_dfc_context_reads_every_answer_as_its_turtle(world, rdf_urls, shared, family):  # noqa: F811
    accept, turtle = PROFILES[family]
    docs = [_get(world, url, accept).json() for url in rdf_urls]
    files = {url: str(shared / "dfc" / name) for url, name in DFC_CONTEXTS.items()}
    run = subprocess.run([NODE, str(NODE_SCRIPTS / "to_nquads.mjs"), json.dumps(files)], input=json.dumps(docs),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    failed = {}
    for url, nquads in zip(rdf_urls, json.loads(run.stdout), strict=True):
        diff = _differences(rdflib.Graph().parse(data=nquads, format="nt"),
                            rdflib.Graph().parse(data=_get(world, url, turtle).text, format="turtle"), "jsonld.js")
        if diff:
            failed[url] = diff
    assert not failed, "\n\n".join(f"{u}:\n{d}" for u, d in list(failed.items())[:5])


@pytest.mark.parametrize("media", SYNTAXES)
def test_rdflib_parses_every_answer_in_every_syntax_to_its_graph(world, rdf_urls, media):  # noqa: F811
    failed = {}
    for url in rdf_urls:
        expected = rdflib.Graph().parse(data=_get(world, url, "application/n-triples").text, format="nt")
        try:
            got = rdflib.Graph().parse(data=_get(world, url, media).content, format=SYNTAXES[media][0])
        except Exception as e:
            failed[url] = repr(e)[:500]
            continue
        diff = _differences(got, expected, media)
        if diff:
            failed[url] = diff
    assert not failed, "\n\n".join(f"{u}:\n{d}" for u, d in list(failed.items())[:5])


@pytest.mark.skipif(RAPPER is None, reason="Raptor's rapper is not installed: `make tools` installs raptor2-utils")
@pytest.mark.parametrize("media", SYNTAXES)
def test_rapper_parses_every_answer_in_every_syntax_to_its_graph(world, rdf_urls, media, tmp_path):  # noqa: F811
    failed = {}
    for url in rdf_urls:
        body = tmp_path / "answer"
        body.write_bytes(_get(world, url, media).content)
        run = subprocess.run([RAPPER, "-q", "-i", SYNTAXES[media][1], "-o", "ntriples", str(body), world.base + url],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0 or run.stderr.strip():
            failed[url] = run.stderr[-800:] or f"exit {run.returncode}"
            continue
        expected = rdflib.Graph().parse(data=_get(world, url, "application/n-triples").text, format="nt")
        diff = _differences(rdflib.Graph().parse(data=run.stdout, format="nt"), expected, f"rapper ({media})")
        if diff:
            failed[url] = diff
    assert not failed, "\n\n".join(f"{u}:\n{d}" for u, d in list(failed.items())[:5])


@pytest.mark.parametrize("family", PROFILES)
def test_what_we_write_we_accept_every_answer_conforms_to_our_validator(world, rdf_urls, family):  # noqa: F811
    """No Violation, no term outside `hub:` that no DFC release defines, no deprecated DFC term.
    (An empty listing states nothing to check: the validator refuses it as no JSON-LD, 400.)"""
    failed = {}
    for url in rdf_urls:
        body = _get(world, url, PROFILES[family][0]).content
        if not _get(world, url, "application/n-triples").text.strip():
            continue
        r = requests.post(f"{world.base}/api/conformance/validate", data=body, timeout=120,
                          headers={"Content-Type": JSONLD, "Accept": "application/json"})
        assert r.status_code == 200, (url, r.status_code, r.text[:500])
        bad = [f"{x['severity']}: {x['message']} ({x.get('path')})" for x in r.json()["results"]
               if x["severity"] == "Violation" or (x.get("hintCode") in CURRENT_FORM and x.get("path") not in KEPT)]
        if bad:
            failed[url] = bad[:5]
    assert not failed, json.dumps(failed, indent=1)[:6000]
