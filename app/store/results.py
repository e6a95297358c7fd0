"""SPARQL JSON results (a SELECT's) as rows of terms: what both backends' `select` return.

Read here in one pass rather than through pyoxigraph's iterator, which lets go of the GIL for
each row: the thread then waits to take it back from the others (app/store/embedded.py).
"""
from __future__ import annotations

import json

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.errors import QueryError


def json_rows(results: bytes) -> list[dict]:
    """One dict per solution, variable name → term (unbound ones absent)."""
    try:
        return [{name: _term(value) for name, value in row.items()} for row in json.loads(results)["results"]["bindings"]]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise QueryError(f"the store's answer is not SPARQL JSON results: {e!r}"[:300]) from None


# The datatypes results carry, each made once: a few in practice, but a partner may send any,
# so at most DATATYPES are kept and the rest made as they come.
_DATATYPES: dict[str, NamedNode] = {}
DATATYPES = 256
_DIRECTIONS = {"ltr": ox.BaseDirection.LTR, "rtl": ox.BaseDirection.RTL}


def _term(value: dict):
    """A term of a SPARQL 1.1 (and 1.2: triple terms) JSON results binding."""
    kind = value["type"]
    if kind == "uri":
        return NamedNode(value["value"])
    if kind == "literal":
        if "xml:lang" in value:
            if "its:dir" in value:       # RDF 1.2's base direction
                return Literal(value["value"], language=value["xml:lang"], direction=_DIRECTIONS[value["its:dir"]])
            return Literal(value["value"], language=value["xml:lang"])
        datatype = value.get("datatype")
        if datatype is None:
            return Literal(value["value"])
        node = _DATATYPES.get(datatype)
        if node is None:
            node = NamedNode(datatype)
            if len(_DATATYPES) < DATATYPES:
                _DATATYPES[datatype] = node
        return Literal(value["value"], datatype=node)
    if kind == "bnode":
        return BlankNode(value["value"])
    if kind == "triple":
        inner = value["value"]
        return Triple(_term(inner["subject"]), _term(inner["predicate"]), _term(inner["object"]))
    raise QueryError(f"the store answered a term of an unknown kind: {kind}")
