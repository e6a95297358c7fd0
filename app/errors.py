"""The hub's errors; each knows its HTTP status and renders as RFC 9457 problem+json.

    HubError
    ├── BadRequest (400)            not JSON, not JSON-LD, unknown remote context, bad parameter
    │   ├── UnknownContext          a remote @context we will not fetch
    │   ├── InvalidQuery            an analyst's SPARQL the store cannot parse or evaluate
    │   ├── QueryRefused            an update, LOAD or SERVICE sent to the read-only endpoint
    │   └── ResultTooLarge          an analyst's result beyond DFC_HUB_SPARQL_MAX_RESULT_BYTES
    ├── Unauthorized (401)          no token or a bad one
    ├── Forbidden (403)             the agent may not do this
    ├── NotFound (404)
    ├── NotAcceptable (406)
    ├── Gone (410)                  a person whose personal data was erased (a tombstone remains)
    ├── Conflict (409)              a state that forbids the change
    │   ├── Shortage                not enough stock, with `shortages`
    │   └── SessionNotOpen          a sale session closed, or outside its dates
    ├── PreconditionFailed (412)    stale If-Match
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── ShapeViolation (422)        SHACL violations, with `violations`
    ├── KeyReused (422)             an Idempotency-Key sent again with another request
    ├── InvalidValue (422)          a well-formed body with a value the server cannot use
    ├── QueryError (500)            the store refused one of our queries: a bug of ours
    ├── PartnerError (502)          a partner platform answered what we cannot use
    ├── StoreUnavailable (503)      the store did not answer
    │   ├── OutcomeUnknown          it did not answer a commit: the change may have been written
    │   ├── LockLost                a commit found its lock taken over (too slow to renew): nothing written
    │   ├── QueryTimeout            an analyst's query ran past DFC_HUB_SPARQL_TIMEOUT_SECONDS
    │   └── AnalyticsBusy           every analyst query slot is taken
    └── PartnerUnavailable (503)    a partner platform did not answer in time, or failed (5xx)
        ├── PartnerBusy             DFC_HUB_PARTNER_CONCURRENCY calls to that partner already under way
        └── CredentialsRefused      the partner's identity provider refused its credentials: PUT new ones

Nothing here knows about HTTP frameworks: `app/api` renders `problem()`.
"""
from collections.abc import Mapping
from dataclasses import dataclass

from pyoxigraph import BlankNode

# --- Result: one finding of a check (a SHACL result, a report's hint, a 422's violation) -------
#
#     Result("Violation", focus="https://…/offers/1", path=DFC_B + "price", value="lots", message="…")
#     r.to_json()     # {"severity", "focusNode", "path", "value", "message", …} as API.md writes it
#
# Terms are text: an IRI or a literal's lexical form as itself, a blank node as `_:id`. It lives
# here, at the bottom, because every error that lists what was wrong carries Results.

# The JSON name of each field, in the order the JSON writes them.
_JSON = {"severity": "severity", "focusNode": "focus", "path": "path", "value": "value",
         "message": "message", "shape": "shape", "pointer": "pointer", "hint": "hint",
         "hintCode": "hint_code", "resource": "resource"}
