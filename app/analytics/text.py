"""What an analyst's SPARQL text asks for, read before any store sees it.

pyoxigraph 0.5 exposes no query algebra, and its parser decides validity only by running the
query: too late for `SERVICE`, which pyoxigraph and Oxigraph's server both evaluate by
fetching over the network. So this module tokenises the text the way SPARQL's grammar does
(codepoint escapes first, then strings, IRIs, comments, variables, prefixed names and blank
nodes skipped whole) and reads the keywords that remain: the query form and the `FROM`/`FROM
NAMED` clauses. Syntax itself is Oxigraph's to judge, and this endpoint only ever calls the
store's query operation, which cannot parse an update, let alone run one.

`SERVICE` is refused where Oxigraph could read it, which our tokens cannot tell: see
app/analytics/service_calls.py. The text is searched as sent and with its escapes replaced
(Oxigraph 0.5 leaves `\\u` alone outside strings and IRIs; the standard replaces it first).
"""
from __future__ import annotations

import dataclasses
import re
from urllib.parse import urljoin

from app.analytics.service_calls import find as find_service_call
from app.errors import InvalidQuery, QueryRefused

FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
GRAPH_FORMS = {"CONSTRUCT", "DESCRIBE"}
UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
# Groups, expressions and lists nested deeper than this are refused. Oxigraph's parser recurses:
# measured, `oxigraph serve` 0.5 died of a stack overflow on 1,000 nested `{ }` (500 passed), and
# every tenant's request answered 503 until it was restarted.
MAX_NESTING = 100
_OPENS, _CLOSES = set("{(["), set("})]")

# SPARQL 1.1 §19.2: \u and \U escapes are replaced before parsing, anywhere in the text, so
# `\u0053ERVICE` is the SERVICE keyword to an engine that does so (Oxigraph 0.5 does not).
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_CHARS = r"[\w\u00b7\u0300-\u036f\u203f\u2040.\-]"
_TOKEN = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n\r]|\\.)*"|\'(?:[^\'\\\n\r]|\\.)*\'|\#[^\n\r]*|[?$][\w\u00b7\u0300-\u036f\u203f\u2040]+'
    r"|_:" + _PN_CHARS + r"+)"
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r"|(?P<pname>(?:[^\W\d_]" + _PN_CHARS + r"*)?:(?:(?:" + _PN_CHARS + r"|:|%[0-9A-Fa-f]{2}|\\.)*))"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<other>\S)",
    re.S,
)
SERVICE_REFUSED = "SERVICE is refused: this endpoint never fetches anything from the network"


@dataclasses.dataclass(frozen=True)
class QueryText:
    """A read-only query: its form, and the graphs its own FROM / FROM NAMED clauses name."""
    text: str
    form: str                       # SELECT, ASK, CONSTRUCT or DESCRIBE
    from_graphs: tuple[str, ...]
    from_named: tuple[str, ...]

    @property
    def returns_graph(self) -> bool:
        return self.form in GRAPH_FORMS

    @property
    def names_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named)


def read_query(text: str) -> QueryText:
    """Read a query's form and dataset; refuse (400) updates, SERVICE, non-queries and nesting
    deeper than MAX_NESTING."""
    unescaped = _unescape(text)
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(unescaped) if m.lastgroup != "skip"]
    _refuse_deep(tokens)
    _refuse_service(tokens, dict.fromkeys((text, unescaped)))
    prefixes, base, rest = _prologue(tokens)
    first = rest[0][1].upper() if rest and rest[0][0] == "word" else None
    if first in UPDATES:
        raise QueryRefused(f"{first} is an update; this endpoint is read-only (SELECT, ASK, CONSTRUCT, "
                           "DESCRIBE)", keyword=first)
    if first not in FORMS:
        raise QueryRefused("send a SPARQL query: SELECT, ASK, CONSTRUCT or DESCRIBE")
    graphs, named = _dataset(rest, prefixes, base)
    return QueryText(text, first, tuple(graphs), tuple(named))


def _refuse_deep(tokens) -> None:
    depth = deepest = 0
    for kind, value in tokens:
        if kind == "other":
            depth += (value in _OPENS) - (value in _CLOSES)
            deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise QueryRefused(f"the query nests its groups, expressions or lists {deepest} deep; at most "
                           f"{MAX_NESTING} are read", maxNesting=MAX_NESTING)


def _refuse_service(tokens, texts) -> None:
    """Refuse a word holding SERVICE, a prefixed name starting with it, and any text in which
    Oxigraph could read a service call."""
    for kind, value in tokens:
        if kind == "word" and "SERVICE" in value.upper():
            glued = "" if value.upper() == "SERVICE" else \
                f"`{value}` holds the keyword SERVICE (Oxigraph reads keywords glued to other words); "
            raise QueryRefused(glued + SERVICE_REFUSED, keyword="SERVICE", near=value)
        if kind == "pname" and value[:7].upper() == "SERVICE":
            raise QueryRefused(f"`{value}` reads as the keyword SERVICE then `{value[7:]}`; {SERVICE_REFUSED}",
                               keyword="SERVICE", near=value)
    for text in texts:
        call = find_service_call(text)
        if call:
            near = " ".join(text[slice(*call)].split())[:80]
            raise QueryRefused(f"`{near}` can read as a service call; {SERVICE_REFUSED}",
                               keyword="SERVICE", near=near)


def _unescape(text: str) -> str:
    return _CODEPOINT.sub(_codepoint, text)


def _codepoint(m: re.Match) -> str:
    code = int(m.group(1) or m.group(2), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise InvalidQuery(f"the escape {m.group()} names no Unicode character (a surrogate, or past U+10FFFF)",
                           escape=m.group())
    return chr(code)


def _prologue(tokens):
    """Read BASE and PREFIX declarations; return (prefixes, base, the tokens after them)."""
    prefixes, base, i = {}, None, 0
    while i < len(tokens) and tokens[i][0] == "word" and tokens[i][1].upper() in ("BASE", "PREFIX"):
        if tokens[i][1].upper() == "BASE" and i + 1 < len(tokens) and tokens[i + 1][0] == "iri":
            base = _iri(tokens[i + 1][1], base)
            i += 2
        elif i + 2 < len(tokens) and tokens[i + 1][0] == "pname" and tokens[i + 2][0] == "iri":
            prefixes[tokens[i + 1][1].split(":", 1)[0]] = _iri(tokens[i + 2][1], base)
            i += 3
        else:
            break
    return prefixes, base, tokens[i:]


def _dataset(tokens, prefixes, base) -> tuple[list[str], list[str]]:
    graphs, named = [], []
    for i, (kind, value) in enumerate(tokens):
        if kind != "word" or value.upper() != "FROM":
            continue
        j = i + 1
        into = graphs
        if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1].upper() == "NAMED":
            into, j = named, j + 1
        if j < len(tokens) and tokens[j][0] == "iri":
            into.append(_iri(tokens[j][1], base))
        elif j < len(tokens) and tokens[j][0] == "pname":
            prefix, _, local = tokens[j][1].partition(":")
            if prefix not in prefixes:
                raise QueryRefused(f"the prefix {prefix!r} of FROM {tokens[j][1]} is not declared")
            into.append(prefixes[prefix] + re.sub(r"\\(.)", r"\1", local))
    return graphs, named


def _iri(token: str, base: str | None) -> str:
    iri = token[1:-1]
    return urljoin(base, iri) if base else iri
