"""The conformance report of one payload: SHACL results and what the sender got wrong, with hints.

    report = check(body, "application/ld+json", profile="auto")
    report.conforms, report.dfc_version, report.results, report.to_json(), report.as_graph()

The endpoint, the page and `dfc-hub validate` all call `check`, so they agree. It stores
nothing. SHACL runs on the normalised triples (what the server would store); hints come from
what was sent (app.validation.hints). `conforms` is false only for Violations.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pyoxigraph as ox

from app.domain.kinds import CATALOG_TYPES, NOT_CATALOG
from app.errors import BadRequest, ShapeViolation
from app.namespaces import HUB, RDF, RDF_TYPE, SH, b
from app.rdf import no_triples, parse_body
from app.rdf.checks import refuse_dropped_iris, refuse_ill_typed, refuse_lost_languages
from app.rdf.normalise import normalise
from app.validation import hints
from app.errors import RANK as _RANK, Result
from app.validation.shape_hints import shacl_hint
from app.validation.terms import short
from app.validation.validator import BySeverity, Validator, default_validator

# Relative @ids are resolved against this base, the same for the endpoint, the page and the CLI.
PAYLOAD_BASE = "http://payload.invalid/"

# profile → (the types a payload of it must hold one of, the types it must not hold)
PROFILES = {
    "catalog": (CATALOG_TYPES, NOT_CATALOG),
    "order": ({b("Order")}, set()),
    "sale_session": ({b("SaleSession")}, {b("Order"), b("OrderLine")}),
}
_ENDPOINTS = {b("Order"): "an enterprise's orders", b("OrderLine"): "an enterprise's orders",
              b("SaleSession"): "an enterprise's sale_sessions", b("Person"): "no catalogue"}


@dataclass
class ConformanceReport(BySeverity):
    """What `check` found: conforms when no result is a Violation."""

    conforms: bool
    dfc_version: str
    profile: str
    results: list[Result] = field(default_factory=list)
    paths: set = field(default_factory=set)     # the focus nodes that are paths to unnamed nodes

    def to_json(self) -> dict:
        """The report as API.md fixes it (plus `profile`, and per result `hintCode`, `resource`)."""
        return {"conforms": self.conforms, "dfcVersion": self.dfc_version, "profile": self.profile,
                "results": [_json(r) for r in self.results]}

    def by_resource(self) -> list[tuple[str, list[Result]]]:
        """Results grouped by the resource they concern, the worst group first."""
        groups: dict[str, list[Result]] = {}
        for r in self.results:
            groups.setdefault(r.resource or "the payload as a whole", []).append(r)
        return sorted(groups.items(), key=lambda g: (min(_RANK[r.severity] for r in g[1]), g[0]))

    def as_graph(self) -> list[ox.Triple]:
        """The report as an sh:ValidationReport, each result with hub:hint and hub:hintCode."""
        report = ox.BlankNode()
        out = [ox.Triple(report, RDF_TYPE, ox.NamedNode(SH + "ValidationReport")),
               ox.Triple(report, ox.NamedNode(SH + "conforms"), ox.Literal(self.conforms)),
               ox.Triple(report, ox.NamedNode(HUB + "dfcVersion"), ox.Literal(self.dfc_version))]
        for r in self.results:
            node = ox.BlankNode()
            out += [ox.Triple(report, ox.NamedNode(SH + "result"), node),
                    ox.Triple(node, RDF_TYPE, ox.NamedNode(SH + "ValidationResult")),
                    ox.Triple(node, ox.NamedNode(SH + "resultSeverity"), ox.NamedNode(SH + r.severity)),
                    ox.Triple(node, ox.NamedNode(SH + "resultMessage"), ox.Literal(r.message)),
                    ox.Triple(node, ox.NamedNode(HUB + "hint"), ox.Literal(r.hint)),
                    ox.Triple(node, ox.NamedNode(HUB + "hintCode"), ox.Literal(r.hint_code))]
            if r.focus is not None and r.focus in self.paths:
                # A node the payload left unnamed: a blank node here, and its path to find it by.
                focus = ox.BlankNode()
                out += [ox.Triple(node, ox.NamedNode(SH + "focusNode"), focus),
                        ox.Triple(node, ox.NamedNode(HUB + "focusPath"), ox.Literal(r.focus))]
            elif r.focus is not None:
                out.append(ox.Triple(node, ox.NamedNode(SH + "focusNode"), _term(r.focus, True)))
            if r.value is not None:
                out.append(ox.Triple(node, ox.NamedNode(SH + "value"), _term(r.value, False)))
            if r.path is not None:
                out += _path(node, r.path)
        return out


def _json(r: Result) -> dict:
    """A result as API.md's report writes it: always its `resource`, and for what the server
    would refuse before SHACL (ill-typed values, invalid IRIs) always its `pointer`."""
    out = r.to_json()
    if r.hint_code in _STORAGE_HINTS:
        out.setdefault("pointer", None)
    out["resource"] = r.resource
    return out


def _term(value: str, node: bool):
    """A focus node or value as an RDF term; text that is no valid IRI stays a literal, never lost."""
    if value.startswith("_:"):
        return ox.BlankNode(value[2:])
    if node:
        try:
            return ox.NamedNode(value)
        except ValueError:      # the result's own hint says what is wrong with it (invalid-iri)
            pass
    return ox.Literal(value)


def _path(result, path: str) -> list[ox.Triple]:
    """sh:resultPath: an IRI, or `a|b|…` as SHACL's sh:alternativePath list."""
    has_path = ox.NamedNode(SH + "resultPath")
    options = path.split("|")
    try:
        iris = [ox.NamedNode(p) for p in options]
    except ValueError:
        return [ox.Triple(result, has_path, ox.Literal(path))]
    if len(iris) == 1:
        return [ox.Triple(result, has_path, iris[0])]
    alternative, cells = ox.BlankNode(), [ox.BlankNode() for _ in iris]
    out = [ox.Triple(result, has_path, alternative),
           ox.Triple(alternative, ox.NamedNode(SH + "alternativePath"), cells[0])]
    for i, (cell, iri) in enumerate(zip(cells, iris)):
        rest = cells[i + 1] if i + 1 < len(cells) else ox.NamedNode(RDF + "nil")
        out += [ox.Triple(cell, ox.NamedNode(RDF + "first"), iri), ox.Triple(cell, ox.NamedNode(RDF + "rest"), rest)]
    return out


