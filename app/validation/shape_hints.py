"""Hints for SHACL results: what the shape a value broke asks for, said as how to fix it."""
from __future__ import annotations

import difflib
import re

from app.namespaces import XSD
from app.validation.hints import literal_hint
from app.errors import Result
from app.validation.terms import short, short_path


def shacl_hint(r: Result, counts: dict, shapes) -> tuple[str, str]:
    """Return (hint code, hint) for a result of a shape of `shapes` (app.validation.shapes)."""
    shape = shapes.get(r.shape)
    value, path = r.value, r.path or ""
    p = short_path(path)
    if shape is None or not shape.targets:
        return "shape", f"See {p} in the DFC ontology 1.16."
    if shape.in_ is not None and value:
        allowed = [short(v) for v in shape.in_]
        guess = difflib.get_close_matches(short(value), allowed, n=1, cutoff=0.6)
        return "not-in-vocabulary", (f"Did you mean {guess[0]}? " if guess else "") + \
            f"Use one of {', '.join(allowed)}."
    if shape.datatype and value is not None and value.startswith("_:"):
        return "node-for-literal", f"Send {p} as a plain value, not a node."
    if shape.node_kind and value is not None and not value.startswith(("http", "_:", "urn:")):
        return "literal-for-object", literal_hint(path, value)
    if shape.datatype == XSD + "decimal" and value is not None:
        number = re.search(r"[-+]?\d+(?:[.,]\d+)?", value)
        return "not-a-number", (f"Send the number alone: {number.group(0).replace(',', '.')} (no currency "
                                "or unit; those go in dfc-b:hasUnit)." if number else
                                "Send a number, e.g. 3 or \"2.50\".")
    if shape.datatype == XSD + "dateTime" and value is not None:
        return "not-a-date", "Send an ISO 8601 date-time such as \"2024-10-17T03:58:10Z\"" + (
            f"; \"{value}\" looks like a placeholder." if value.isalpha() else ".")
    if shape.min_inclusive is not None and value is not None:
        return "negative-number", f"Send 0 or more for {p}."
    count = counts.get((r.focus, path), 0)
    if shape.max_count is not None and count > shape.max_count:
        return "too-many-values", f"Give {p} once only ({count} values were sent)."
    if shape.min_count is not None:
        return "missing-property", f"Add {p} to this {short(shape.targets[0])}."
    return "shape", f"See {p} in the DFC ontology 1.16."
