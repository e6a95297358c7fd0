"""One result of a check: a SHACL result, a hint of the conformance report, a 422's violation.

    Result("Violation", focus="https://…/offers/1", path=DFC_B + "price", value="lots",
           message="…", shape="https://w3id.org/dfc-order-hub/shapes#Offer-price")
    r.to_json()     # {"severity", "focusNode", "path", "value", "message", …} as API.md writes it
    r["focusNode"]  # the same keys, read-only, for templates and callers of the JSON form

Terms are text: an IRI or a literal's lexical form as itself, a blank node as `_:id`. The
optional members (shape, pointer, hint, hintCode, resource) appear in the JSON only when set.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
