"""The OpenAPI 3.1 description of the HTTP API, served at /api/openapi.json.

Built here, beside the routes it describes, and kept true by tests/test_openapi.py, which
fuzzes a live server with schemathesis against it. docs/api.md says the same in prose.
Only the snake_case collection segments are listed; the CamelCase aliases FDC servers use
answer alike.
"""
from __future__ import annotations

from app import __version__
from app.analytics import GRAPH_MEDIA, RESULT_MEDIA
from app.api.description import events as openapi_events
from app.api.description.ids import add_operation_ids
from app.api.description.schemas import ERROR_MEANING, components
from app.api.pages import openapi as pages_openapi
from app.api.conformance import REPORT_TYPES
from app.api.negotiate import SERIALISERS
from app.domain.kinds import KINDS
from app.rdf import ACCEPTED_TYPES
from app.validation.report import PROFILES

# What the routes answer, as negotiate and the conformance check offer it.
RDF_OUT = list(SERIALISERS)
# 404 too: a path that routes nowhere (a newline in an id) is a 404 before any write.
WRITE_ERRORS = [400, 401, 403, 404, 406, 409, 412, 413, 415, 422, 503]
READ_ERRORS = [400, 404, 406, 503]
SINGULAR = {"supplied_products": "supplied product", "catalog_items": "catalogue item",
            "offers": "offer", "sale_sessions": "sale session"}
DFC = "https://www.datafoodconsortium.org"
# A body each kind accepts, for schemathesis's examples phase and for readers.
EXAMPLE_BODIES = {
    "supplied_products": {"@context": DFC, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Leeks"},
    "catalog_items": {"@context": DFC, "@type": "dfc-b:CatalogItem", "dfc-b:sku": "JEAN-LEE-1KG",
                      "dfc-b:stockLimitation": 5},
    "offers": {"@context": DFC, "@type": "dfc-b:Offer", "dfc-b:hasPrice": {
        "@type": "dfc-b:Price", "dfc-b:value": 2.4, "dfc-b:hasUnit": "dfc-m:Euro"}},
    "sale_sessions": {"@context": DFC, "@type": "dfc-b:SaleSession",
                      "dfc-b:startDate": "2026-12-01T08:00:00Z", "dfc-b:endDate": "2026-12-05T18:00:00Z"},
}
EXAMPLE_IDS = {"supplied_products": "carrots", "catalog_items": "carrots", "offers": "carrots",
               "sale_sessions": "week-48"}


def description(base_url: str) -> dict:
    """Return the OpenAPI document, its server being PUBLIC_BASE_URL."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DFC Order Hub",
            "version": __version__,
            "summary": "A linked-data order server for food networks that speak the DFC standard",
            "description": "Resources are DFC JSON-LD documents (also Turtle, N-Triples and RDF/XML); "
                           "their @context is the DFC context URL, then ours inline. Errors are "
                           "RFC 9457 problem documents. CamelCase collection segments (`Enterprises`, "
                           "`CatalogItems`, …) are accepted wherever the snake_case ones are.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": base_url}],
        "paths": add_operation_ids(_conditional({
            **_service(base_url), **_resources(), **_orders(base_url), **_lifecycle(), **_contracts(base_url),
            **_persons(), **_partners(), **openapi_events.paths(_op, _segment_param), **_tools(),
            **pages_openapi.paths(_segment_param)})),
        "components": components(base_url),
    }


# --- building blocks -----------------------------------------------------------------------------

def _conditional(paths: dict) -> dict:
    """If-None-Match wherever a document's version is: a GET answers 304, a write 412."""
    for operations in paths.values():
        for method, op in operations.items():
            params = op.get("parameters", [])
            if method == "get" and "ETag" in op["responses"].get("200", {}).get("headers", {}):
                op["responses"]["304"] = {"description": "If-None-Match names this representation: "
                                                         "the copy the client holds is current",
                                          "headers": ETAG}
            elif _ref("parameters", "if_match") not in params:
                continue
            params.append(_ref("parameters", "if_none_match"))
            op["parameters"] = params
    return paths


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _rdf(description: str, headers: dict | None = None) -> dict:
    content = {m: {"schema": _ref("schemas", "JsonLdDocument" if "json" in m else "Text")} for m in RDF_OUT}
    return {"description": description, "content": content, **({"headers": headers} if headers else {})}


def _json(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("schemas", schema)}}}