def check(body: bytes, media_type: str, profile: str = "auto", max_depth: int = 64,
          validator: Validator | None = None, own_contexts: dict | None = None) -> ConformanceReport:
    """Validate a payload as sent; raise the HubError of a body that is not a payload at all.

    `own_contexts`: this server's context URLs, read offline like the DFC ones.
    """
    if profile not in ("auto", *PROFILES):
        raise BadRequest(f"profile must be one of auto, {', '.join(PROFILES)}; not {profile!r}",
                         parameter="profile")
    raw, versions, document = parse_body(body, media_type, PAYLOAD_BASE, max_depth, allow_empty=True,
                                         own=own_contexts)
    found: list[dict] = []                  # normalisation's corrections
    triples, _notes = normalise(raw, found)
    refused = _storage_results(document, triples)
    if not raw and not refused:         # nothing readable, and nothing to explain why
        raise no_triples(document)
    version, family, results = hints.detect_version(raw, versions)
    results += _shacl_results(triples, validator or default_validator())
    shaped = {(r.focus, r.path, r.value) for r in results}
    for finding in (hints.correction_findings(found) + hints.term_findings(triples, version, family)
                    + hints.value_findings(triples, PAYLOAD_BASE) + hints.document_findings(document, PAYLOAD_BASE)):
        # A SHACL result on the same value already says it, with the same hint.
        if (finding.focus, finding.path, finding.value) not in shaped:
            results.append(finding)
    said = {(r.focus, r.path, r.value) for r in results}
    results += [r for r in refused if (r.focus, r.path, r.value) not in said]
    profile, more = _profile_results(triples, profile)
    results += more
    _add_resources(results, triples)
    paths = _name_blank_nodes(results, raw + triples)
    results = _unique(results)
    results.sort(key=lambda r: (_RANK[r.severity], r.resource or "", r.focus or "",
                                r.path or "", r.value or "", r.hint_code))
    conforms = not any(r.severity == "Violation" for r in results)
    return ConformanceReport(conforms, version, profile, results, paths)


def _storage_results(document, triples) -> list[Result]:
    """What the server would refuse before SHACL (app.rdf.checks): a payload it refuses never conforms."""
    out = []
    for refuse, args, code in ((refuse_dropped_iris, (document, PAYLOAD_BASE), "invalid-iri"),
                               (refuse_lost_languages, (document,), "invalid-language"),
                               (refuse_ill_typed, (triples,), "ill-typed")):
        if code in ("invalid-iri", "invalid-language") and document is None:
            continue
        try:
            refuse(*args)
        except ShapeViolation as e:
            out += [replace(v, hint=_STORAGE_HINTS[code], hint_code=code) for v in e.extra["violations"]]
    return out


_STORAGE_HINTS = {
    "invalid-iri": "Percent-encode spaces and the characters < > \" { } | \\ ^ ` (a space is %20, | is %7C), "
                   "or use a blank node \"_:name\" for a node with no IRI: JSON-LD readers drop such an IRI "
                   "and everything said about it, and this server refuses it (422).",
    "invalid-language": "Give a BCP 47 language tag (en, en-GB, fr), or none: JSON-LD readers drop a value "
                        "whose @language is not one, and this server refuses it (422).",
    "ill-typed": "Fix the value: the server refuses it (422) rather than store or lose it.",
}


