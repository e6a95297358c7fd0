"""SPARQL lives in .rq (queries) and .ru (updates) files beside this module, loaded by name.

Values are never pasted into query text by callers: `bind` replaces variables by terms that
pyoxigraph serialises (and so escapes), skipping IRIs, strings and comments in the template.
Every backend runs the same bound text, so a query behaves alike in memory and over HTTP.
A bound variable becomes a constant: it must not be projected (`SELECT ?x`) nor assigned
(`AS ?x`, `VALUES ?x`); blank nodes cannot be bound (in query text they match anything).
A list binds to its terms separated by spaces, for `VALUES ?x { $list }`; a list of tuples to
one row per tuple, for `VALUES (?x ?y) { $rows }`.
"""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import re
from collections.abc import Mapping
from importlib import resources

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

XSD = "http://www.w3.org/2001/XMLSchema#"

# Tokens a variable may hide in (skipped whole), else a variable. VARNAME is Unicode (\w plus
# the extra SPARQL name characters), so `?ab` is never matched inside `?abé` or `?ab·c`.
# An IRI is skipped when it starts with a scheme, `#`, `/` or `.`: `FILTER(?a<?b&&?c>?d)` is
# two comparisons, as Oxigraph reads it, not the relative IRI `<?b&&?c>`.
_TOKENS = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n\r]|\\.)*"|\'(?:[^\'\\\n\r]|\\.)*\''
    r'|<(?:[A-Za-z][A-Za-z0-9+.\-]*:|[#/.])[^<>"{}|^`\\\x00-\x20]*>|\#[^\n\r]*)'
    r"|[?$](?P<var>[\w\u00b7\u0300-\u036f\u203f\u2040]+)"
)


@functools.cache
def load(name: str) -> str:
    """Return the text of `name.rq` or `name.ru` (a path like `analytics/x` for subfolders)."""
    base = resources.files(__package__)
    for ext in (".rq", ".ru"):
        path = base.joinpath(name + ext)
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise KeyError(f"no query named {name!r}")


@functools.cache
def operation(name: str) -> str:
    """`load(name)` without its comment lines: for what goes with every request of a kind (a
    lock's renewal, a commit's fences and marker), where the comments would be sent each time."""
    return "\n".join(line for line in load(name).splitlines() if not line.lstrip().startswith("#"))


def as_term(value):
    """Return the RDF term for a Python value (terms pass through)."""
    if isinstance(value, (NamedNode, BlankNode, Literal, Triple)):
        return value
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"xsd:decimal has no {value}")
        return Literal(format(value, "f"), datatype=NamedNode(XSD + "decimal"))
    if isinstance(value, float):
        return Literal(_double(value), datatype=NamedNode(XSD + "double"))
    if isinstance(value, dt.datetime):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "dateTime"))
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "date"))
    if isinstance(value, str):
        return Literal(value)
    raise TypeError(f"cannot bind a {type(value).__name__} in SPARQL")


def to_sparql(term) -> str:
    """Return a term as SPARQL/Turtle text (triple terms as `<<( s p o )>>`)."""
    if isinstance(term, Triple):
        return f"<<( {to_sparql(term.subject)} {to_sparql(term.predicate)} {to_sparql(term.object)} )>>"
    return str(term)


def bind(text: str, bindings: Mapping[str, object] | None) -> str:
    """Return `text` with each bound variable replaced by its serialised term."""
    if not bindings:
        return text
    terms = {k.lstrip("?$"): _bindable(k, v) for k, v in bindings.items()}

    def sub(m: re.Match) -> str:
        var = m.group("var")
        return terms.get(var, m.group(0)) if var else m.group(0)

    return _TOKENS.sub(sub, text)


def _bindable(name: str, value) -> str:
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        # Rows of a VALUES (?a ?b …) block: None leaves that variable unbound in its row.
        return " ".join("( " + " ".join("UNDEF" if x is None else _bindable(name, x) for x in v) + " )"
                        for v in value)
    if isinstance(value, (list, tuple)):
        return " ".join(_bindable(name, v) for v in value)   # empty: VALUES matches nothing
    term = as_term(value)
    if _has_blank_node(term):
        # `_:x` in a pattern is a fresh variable, not that node: the query would match anything.
        raise TypeError(f"cannot bind the blank node {term} to ?{name}: match it by its properties")
    return to_sparql(term)


def _has_blank_node(term) -> bool:
    if isinstance(term, Triple):
        return any(_has_blank_node(t) for t in (term.subject, term.predicate, term.object))
    return isinstance(term, BlankNode)


def _double(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(value)
