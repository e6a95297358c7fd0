"""A unique, meaningful operationId for every operation of the OpenAPI description.

Generators name a client's functions after them (`list_offers`, `create_order`, …). They are
derived from the method and the path, so a route added later gets one without a word here;
actions and singletons, which the rule would name badly, are named in OVERRIDES.
tests/test_openapi.py checks that every operation has one and that no two are alike.
"""
from __future__ import annotations

_ENT = "/api/dfc/enterprises/{eid}"
_ORDER = _ENT + "/orders/{oid}"
_SESSION = _ENT + "/sale_sessions/{sid}"
OVERRIDES = {
    ("get", "/"): "getIndex",
    ("get", "/health"): "getHealth",
    ("get", "/version"): "getVersion",
    ("get", "/api/contexts/{name}"): "getContext",
    ("get", "/api/openapi.json"): "getOpenApiDescription",
    ("get", _ENT + "/catalog"): "getCatalog",
    ("post", _ENT + "/catalog"): "importCatalog",
    ("get", _ENT + "/settings"): "getHubSettings",
    ("put", _ENT + "/settings"): "putHubSettings",
    ("post", _SESSION + "/close"): "closeSaleSession",
    ("get", _SESSION + "/summary"): "getSaleSessionSummary",
    ("get", _SESSION + "/wholesale_orders"): "listWholesaleOrdersOfSaleSession",
    ("post", _ORDER + "/status"): "changeOrderStatus",
    ("post", _ORDER + "/deliveries/{did}/ship"): "shipDelivery",
    ("get", _ENT + "/persons/{pid}/export"): "exportPerson",
    ("post", _ENT + "/partners/{slug}/sync"): "syncPartner",
    ("post", _ENT + "/webhooks/{wid}/replay"): "replayWebhook",
    ("post", "/api/admin/tokens"): "issueToken",
    ("post", "/api/conformance/validate"): "validatePayload",
    ("get", "/conformance"): "getConformancePage",
    ("post", "/conformance"): "submitConformanceForm",
    ("get", "/sparql"): "querySparql",
    ("post", "/sparql"): "querySparqlByPost",
}
_VERBS = {"get": "get", "put": "put", "delete": "delete", "patch": "patch", "post": "post"}
_IRREGULAR = {"deliveries": "delivery", "persons": "person", "catalog_items": "catalog_item"}


def operation_id(method: str, path: str) -> str:
    """The operationId of one operation: OVERRIDES, else verb + what the path names."""
    if (method, path) in OVERRIDES:
        return OVERRIDES[(method, path)]
    segments = [s for s in path.strip("/").split("/") if s not in ("api", "dfc")]
    literal = [s for s in segments if not s.startswith("{")]
    last = literal[-1] if literal else "root"
    if segments and segments[-1].startswith("{"):           # one member of a collection
        return _VERBS[method] + _pascal(_singular(last))
    if method == "get":
        return "list" + _pascal(last)
    if method == "post":
        return "create" + _pascal(_singular(last))
    return _VERBS[method] + _pascal(last)


def add_operation_ids(paths: dict) -> dict:
    """Give every operation of `paths` its operationId (in place); return `paths`."""
    for path, item in paths.items():
        for method, op in item.items():
            op.setdefault("operationId", operation_id(method, path))
    return paths


def _singular(word: str) -> str:
    return _IRREGULAR.get(word, word[:-1] if word.endswith("s") else word)


def _pascal(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("_"))