def _shacl_results(triples, validator: Validator) -> list[Result]:
    """SHACL on the normalised triples (what the server would store), each result with a hint."""
    counts: dict = {}
    for t in triples:
        key = (hints.text(t.subject), t.predicate.value)
        counts[key] = counts.get(key, 0) + 1
    out = []
    for r in validator.validate(triples).results:
        code, hint = shacl_hint(r, counts, validator.shapes)
        out.append(Result(r.severity, r.focus, r.path, r.value, r.message, hint=hint, hint_code=code))
    return out


def _profile_results(triples, profile: str) -> tuple[str, list[Result]]:
    typed = [(t.subject, t.object) for t in triples if t.predicate == RDF_TYPE]
    classes = {cls for _, cls in typed}
    if profile == "auto":
        detected = next((p for p, (main, _) in PROFILES.items() if p != "catalog" and main & classes),
                        "catalog" if CATALOG_TYPES & classes else "auto")
        return detected, []       # auto only names what it found: nothing is out of place
    main, foreign = PROFILES[profile]
    out = []
    if not main & classes:
        wanted = ", ".join(sorted(short(c.value) for c in main))
        out.append(hints.result("Violation", None, RDF + "type", None,
                                f"a {profile} payload must hold a resource of type {wanted}; this one has none",
                                "Check the @type of the main resource, or validate with another profile.",
                                "profile-missing-resource"))
    for subject, cls in typed:
        if cls in foreign:
            out.append(hints.result("Violation", hints.text(subject), RDF + "type", cls.value,
                                    f"a {short(cls.value)} is not part of a {profile} payload",
                                    f"Send it on its own, to {_ENDPOINTS.get(cls, 'its own endpoint')}.",
                                    "profile-unexpected-resource"))
    return profile, out


def _add_resources(results: list[Result], triples) -> None:
    """Name for each result the resource it concerns: the focus node, or the IRI that holds it."""
    parent = {}
    for t in triples:
        if isinstance(t.object, ox.BlankNode) and hints.text(t.object) not in parent:
            parent[hints.text(t.object)] = hints.text(t.subject)
    for r in results:
        node, seen = r.focus, set()
        while node in parent and node.startswith("_:") and node not in seen:
            seen.add(node)
            node = parent[node]
        r.resource = node


def _name_blank_nodes(results: list[Result], triples) -> set[str]:
    """Name each blank node by its path from the nearest named node (`…/orders/1 › dfc-b:hasPart[0]`):
    the client never wrote a label for it, so a label would name nothing the client can find.
    Return the paths used."""
    names = blank_node_paths(triples)
    for r in results:
        r.focus, r.value, r.resource = (names.get(r.focus, r.focus), names.get(r.value, r.value),
                                        names.get(r.resource, r.resource))
    return set(names.values())


def blank_node_paths(triples) -> dict[str, str]:
    """`_:id` → its path: the nearest named node, then ` › property[i]` steps (i: the value's
    position among that property's values, in payload order). A node nothing names starts the
    path with its type: `(a dfc-b:Order without @id)`, numbered from the second of a type on."""
    parent: dict = {}
    counts: dict = {}
    order: dict = {}                   # blank nodes in the order the payload mentions them
    types: dict = {}
    for t in triples:
        key = (t.subject, t.predicate)
        index = counts.get(key, 0)
        counts[key] = index + 1
        for term in (t.subject, t.object):
            if isinstance(term, ox.BlankNode):
                order.setdefault(term, None)
        if isinstance(t.object, ox.BlankNode) and t.object not in parent and t.object != t.subject:
            parent[t.object] = (t.subject, t.predicate, index)
        if t.predicate == RDF_TYPE and isinstance(t.subject, ox.BlankNode):
            types.setdefault(t.subject, short(t.object.value))
    roots, seen_types = {}, {}
    for node in order:
        if node not in parent:
            kind = types.get(node, "node")
            seen_types[kind] = seen_types.get(kind, 0) + 1
            number = seen_types[kind]
            roots[node] = f"(a {kind} without @id" + (f", no. {number})" if number > 1 else ")")
    names = {}
    for node in order:
        steps, at, visited = [], node, set()
        while at in parent and at not in visited:
            visited.add(at)
            at, predicate, index = parent[at]
            steps.append(f" › {short(predicate.value)}[{index}]")
        start = roots.get(at) or (at.value if isinstance(at, ox.NamedNode) else "(a cycle of nodes without @id)")
        names["_:" + node.value] = start + "".join(reversed(steps))
    return names


def _unique(results: list[Result]) -> list[Result]:
    seen, out = set(), []
    for r in results:
        key = (r.severity, r.focus, r.path, r.value, r.hint_code, r.pointer)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
