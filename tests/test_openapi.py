"""The OpenAPI description at /api/openapi.json lists every route, and a live server keeps to it."""
from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import ADMIN
from support.demo_server import demo_serving

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


# --- what a client generator makes of the description (issue 23) -------------------------------

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
GENERATOR_CONFIG = Path(__file__).resolve().parents[1] / "examples" / "openapi-python-client.yaml"


def test_every_operation_has_a_unique_meaningful_operation_id_and_every_array_its_items(client):
    described = client.get("/api/openapi.json").get_json()
    ids = [op.get("operationId") for ops in described["paths"].values() for op in ops.values()]
    assert all(ids) and len(set(ids)) == len(ids), [i for i in ids if not i or ids.count(i) > 1]
    assert all(re.fullmatch(r"(get|list|create|put|delete|[a-z]+)[A-Z][A-Za-z]+", i) for i in ids), ids
    arrays = []

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "array" or (isinstance(node.get("type"), list) and "array" in node["type"]):
                arrays.append((where, "items" in node or "prefixItems" in node))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")
    walk(described, "#")
    assert arrays and all(has for _, has in arrays), [w for w, has in arrays if not has]


@pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is not installed (the `test` extra)")
def test_a_generated_client_has_every_operation_and_makes_a_checkout(tmp_path):
    """openapi-python-client, run on the served description, skips nothing and warns of nothing;
    its client then places a customer order at hub A and reads it back, over HTTP on 127.0.0.1."""
    with demo_serving() as base:
        described = requests.get(f"{base}/api/openapi.json", timeout=30).json()
        run = subprocess.run([str(GENERATOR), "generate", "--url", f"{base}/api/openapi.json", "--meta", "none",
                              "--config", str(GENERATOR_CONFIG), "--output-path", str(tmp_path / "client")],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
        said = (run.stdout + run.stderr).strip()
        assert run.returncode == 0 and said.splitlines() == [f"Generating {tmp_path / 'client'}"], said[-6000:]
        made = {p.stem for p in (tmp_path / "client" / "api").glob("*/*.py") if p.stem != "__init__"}
        wanted = {re.sub(r"(?<!^)(?=[A-Z])", "_", op["operationId"]).lower()
                  for ops in described["paths"].values() for op in ops.values()}
        assert made == wanted, (sorted(wanted - made), sorted(made - wanted))
        _checkout_with(tmp_path, base)


def _checkout_with(tmp_path, base: str) -> None:
    """The generated client's own functions: a token for hub A, a Held order, the order read back."""
    sys.path.insert(0, str(tmp_path))
    try:
        from client import AuthenticatedClient
        from client.api.admin import issue_token
        from client.api.orders import create_order, get_order
        from client.models import JsonLdPayload, TokenRequest
    finally:
        sys.path.remove(str(tmp_path))
    hub_a = f"{base}/api/dfc/enterprises/hub-a"
    with AuthenticatedClient(base_url=base, token=ADMIN) as admin:
        token = issue_token.sync(client=admin, body=TokenRequest(agent=hub_a)).token
    order = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Order",
             "dfc-b:orderedBy": {"@id": f"{hub_a}/persons/ali", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"},
             "dfc-b:belongsTo": f"{hub_a}/sale_sessions/week-48", "dfc-b:hasOrderStatus": "dfc-v:Held",
             "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{hub_a}/offers/jean-carrots",
                               "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 2,
                                                     "dfc-b:hasUnit": "dfc-m:Kilogram"}}}
    with AuthenticatedClient(base_url=base, token=token) as hub:
        made = create_order.sync_detailed("hub-a", client=hub, body=JsonLdPayload.from_dict(order))
        assert made.status_code == 201, made.content.decode()
        oid = made.headers["Location"].rsplit("/", 1)[1]
        read = get_order.sync("hub-a", oid, client=hub).to_dict()
    nodes = read.get("@graph", [read])
    placed = next(n for n in nodes if n.get("@type") == "dfc-b:Order")
    assert placed["dfc-b:hasOrderStatus"] == "dfc-v:Held" and placed["@id"] == made.headers["Location"]
