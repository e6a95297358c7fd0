"""Where an analyst's SPARQL text could call a service, as Oxigraph's parser might read it.

Oxigraph (spargebra 0.5's PEG grammar) reads keywords in any case with no word boundary, reads
`<` as an IRI or as less-than by context, and reads a prefixed name whose IRI is invalid as its
bare prefix; pyoxigraph and `oxigraph serve` 0.5.13 called `u` for each of `SERVICESILENT <u>
{…}`, `?s ?p trueSERVICE <u> {…}`, `?a ?b s:SERVICE:e{…}` (`s:` being `<http://a>`), and
`FILTER(?a<?b)SERVICE:x#>`, a new line, `{…}`. Which of its tokens a "service" starts is the
parser's to say, so none is trusted: every "service" is a candidate, except inside a
variable's name (a `?` or `$` before a name always starts a variable: its path operator `?`
must not be followed by one), and a candidate is a call if what follows it reads as one:
SILENT or not, a variable, IRI or prefixed name, then `{`, with whitespace and `#` comments
between. Each part is read loosely (more is refused, nothing missed).

Python's `re` backtracks: the same search as one regular expression took 19 s over 100 kB of
`service:` repeated, every candidate scanning the rest again. So the search runs the
expression's states side by side (Thompson's construction): a thread per candidate, threads
in the same state merged (they read the same text from there on), each state's run skipped
to its end at once. Time is linear in the text.
"""
from __future__ import annotations

import heapq
import itertools
import re

# "service" in any case, outside a variable's name (the variable is matched whole, first).
_CANDIDATE = re.compile(
    "[?$][A-Za-z_0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd]"
    "[A-Za-z_0-9\u00b7\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0300-\u036f\u0370-\u037d\u037f-\u1fff"
    "\u200c\u200d\u203f\u2040\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd]*"
    "|(?P<service>(?i:service))")
_SILENT = re.compile("silent", re.I)
# Where each state's run ends: the first character that does not continue it. Whitespace is
# SPARQL's (space, tab, CR, LF); an IRI runs to `>` as Oxigraph reads it, before checking it.
_ENDS = {"gap": re.compile(r"[^ \t\n\r]"), "comment": re.compile(r"[\n\r]"), "iri": re.compile(">"),
         "variable": re.compile(r"[ \t\n\r#{?$]"), "prefix": re.compile(r"[ \t\n\r#{<:]"),
         "local": re.compile(r"[ \t\n\r#{\\]")}
# A gap's phase: before SILENT or the service's name, after SILENT, after the name.
_NAME, _AFTER_SILENT, _BODY = 1, 2, 3


def find(text: str) -> tuple[int, int] | None:
    """The span of the first service call found (from its "service" to its `{`), or None."""
    candidates = (m for m in _CANDIDATE.finditer(text) if m.group("service"))
    upcoming = next(candidates, None)
    events: list = []           # (position, leaving?, tie-break, state, origin)
    active: dict = {}           # state → the candidate a thread in it started from
    endless: set = set()        # states whose run, once entered, lasts to the end of the text
    order = itertools.count()
    while events or upcoming:
        if upcoming and (not events or upcoming.end() <= events[0][0]):
            heapq.heappush(events, (upcoming.end(), False, next(order), ("gap", _NAME), upcoming.start()))
            upcoming = next(candidates, None)
            continue
        position, leaving, _, state, origin = heapq.heappop(events)
        if not leaving:
            if state in active or state in endless:
                continue
            end = _ENDS[state[0]].search(text, position)
            if end is None:             # it calls nothing, and neither does any later entry
                endless.add(state)
                continue
            active[state] = origin
            heapq.heappush(events, (end.start(), True, next(order), state, origin))
            continue
        del active[state]
        following = _following(state, text, position)
        if following is None:
            return origin, position + 1
        for at, then in following:
            heapq.heappush(events, (at, False, next(order), then, origin))
    return None


def _following(state, text: str, j: int):
    """Where a thread goes from the character at `j` that ends its state's run: (position,
    state) pairs to enter, or None for the `{` of a call."""
    kind, phase = state
    c = text[j]
    if kind == "comment":                   # at its line's end
        return [(j + 1, ("gap", phase))]
    if kind == "gap":
        if c == "#":
            return [(j + 1, ("comment", phase))]
        if phase == _BODY:
            return None if c == "{" else []
        silent = [(j + 6, ("gap", _AFTER_SILENT))] if phase == _NAME and _SILENT.match(text, j) else []
        name = {"<": "iri", "?": "variable", "$": "variable", ":": "local", "{": None}.get(c, "prefix")
        return silent + ([(j + 1, (name, 0))] if name else [])
    if kind == "iri":                       # at `>`
        return [(j + 1, ("gap", _BODY))]
    if kind == "prefix":
        return [(j + 1, ("local", 0))] if c == ":" else []
    if c == "\\":                           # an escape in a local name: the next character is its own
        return [(j + 2, ("local", 0))] if j + 1 < len(text) else []
    return [] if c in "?$" else [(j, ("gap", _BODY))]      # a variable or local name ends