_ALWAYS = ("severity", "focusNode", "path", "value", "message")
RANK = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(slots=True)
class Result(Mapping):
    """What is wrong, where, and (in a conformance report) how to put it right."""

    severity: str                     # Violation | Warning | Info
    focus: str | None                 # the node the result is about (JSON: focusNode)
    path: str | None                  # a property, `a/b` (sequence) or `a|b` (alternatives)
    value: str | None
    message: str
    shape: str | None = None          # the SHACL shape that found it
    pointer: str | None = None        # where in the JSON-LD document (RFC 6901)
    hint: str | None = None           # how to fix it (conformance reports)
    hint_code: str | None = None      # the hint's kind, for machines (JSON: hintCode)
    resource: str | None = None       # the named resource that holds the focus node

    def to_json(self) -> dict:
        """Return the JSON object: the five members API.md fixes, then those that are set."""
        return dict(self.items())

    def __getitem__(self, key: str):
        try:
            return getattr(self, _JSON[key])
        except KeyError:
            raise KeyError(key) from None

    def __iter__(self):
        return (k for k, name in _JSON.items() if k in _ALWAYS or getattr(self, name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key) -> bool:
        return key in _JSON and (key in _ALWAYS or getattr(self, _JSON[key]) is not None)



class HubError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal-error"

    def __init__(self, detail: str = "", **extra):
        clash = {"type", "title", "status", "detail"} & set(extra)
        if clash:
            raise TypeError(f"problem members {sorted(clash)} are not extras")
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self) -> dict:
        """Return the RFC 9457 body of this error."""
        body = {
            "type": f"https://w3id.org/dfc-order-hub/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update({key: _plain(value) for key, value in self.extra.items()})
        return body


def _error(name, status, title, slug, base=HubError):
    return type(name, (base,), {"status": status, "title": title, "slug": slug})


BadRequest = _error("BadRequest", 400, "Bad request", "bad-request")
UnknownContext = _error("UnknownContext", 400, "Unknown remote JSON-LD context", "unknown-context", BadRequest)
InvalidQuery = _error("InvalidQuery", 400, "Invalid SPARQL query", "invalid-query", BadRequest)
QueryRefused = _error("QueryRefused", 400, "Query refused", "query-refused", BadRequest)
ResultTooLarge = _error("ResultTooLarge", 400, "Result too large", "result-too-large", BadRequest)
Unauthorized = _error("Unauthorized", 401, "Unauthorized", "unauthorized")
Forbidden = _error("Forbidden", 403, "Forbidden", "forbidden")
NotFound = _error("NotFound", 404, "Not found", "not-found")
NotAcceptable = _error("NotAcceptable", 406, "Not acceptable", "not-acceptable")
Gone = _error("Gone", 410, "Gone", "gone")
Conflict = _error("Conflict", 409, "Conflict", "conflict")
Shortage = _error("Shortage", 409, "Not enough stock", "shortage", Conflict)
SessionNotOpen = _error("SessionNotOpen", 409, "Sale session not open", "session-not-open", Conflict)
PreconditionFailed = _error("PreconditionFailed", 412, "Precondition failed", "precondition-failed")
PayloadTooLarge = _error("PayloadTooLarge", 413, "Payload too large", "payload-too-large")
UnsupportedMediaType = _error("UnsupportedMediaType", 415, "Unsupported media type", "unsupported-media-type")
ShapeViolation = _error("ShapeViolation", 422, "The payload does not conform to the DFC shapes", "shape-violation")
InvalidValue = _error("InvalidValue", 422, "Invalid value", "invalid-value")
KeyReused = _error("KeyReused", 422, "Idempotency key reused", "idempotency-key-reused")
QueryError = _error("QueryError", 500, "The store refused a query", "store-query-error")
StoreUnavailable = _error("StoreUnavailable", 503, "Store unavailable", "store-unavailable")
OutcomeUnknown = _error("OutcomeUnknown", 503, "Outcome unknown", "outcome-unknown", StoreUnavailable)
# Nothing was written, as for any store-unavailable: the same problem type, a detail of its own.
LockLost = _error("LockLost", 503, "Store unavailable", "store-unavailable", StoreUnavailable)
QueryTimeout = _error("QueryTimeout", 503, "Query timed out", "query-timeout", StoreUnavailable)
AnalyticsBusy = _error("AnalyticsBusy", 503, "Too many analyst queries", "analytics-busy", StoreUnavailable)
PartnerError = _error("PartnerError", 502, "Unusable answer from a partner platform", "partner-error")
PartnerUnavailable = _error("PartnerUnavailable", 503, "Partner platform unavailable", "partner-unavailable")
PartnerBusy = _error("PartnerBusy", 503, "Too many calls to this partner platform at once", "partner-busy",
                     PartnerUnavailable)
CredentialsRefused = _error("CredentialsRefused", 503, "The partner platform needs new credentials",
                            "partner-credentials-refused", PartnerUnavailable)


def clipped(text: str, limit: int = 200) -> str:
    """A client's text short enough to repeat in a problem (it may be megabytes), saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit - 25]}… ({len(text)} characters)"


def echoed(value, limit: int = 80) -> str:
    """What a client sent, as an error's message repeats it: quoted, and clipped."""
    return clipped(repr(value), limit)


def violation(focus, path, value, message: str, pointer: str | None = None) -> Result:
    """One entry of a 422's `violations`, shaped like a SHACL result (API.md): terms as text."""
    return Result("Violation", _text(focus), _text(path), _text(value), message, pointer=pointer)


def _plain(value):
    """A list of Results (`violations`, `warnings`) as their JSON objects; anything else as it is."""
    if isinstance(value, list):
        return [v.to_json() if isinstance(v, Result) else v for v in value]
    return value


def _text(term):
    """An IRI or literal's text, a blank node as `_:id`; strings and None as they are."""
    if term is None or isinstance(term, str):
        return term
    return str(term) if isinstance(term, BlankNode) else getattr(term, "value", str(term))
