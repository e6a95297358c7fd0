"""Hints for SHACL results: what the shape a value broke asks for, said as how to fix it."""
from __future__ import annotations

import difflib
import functools
import re

import rdflib

from app.namespaces import SH
from app.validation.hints import literal_hint
from app.validation.terms import short, short_path


def shacl_hint(r: dict, counts: dict) -> tuple[str, str]:
    """Return (hint code, hint) for a result of our SHACL shapes."""
    shape = shape_facts().get(r["shape"], {})
    value, path = r["value"], r["path"] or ""
    p = short_path(path)
    if "in" in shape and value:
        allowed = [short(v) for v in shape["in"]]
        guess = difflib.get_close_matches(short(value), allowed, n=1, cutoff=0.6)
        return "not-in-vocabulary", (f"Did you mean {guess[0]}? " if guess else "") + \
            f"Use one of {', '.join(allowed)}."
    if shape.get("datatype") and value is not None and value.startswith("_:"):
        return "node-for-literal", f"Send {p} as a plain value, not a node."
    if shape.get("nodeKind") and value is not None and not value.startswith(("http", "_:", "urn:")):
        return "literal-for-object", literal_hint(path, value)
    if shape.get("datatype") == rdflib.XSD.decimal and value is not None:
        number = re.search(r"[-+]?\d+(?:[.,]\d+)?", value)
        return "not-a-number", (f"Send the number alone: {number.group(0).replace(',', '.')} (no currency "
                                "or unit; those go in dfc-b:hasUnit)." if number else
                                "Send a number, e.g. 3 or \"2.50\".")
    if shape.get("datatype") == rdflib.XSD.dateTime and value is not None:
        return "not-a-date", "Send an ISO 8601 date-time such as \"2024-10-17T03:58:10Z\"" + (
            f"; \"{value}\" looks like a placeholder." if value.isalpha() else ".")
    if "minInclusive" in shape and value is not None:
        return "negative-number", f"Send 0 or more for {p}."
    count = counts.get((r["focusNode"], path), 0)
    if "maxCount" in shape and count > shape["maxCount"]:
        return "too-many-values", f"Give {p} once only ({count} values were sent)."
    if "minCount" in shape:
        return "missing-property", f"Add {p} to this {short(shape['target'])}."
    return "shape", f"See {p} in the DFC ontology 1.16."


@functools.cache
def shape_facts() -> dict:
    """The constraints of each of our shapes, read once from the shapes graph."""
    from app.validation import load_shapes_graph

    graph, sh = load_shapes_graph(), rdflib.Namespace(SH)
    facts = {}
    for shape in set(graph.subjects(sh.targetClass, None)):
        f = {"target": str(graph.value(shape, sh.targetClass))}
        for key in ("datatype", "nodeKind"):
            if graph.value(shape, sh[key]) is not None:
                f[key] = graph.value(shape, sh[key])
        for key in ("minCount", "maxCount", "minInclusive"):
            if graph.value(shape, sh[key]) is not None:
                f[key] = graph.value(shape, sh[key]).toPython()
        if graph.value(shape, sh["in"]) is not None:
            f["in"] = [str(v) for v in rdflib.collection.Collection(graph, graph.value(shape, sh["in"]))]
        facts[str(shape)] = f
    return facts
