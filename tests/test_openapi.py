"""The OpenAPI description at /api/openapi.json lists every route, and a live server keeps to it."""
from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import requests
from conftest import ADMIN

ST = str(Path(sys.executable).with_name("st"))
# Every check that compares an answer with the description, the one that refuses any 5xx, and
# those that want a 4xx for data the description forbids and a 405 for an undescribed method.
# Not positive_data_acceptance: bodies are described as any JSON-LD object, and most of those
# are rightly refused (SHACL), so "valid by the schema" does not mean "acceptable".
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
          "unsupported_method", "missing_required_header"]
EXAMPLES_PER_OPERATION = 6


def _flask_routes(app) -> set[tuple[str, str]]:
    """(path with anonymous {} parameters, method) for every route, CamelCase aliases left out."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        parts = re.split(r"(<[^>]+>)", rule.rule)
        choices = [[p] if not p.startswith("<") else
                   [f"{o.strip()}" for o in m[1].split(",")] if (m := re.match(r"<any\(([^)]*)\):\w+>", p)) else ["{}"]
                   for p in parts]
        for path in map("".join, itertools.product(*choices)):
            if not re.search(r"[A-Z]", path):
                routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_the_description_lists_every_route_and_nothing_else(read_client, demo_app):
    described = read_client.get("/api/openapi.json").get_json()
    assert described["openapi"].startswith("3.1")
    paths = {(re.sub(r"\{[^}]+\}", "{}", path), method.upper())
             for path, ops in described["paths"].items() for method in ops}
    assert paths == _flask_routes(demo_app.app)


def test_a_live_server_answers_as_described(live_server, tmp_path):
    """schemathesis fuzzes every operation (a few hundred cases, the same on every run), as admin:
    any 5xx, or an answer whose status, media type, headers or body the description does not
    allow, fails."""
    base = live_server()
    operations = sum(len(ops) for ops in requests.get(f"{base}/api/openapi.json", timeout=10).json()["paths"].values())
    run = subprocess.run(
        [ST, "run", f"{base}/api/openapi.json", "--header", f"Authorization: Bearer {ADMIN}",
         "--checks", ",".join(CHECKS), "--max-examples", str(EXAMPLES_PER_OPERATION), "--generation-deterministic",
         "--phases", "examples,fuzzing", "--workers", "1", "--no-color", "--request-timeout", "30"],
        cwd=tmp_path, capture_output=True, text=True, timeout=540)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[report.find("FAILURES"):][:8000] + report[-1500:]
    # Every operation but GET /api/openapi.json, which schemathesis leaves out as the schema itself.
    assert f"Tested: {operations - 1}" in report, report[-2000:]


def test_an_id_no_iri_may_hold_is_a_400_not_a_500(read_client):
    """What schemathesis first found: a control character in a path id failed building the IRI."""
    for path in ["/api/dfc/enterprises/jean-farm/catalog_items/a%01b",
                 "/api/dfc/enterprises/jean-farm/orders/a%C2%88b",
                 "/api/dfc/enterprises/hub-a/sale_sessions/a%16b/summary"]:
        r = read_client.get(path, headers={"Authorization": f"Bearer {ADMIN}"})
        assert (r.status_code, r.mimetype) == (400, "application/problem+json"), path


def test_an_order_write_without_a_token_is_a_401_whatever_its_body(read_client):
    """Also found by schemathesis: the body was read (400) before the missing token was noticed."""
    for method, path in [("POST", "/api/dfc/enterprises/jean-farm/orders"),
                         ("PUT", "/api/dfc/enterprises/jean-farm/orders/1")]:
        r = read_client.open(path, method=method, data='{"@graph": [null]}', content_type="application/ld+json")
        assert (r.status_code, r.mimetype) == (401, "application/problem+json"), path