def _op(summary: str, answers: dict, errors: list[int], *, params=(), body=None, secured=False,
        tag: str = "resources") -> dict:
    responses = {str(code): r for code, r in answers.items()}
    responses.update({str(code): _ref("responses", f"E{code}") for code in errors})
    op = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = [_ref("parameters", p) if isinstance(p, str) else p for p in params]
    if body:
        op["requestBody"] = body
    if secured:
        op["security"] = [{"bearer": []}]
    return op


# Generated clients label a body with the last media type of its kind listed: JSON goes out as
# JSON-LD, bytes as Turtle (which N-Triples text is too).
_BODY_ORDER = {"application/ld+json": 1, "text/turtle": 2}


def _rdf_body(example: dict | None = None) -> dict:
    content = {}
    for media in sorted(ACCEPTED_TYPES, key=lambda m: _BODY_ORDER.get(m, 0)):
        schema = _ref("schemas", "JsonLdPayload" if "json" in media else "TextBody")
        content[media] = {"schema": schema, **({"example": example} if example and "json" in media else {})}
    return {"required": True, "content": content}


ETAG = {"ETag": {"description": "The version of this representation, for If-Match",
                 "required": True, "schema": {"type": "string"}}}
PAGED = {"X-Total-Count": {"description": "How many items the whole collection holds", "required": True,
                           "schema": {"type": "string", "pattern": "^[0-9]+$"}},
         "Link": {"description": "first, prev, next and last pages", "schema": {"type": "string"}}}
LOCATION = {**ETAG, "Location": {"description": "The IRI the server gave the new resource",
                                 "required": True, "schema": {"type": "string"}}}


def _segment_param(name: str, example: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": what,
            "schema": {"type": "string", "minLength": 1}, "example": example}


# --- the routes ----------------------------------------------------------------------------------

