"""The components of the OpenAPI description (app/api/description/openapi.py): parameters, errors, schemas.

JSON-LD is described so that generators (openapi-python-client) make a function for every
operation: a document is an object whose `@graph` holds node objects, a body is such a document
or an array of node objects, and every array says what it holds.
"""
from __future__ import annotations

from app.api.description import events as openapi_events
from app.domain import statuses

PROBLEM = "application/problem+json"
ERROR_MEANING = {
    400: "Not JSON, not JSON-LD, an unknown remote context, a bad id or query parameter",
    401: "No token, or one the server does not know",
    403: "The token's agent may not do this",
    404: "No such resource",
    406: "None of the representations the Accept header allows",
    409: "Not enough stock (with `shortages`), or a state that forbids the change",
    410: "The person was erased: a tombstone without personal data stays at the IRI",
    412: "If-Match names another version than the current one, or If-None-Match names the current one "
         "(`*`: any)",
    413: "The body is larger than DFC_HUB_MAX_BODY_BYTES",
    415: "A Content-Type the server does not read",
    422: "SHACL violations (with `violations`), a term or IRI the server would refuse to store, an "
         "Idempotency-Key reused for another request, or a token asked for an agent that is no IRI",
    502: "A partner platform answered what the server cannot use (not DFC, not conforming, another status)",
    503: "The store did not answer, an analyst query ran too long or found no free slot, or a partner "
         "platform did not answer in time (or failed with a 5xx) or already had DFC_HUB_PARTNER_CONCURRENCY "
         "calls under way, or its identity provider refused the hub's credentials (the partner needs new "
         "ones: `partner`, `needsCredentials`): nothing was reserved",
}