def _service(base_url: str) -> dict:
    return {
        "/health": {"get": _op("Whether the store answers", {
            200: _json("The store answered a query", "Health"),
            503: {"description": "The store did not answer", "content": {"application/json": {"schema": _ref("schemas", "Health")}}},
        }, [], tag="service")},
        "/": {"get": _op("Where to go from here; a browser (Accept: text/html) gets the home page and sign-in form",
                         {200: {"description": "Name, version and the main URLs; the home page for a browser",
                                "content": {"application/json": {"schema": _ref("schemas", "Index")},
                                            "text/html": {"schema": _ref("schemas", "Text")}}}}, [],
                         tag="service")},
        "/version": {"get": _op("The running release", {200: _json("Name and version", "Version")}, [], tag="service")},
        "/api/contexts/{name}": {"get": _op(
            "Our JSON-LD context, as answers carry it inline after the DFC context, for clients that name it: "
            f"{base_url}/api/contexts/hub.jsonld (DFC 1.x), {base_url}/api/contexts/hub-2.0.jsonld (2.0)", {
            200: {"description": "The context, public and cacheable",
                  "content": {"application/ld+json": {"schema": {"type": "object"}}}},
        }, [404], params=[_segment_param("name", "hub.jsonld", "hub.jsonld (DFC 1.x) or hub-2.0.jsonld (DFC 2.0)")],
            tag="service")},
        "/api/openapi.json": {"get": _op("This description", {200: {
            "description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
            [], tag="service")},
    }


def _resources() -> dict:
    ent = "/api/dfc/enterprises/{eid}"
    paths = {
        "/api/dfc/enterprises": {"get": _op("Enterprises, one page", {200: _rdf("The enterprises", PAGED)},
                                            [400, 406, 503], params=["page", "per_page"])},
        ent: {
            "get": _op("An enterprise", {200: _rdf("The enterprise's document", ETAG)}, READ_ERRORS, params=["eid"]),
            "put": _op("Create or replace an enterprise (the client chooses the id)",
                       {200: _rdf("Replaced", ETAG), 201: _rdf("Created", LOCATION)}, WRITE_ERRORS,
                       params=["eid", "if_match"], body=_rdf_body(
                           {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Enterprise",
                            "dfc-b:name": "My farm"}), secured=True),
            "delete": _op("Delete an enterprise that holds no resources", {204: {"description": "Deleted"}},
                          [400, 401, 403, 404, 409, 412, 503], params=["eid", "if_match"], secured=True),
        },
        ent + "/catalog": {
            "get": _op("The whole catalogue as one graph", {200: _rdf("Products, items, offers")}, [400, 406, 503],
                       params=["eid"]),
            "post": _op("Import products, catalogue items and offers at once", {200: _rdf("What was written")},
                        WRITE_ERRORS, params=["eid"], body=_rdf_body(), secured=True),
        },
        ent + "/settings": {
            "get": _op("A hub's settings (hub:HubSettings), readable by the hub and the admin only",
                       {200: _rdf("The settings", ETAG)}, [400, 401, 403, 404, 406, 503], params=["eid"],
                       secured=True),
            "put": _op("Replace a hub's settings", {200: _rdf("The settings written", ETAG)}, WRITE_ERRORS,
                       params=["eid", "if_match"], body=_rdf_body(), secured=True),
        },
    }
    for segment in KINDS:
        one, rid = SINGULAR[segment], _segment_param("id", EXAMPLE_IDS[segment], "The resource's id")
        paths[f"{ent}/{segment}"] = {
            "get": _op(f"The enterprise's {one}s, one page", {200: _rdf(f"{one}s", PAGED)}, [400, 406, 503],
                       params=["eid", "page", "per_page"]),
            "post": _op(f"Create a {one}; the server mints its id",
                        {201: _rdf("Created", LOCATION)}, WRITE_ERRORS, params=["eid"],
                        body=_rdf_body(EXAMPLE_BODIES[segment]), secured=True),
        }
        paths[f"{ent}/{segment}/{{id}}"] = {
            "get": _op(f"A {one}", {200: _rdf(f"The {one}'s document", ETAG)}, READ_ERRORS, params=["eid", rid]),
            "put": _op(f"Create or replace a {one}", {200: _rdf("Replaced", ETAG), 201: _rdf("Created", LOCATION)},
                       WRITE_ERRORS, params=["eid", rid, "if_match"], body=_rdf_body(EXAMPLE_BODIES[segment]),
                       secured=True),
            "delete": _op(f"Delete a {one}", {204: {"description": "Deleted"}}, [400, 401, 403, 404, 409, 412, 503],
                          params=["eid", rid, "if_match"], secured=True),
        }
    return paths


def _orders(base_url: str) -> dict:
    orders = "/api/dfc/enterprises/{eid}/orders"
    oid = _segment_param("oid", "1", "The order's id")
    lid = _segment_param("lid", "1", "The line's id")
    sid = _segment_param("sid", "week-48", "The sale session's id")
    session = "/api/dfc/enterprises/{eid}/sale_sessions/{sid}"
    read = [400, 401, 403, 404, 406, 503]
    order_write = [400, 401, 403, 404, 406, 409, 412, 413, 415, 422, 503]
    saved = {200: _rdf("The order as stored", ETAG), 201: _rdf("Created", LOCATION)}
    ent = f"{base_url}/api/dfc/enterprises"
    wholesale = {"@context": DFC, "@type": "dfc-b:Order", "dfc-b:orderedBy": f"{ent}/hub-a",
                 "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:hasPart": {
                     "@type": "dfc-b:OrderLine", "dfc-b:concerns": f"{ent}/jean-farm/offers/carrots",
                     "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 1,
                                           "dfc-b:hasUnit": "dfc-m:Kilogram"}}}
    return {
        orders: {
            "get": _op("Orders sold by the enterprise that the caller may read", {200: _rdf("Orders", PAGED)},
                       read, params=["eid", "page", "per_page"], secured=True, tag="orders"),
            "post": _op("Place an order (Held reserves stock, all lines or none)", saved, order_write,
                        params=["eid", "idempotency_key"], body=_rdf_body(wholesale), secured=True, tag="orders"),
        },
        orders + "/{oid}": {
            "get": _op("An order (its seller and buyer only)", {200: _rdf("The order", ETAG)}, read,
                       params=["eid", oid], secured=True, tag="orders"),
            "put": _op("Replace an order; its reservation follows", saved, order_write,
                       params=["eid", oid, "if_match", "idempotency_key"], body=_rdf_body(), secured=True, tag="orders"),
            "delete": _op("Delete an order, releasing what it reserved", {204: {"description": "Deleted"}},
                          [400, 401, 403, 404, 409, 412, 422, 503], params=["eid", oid, "if_match", "idempotency_key"],
                          secured=True, tag="orders"),
        },
        orders + "/{oid}/order_lines": {
            "get": _op("An order's lines", {200: _rdf("The lines")}, read, params=["eid", oid], secured=True,
                       tag="orders"),
        },
        orders + "/{oid}/order_lines/{lid}": {
            "get": _op("One line", {200: _rdf("The line", ETAG)}, read, params=["eid", oid, lid], secured=True,
                       tag="orders"),
            "put": _op("Replace one line; the order's reservation adjusts", {200: _rdf("The line as stored", ETAG)},
                       order_write, params=["eid", oid, lid, "if_match", "idempotency_key"], body=_rdf_body(),
                       secured=True, tag="orders"),
            "delete": _op("Remove one line", {204: {"description": "Removed"}}, [400, 401, 403, 404, 409, 412, 422, 503],
                          params=["eid", oid, lid, "if_match", "idempotency_key"], secured=True, tag="orders"),
        },
        session + "/close": {
            "post": _op("Close the sale session now: its wholesale orders complete", {200: _rdf("The session", {
                **ETAG, "X-Orders-Completed": {"description": "How many wholesale orders this call completed",
                                               "required": True, "schema": {"type": "string"}}})},
                read, params=["eid", sid], secured=True, tag="orders"),
        },
        session + "/summary": {
            "get": _op("Per producer and product: ordered, held, completed, cancelled, kilograms, value", {200: {
                **_rdf("The summary"), "content": {**_rdf("")["content"], "text/csv": {"schema": _ref("schemas", "Text")}}}},
                read, params=["eid", sid], secured=True, tag="orders"),
        },
        session + "/wholesale_orders": {
            "get": _op("The wholesale orders this hub placed for the session", {200: _rdf("Orders", PAGED)}, read,
                       params=["eid", sid, "page", "per_page"], secured=True, tag="orders"),
        },
    }


def _lifecycle() -> dict:
    order = "/api/dfc/enterprises/{eid}/orders/{oid}"
    oid = _segment_param("oid", "1", "The order's id")
    did = _segment_param("did", "1", "The delivery's id")
    read = [400, 401, 403, 404, 406, 503]
    write = [400, 401, 403, 404, 406, 409, 412, 415, 422, 503]
    delivery = {"@context": [DFC, {"hub": "https://w3id.org/dfc-order-hub/ns#"}], "@type": "hub:Delivery",
                "hub:desiredDeliveryDate": "2026-12-01", "hub:hasDeliveryLine": {
                    "@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": "…/order_lines/1"}, "dfc-b:quantity": 2}}
    return {
        order + "/status": {"post": _op(
            "Move a wholesale order in its lifecycle (409 with `allowed` when this agent may not, now)",
            {200: _rdf("The order", ETAG)}, [400, 401, 403, 404, 406, 409, 412, 422, 503],
            params=["eid", oid, "if_match", "idempotency_key"], body={"required": True, "content": {"application/json": {
                "schema": _ref("schemas", "StatusChange")}}}, secured=True, tag="lifecycle")},
        order + "/deliveries": {
            "get": _op("The order's deliveries (both parties)", {200: _rdf("Deliveries")}, read,
                       params=["eid", oid], secured=True, tag="lifecycle"),
            "post": _op("Add a delivery (the consumer, in draft or placed)", {201: _rdf("Created", LOCATION)},
                        write, params=["eid", oid, "idempotency_key"], body=_rdf_body(delivery), secured=True, tag="lifecycle"),
        },
        order + "/deliveries/{did}": {
            "get": _op("One delivery", {200: _rdf("The delivery", ETAG)}, read, params=["eid", oid, did],
                       secured=True, tag="lifecycle"),
            "put": _op("Change a delivery (the consumer; the supplier sets hub:confirmedDeliveryDate only)",
                       {200: _rdf("The delivery", ETAG)}, write, params=["eid", oid, did, "if_match", "idempotency_key"],
                       body=_rdf_body(delivery), secured=True, tag="lifecycle"),
            "delete": _op("Remove an unshipped delivery", {204: {"description": "Removed"}}, write,
                          params=["eid", oid, did, "if_match", "idempotency_key"], secured=True, tag="lifecycle"),
        },
        order + "/deliveries/{did}/ship": {"post": _op(
            "Ship a delivery (the supplier): its quantities leave stock, the order becomes (partially) shipped",
            {200: _rdf("The order", ETAG)}, [400, 401, 403, 404, 406, 409, 422, 503],
            params=["eid", oid, did, "idempotency_key"],
            secured=True, tag="lifecycle")},
    }


def _contracts(base_url: str) -> dict:
    contracts = "/api/dfc/enterprises/{eid}/contracts"
    cid = _segment_param("cid", "hub-a-2026", "The contract's id")
    read = [400, 401, 403, 404, 406, 503]
    saved = {200: _rdf("The contract as stored", ETAG), 201: _rdf("Created", LOCATION)}
    ent = f"{base_url}/api/dfc/enterprises"
    example = {"@context": [DFC, {"hub": "https://w3id.org/dfc-order-hub/ns#"}], "@type": "hub:Contract",
               "hub:consumer": f"{ent}/hub-a", "dfc-b:startDate": "2026-01-01", "dfc-b:endDate": "2026-12-31",
               "hub:contractPrice": {"hub:item": f"{ent}/jean-farm/catalog_items/carrots", "dfc-b:hasPrice": {
                   "@type": "dfc-b:Price", "dfc-b:value": "2.50", "dfc-b:hasUnit": "dfc-m:Euro"}}}
    return {
        contracts: {
            "get": _op("The supplier's contracts the caller may read (all for the supplier, its own for a consumer)",
                       {200: _rdf("Contracts", PAGED)}, read, params=["eid", "page", "per_page"], secured=True,
                       tag="contracts"),
            "post": _op("Make a contract with one consumer: a price per catalogue item, between two days",
                        {201: _rdf("Created", LOCATION)}, WRITE_ERRORS, params=["eid"], body=_rdf_body(example),
                        secured=True, tag="contracts"),
        },
        contracts + "/{cid}": {
            "get": _op("A contract (its supplier and consumer only)", {200: _rdf("The contract", ETAG)}, read,
                       params=["eid", cid], secured=True, tag="contracts"),
            "put": _op("Create or replace a contract", saved, WRITE_ERRORS, params=["eid", cid, "if_match"],
                       body=_rdf_body(example), secured=True, tag="contracts"),
            "delete": _op("Delete a contract; prices already frozen on order lines stay",
                          {204: {"description": "Deleted"}}, [400, 401, 403, 404, 412, 503],
                          params=["eid", cid, "if_match"], secured=True, tag="contracts"),
        },
    }