def components(base_url: str) -> dict:
    """The description's components: security, parameters, error answers and schemas."""
    problem = {"description": "", "content": {PROBLEM: {"schema": _ref("schemas", "Problem")}}}
    return {
        "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "An opaque token (the admin token, or one issued by POST /api/admin/tokens) or an "
                           "RS256 JWT from an issuer configured in DFC_HUB_JWT_ISSUERS. Reads of public "
                           "catalogue data need none."}},
        "parameters": {
            "eid": {"name": "eid", "in": "path", "required": True, "description": "The enterprise's id",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"},
                    "example": "jean-farm"},
            "page": {"name": "page", "in": "query", "description": "Page number, from 1",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000_000}},
            "per_page": {"name": "per_page", "in": "query",
                         "description": "Items per page (DFC_HUB_PAGE_SIZE by default, DFC_HUB_MAX_PAGE_SIZE at most)",
                         "schema": {"type": "integer", "minimum": 1}},
            "if_match": {"name": "If-Match", "in": "header", "description": "Change only this version (an ETag)",
                         "schema": {"type": "string"}},
            "if_none_match": {"name": "If-None-Match", "in": "header",
                              "description": "A read: answer 304 if this is still the version (an ETag) the "
                                             "client holds. A write: only if the resource has no such version; "
                                             "`*`, only if it does not exist yet",
                              "schema": {"type": "string"}},
            "idempotency_key": {"name": "Idempotency-Key", "in": "header",
                                "description": "A retry with the same key gets the first answer",
                                "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
        },
        "responses": {f"E{code}": {**problem, "description": meaning} for code, meaning in ERROR_MEANING.items()},
        "schemas": {
            "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"},
                "violations": {"type": "array", "items": {"type": "object"}},
                "shortages": {"type": "array", "items": {"type": "object"}}}},
            "JsonLdNode": {"type": "object", "additionalProperties": True,
                           "description": "A JSON-LD node object: DFC terms, compacted (`dfc-b:name`, …)",
                           "properties": {"@id": {"type": "string"}, "@type": _ref("schemas", "JsonLdTypes")}},
            "JsonLdTypes": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "JsonLdDocument": {"type": "object", "additionalProperties": True,
                               "description": "DFC JSON-LD: one node object, or an @graph of them. The @context "
                                              "is the DFC context URL, then ours inline (an object)",
                               "properties": _DOCUMENT_PROPERTIES},
            "JsonLdContext": {"description": "A context URL, an inline context, or a list of those",
                              "anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": True},
                                        {"type": "array", "items": {"anyOf": [
                                            {"type": "string"}, {"type": "object", "additionalProperties": True}]}}]},
            # An object, not a union with the array form the server reads too: generators cannot
            # send a union of a model and a list (openapi-python-client's isinstance on list[...]).
            "JsonLdPayload": {"type": "object", "additionalProperties": True,
                              "description": "JSON-LD with a DFC context (by URL or inline): one node object, or an "
                                             "@graph of them. The server also reads a top-level array of node objects",
                              "properties": _DOCUMENT_PROPERTIES},
            "Text": {"type": "string"},
            # Bytes, for generators: a client sends the Turtle or SPARQL text as it has it.
            "TextBody": {"type": "string", "format": "binary", "description": "Turtle, N-Triples or SPARQL text"},
            "Report": {"type": "object", "required": ["conforms", "results"], "properties": {
                "conforms": {"type": "boolean"}, "dfcVersion": {"type": ["string", "null"]},
                "profile": {"type": "string"},
                "results": {"type": "array", "items": {"type": "object", "required": ["severity", "message"],
                                                       "properties": {
                    "severity": {"type": "string", "enum": ["Violation", "Warning", "Info"]},
                    "focusNode": {"type": ["string", "null"]}, "path": {"type": ["string", "null"]},
                    "value": {}, "message": {"type": "string"}, "hint": {"type": ["string", "null"]}}}}}},
            "PartnerRequest": {"type": "object", "required": ["enterprise", "catalog", "orders"],
                               "additionalProperties": False, "properties": {
                "enterprise": {"type": "string", "description": "The remote producer's IRI"},
                "catalog": {"type": "string", "description": "Its catalogue URL (the only URL a sync reads), on "
                                                             "the origin of enterprise"},
                "orders": {"type": "string", "description": "Its orders collection URL"},
                "token": {"type": "string", "description": "A bearer token for that platform, sent only to the "
                                                           "origins of catalog and orders as given with it; it or "
                                                           "`auth` is required when the partner is created and when a "
                                                           "PUT moves catalog or orders to another origin (422 "
                                                           "naming the field, `required`), kept when left out "
                                                           "otherwise"},
                "auth": _ref("schemas", "PartnerAuth")}},
            "PartnerAuth": {"description": "How the hub gets an access token for the partner (OAuth 2.0, RFC 6749); "
                            "never shown", "oneOf": [
                _auth("bearer", ["token"], []),
                _auth("client_credentials", ["token_url", "client_id", "client_secret"],
                      ["scope", "token_endpoint_auth_method"]),
                _auth("refresh_token", ["token_url", "client_id", "refresh_token"],
                      ["client_secret", "token_endpoint_auth_method"])]},
            "SyncReport": {"type": "object", "required": ["partner", "added", "changed", "removed", "unchanged"],
                           "properties": {
                "partner": {"type": "string"}, "catalog": {"type": "string"}, "fetchedAt": {"type": "string"},
                "added": {"type": "array", "items": {"type": "string"}},
                "changed": {"type": "array", "items": {"type": "string"}},
                "removed": {"type": "array", "items": {"type": "string"}},
                "unchanged": {"type": "integer"},
                "ignored": {"type": "array", "items": {"type": "string"},
                            "description": "Documents not on the producer's origin, or documents of this server"}}},
            "StatusChange": {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": [statuses.name(x) for x in statuses.STATUSES]},
                "reason": {"type": "string", "maxLength": 2000}}},
            "TokenRequest": {"type": "object", "required": ["agent"], "properties": {
                "agent": {"type": "string", "description": "The agent's IRI", "example":
                          f"{base_url}/api/dfc/enterprises/jean-farm"},
                "scopes": {"type": "array", "items": {"type": "string"}, "example": ["WriteProducts"]}}},
            "Token": {"type": "object", "required": ["token", "agent", "scopes"], "properties": {
                "token": {"type": "string"}, "agent": {"type": "string"},
                "scopes": {"type": "array", "items": {"type": "string"}}}},
            "Health": {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable"]}, "store": {"type": "string"}}},
            "Version": {"type": "object", "required": ["name", "version"], "properties": {
                "name": {"type": "string"}, "version": {"type": "string"}}},
            "Index": {"type": "object", "required": ["name", "version", "links"], "properties": {
                "name": {"type": "string"}, "version": {"type": "string"},
                "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
            "SparqlResults": {"type": "object", "description": "SPARQL 1.1 Query Results JSON, or JSON-LD"},
            **openapi_events.schemas(),
        },
    }


def _auth(kind: str, required: list[str], optional: list[str]) -> dict:
    """One kind of a partner's `auth`: its members, all strings."""
    return {"type": "object", "required": ["kind", *required], "additionalProperties": False,
            "properties": {"kind": {"const": kind}, **{m: {"type": "string"} for m in [*required, *optional]}}}


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


# What a JSON-LD document may hold at its top, whether described as a document or as a payload.
_DOCUMENT_PROPERTIES = {"@context": _ref("schemas", "JsonLdContext"), "@id": {"type": "string"},
                        "@type": _ref("schemas", "JsonLdTypes"),
                        "@graph": {"type": "array", "items": _ref("schemas", "JsonLdNode")}}