def _persons() -> dict:
    person = "/api/dfc/enterprises/{eid}/persons/{pid}"
    pid = {"name": "pid", "in": "path", "required": True, "description": "The person's id",
           "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"}, "example": "3f2a9c1b7d4e"}
    read = [400, 401, 403, 404, 406, 410, 503]
    return {
        person: {
            "get": _op("A customer's personal data (the hub that holds them only)", {200: _rdf("The person", ETAG)},
                       read, params=["eid", pid], secured=True, tag="persons"),
            "delete": _op("Erase a customer's personal data everywhere; their orders stay, under a fresh "
                          "pseudonym", {204: {"description": "Erased"}}, [400, 401, 403, 404, 410, 503],
                          params=["eid", pid], secured=True, tag="persons"),
        },
        person + "/export": {
            "get": _op("Everything the hub holds of a customer: the person and every order they placed",
                       {200: _rdf("The person and their orders")}, read, params=["eid", pid], secured=True,
                       tag="persons"),
        },
    }


def _partners() -> dict:
    partner = "/api/dfc/enterprises/{eid}/partners/{slug}"
    slug = _segment_param("slug", "far-farm", "The partner's id, chosen by the hub")
    write = [400, 401, 403, 404, 406, 412, 413, 415, 422, 503]
    body = {"required": True, "content": {"application/json": {"schema": _ref("schemas", "PartnerRequest")}}}
    return {
        partner: {
            "get": _op("A partner platform of the hub (never its credentials; hub:credentialsRefused when "
                       "its identity provider refused them)", {200: _rdf("The partner", ETAG)},
                       [400, 401, 403, 404, 406, 503], params=["eid", slug], secured=True, tag="partners"),
            "put": _op("Configure a partner platform: its producer, catalogue and orders URLs, its credentials",
                       {200: _rdf("The partner as stored", ETAG), 201: _rdf("Created", ETAG)}, write,
                       params=["eid", slug, "if_match"], body=body, secured=True, tag="partners"),
            "delete": _op("Remove a partner, its token and the copies its syncs kept",
                          {204: {"description": "Removed"}}, [400, 401, 403, 404, 412, 503],
                          params=["eid", slug, "if_match"], secured=True, tag="partners"),
        },
        partner + "/sync": {
            "post": _op("Fetch the partner's configured catalogue and keep a copy of it, this partner's own",
                        {200: _json("What changed", "SyncReport")}, [400, 401, 403, 404, 409, 422, 502, 503],
                        params=["eid", slug], secured=True, tag="partners"),
        },
    }


def _tools() -> dict:
    profile = {"name": "profile", "in": "query", "description": "What the payload should be",
               "schema": {"type": "string", "enum": ["auto", *PROFILES], "default": "auto"}}
    report = {m: {"schema": _ref("schemas", "Report" if m == "application/json" else
                                 "JsonLdDocument" if "json" in m else "Text")}
              for m in REPORT_TYPES}
    html = {"text/html": {"schema": _ref("schemas", "Text")}}
    form = {"type": "object", "properties": {
        "payload": {"type": "string"}, "profile": {"type": "string", "enum": ["auto", *PROFILES]},
        "syntax": {"type": "string", "enum": ["json-ld", "turtle", "n-triples"]}}}
    results = {m: {"schema": _ref("schemas", "SparqlResults" if "json" in m else "Text")}
               for m in [*RESULT_MEDIA, *GRAPH_MEDIA, "application/json"]}
    sparql = [400, 401, 403, 406, 415, 503]
    graphs = [{"name": n, "in": "query", "description": "Narrows the dataset (SPARQL 1.1 Protocol)",
               "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True}
              for n in ("default-graph-uri", "named-graph-uri")]
    return {
        "/api/admin/tokens": {"post": _op("Issue an opaque token for an agent (admin only)",
                                          {201: _json("The token, shown once", "Token")},
                                          [400, 401, 403, 413, 422, 503],
                                          body={"required": True, "content": {"application/json": {
                                              "schema": _ref("schemas", "TokenRequest")}}},
                                          secured=True, tag="admin")},
        "/api/conformance/validate": {"post": _op(
            "Validate a DFC payload; nothing is stored, no token needed",
            {200: {"description": "The report (a payload that does not conform is still a 200)", "content": report}},
            [400, 406, 413, 415], params=[profile], body=_rdf_body(), tag="conformance")},
        "/conformance": {
            "get": _op("The validator as an HTML form", {200: {"description": "The page", "content": html}}, [],
                       tag="conformance"),
            "post": _op("The form's answer: the report as HTML", {
                200: {"description": "The report", "content": html},
                **{code: {"description": ERROR_MEANING[code], "content": html} for code in (400, 413, 415, 422)}},
                [], body={"required": True, "content": {"application/x-www-form-urlencoded": {"schema": form}}},
                tag="conformance"),
        },
        "/sparql": {
            "get": _op("Run a read-only SPARQL query over the anonymised dataset (Analytics scope)",
                       {200: {"description": "The results", "content": results}}, sparql,
                       params=[{"name": "query", "in": "query", "required": True, "schema": {"type": "string"},
                                "example": "SELECT ?name WHERE { ?e <https://github.com/datafoodconsortium/ontology/"
                                           "releases/latest/download/DFC_BusinessOntology.owl#name> ?name }"},
                               *graphs], secured=True, tag="analytics"),
            "post": _op("The same, the query in a form or as application/sparql-query",
                        {200: {"description": "The results", "content": results}}, sparql, params=graphs,
                        body={"required": True, "content": {
                            "application/x-www-form-urlencoded": {"schema": {
                                "type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}}},
                            "application/sparql-query": {"schema": _ref("schemas", "TextBody")}}},
                        secured=True, tag="analytics"),
        },
    }
