"""The conformance report of one payload: SHACL results and what the sender got wrong, with hints.

    report = check(body, "application/ld+json", profile="auto")
    report.conforms, report.dfc_version, report.results, report.to_json(), report.as_graph()

The endpoint, the page and `dfc-hub validate` all call `check`, so they agree. It stores
nothing. SHACL runs on the normalised triples (what the server would store); hints come from
what was sent (app.validation.hints). `conforms` is false only for Violations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from app.domain.kinds import CATALOG_TYPES, NOT_CATALOG
from app.errors import BadRequest, ShapeViolation
from app.namespaces import HUB, RDF, RDF_TYPE, SH, b
from app.rdf import no_triples, parse_body
from app.rdf.checks import refuse_dropped_iris, refuse_ill_typed
from app.rdf.normalise import normalise
from app.validation import BySeverity, Validator, default_validator
from app.validation import hints
from app.validation.shape_hints import shacl_hint
from app.validation.terms import short

# Relative @ids are resolved against this base, the same for the endpoint, the page and the CLI.
PAYLOAD_BASE = "http://payload.invalid/"
_RANK = {"Violation": 0, "Warning": 1, "Info": 2}

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
    results: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """The report as API.md fixes it (plus `profile`, and per result `hintCode`, `resource`)."""
        return {"conforms": self.conforms, "dfcVersion": self.dfc_version, "profile": self.profile,
                "results": self.results}

    def by_resource(self) -> list[tuple[str, list[dict]]]:
        """Results grouped by the resource they concern, the worst group first."""
        groups: dict[str, list[dict]] = {}
        for r in self.results:
            groups.setdefault(r["resource"] or "the payload as a whole", []).append(r)
        return sorted(groups.items(), key=lambda g: (min(_RANK[r["severity"]] for r in g[1]), g[0]))

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
                    ox.Triple(node, ox.NamedNode(SH + "resultSeverity"), ox.NamedNode(SH + r["severity"])),
                    ox.Triple(node, ox.NamedNode(SH + "resultMessage"), ox.Literal(r["message"])),
                    ox.Triple(node, ox.NamedNode(HUB + "hint"), ox.Literal(r["hint"])),
                    ox.Triple(node, ox.NamedNode(HUB + "hintCode"), ox.Literal(r["hintCode"]))]
            for key, predicate in (("focusNode", "focusNode"), ("value", "value")):
                if r[key] is not None:
                    out.append(ox.Triple(node, ox.NamedNode(SH + predicate), _term(r[key], key != "value")))
            if r["path"] is not None:
                out += _path(node, r["path"])
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
          validator: Validator | None = None) -> ConformanceReport:
    """Validate a payload as sent; raise the HubError of a body that is not a payload at all."""
    if profile not in ("auto", *PROFILES):
        raise BadRequest(f"profile must be one of auto, {', '.join(PROFILES)}; not {profile!r}",
                         parameter="profile")
    raw, versions, document = parse_body(body, media_type, PAYLOAD_BASE, max_depth, allow_empty=True)
    found: list[dict] = []
    triples, _notes = normalise(raw, found)
    refused = _storage_results(document, triples)
    if not raw and not refused:         # nothing readable, and nothing to explain why
        raise no_triples()
    version, family, results = hints.detect_version(raw, versions)
    results += _shacl_results(triples, validator or default_validator())
    shaped = {(r["focusNode"], r["path"], r["value"]) for r in results}
    for finding in (hints.correction_findings(found) + hints.term_findings(triples, version, family)
                    + hints.value_findings(triples, PAYLOAD_BASE) + hints.document_findings(document, PAYLOAD_BASE)):
        # A SHACL result on the same value already says it, with the same hint.
        if (finding["focusNode"], finding["path"], finding["value"]) not in shaped:
            results.append(finding)
    said = {(r["focusNode"], r["path"], r["value"]) for r in results}
    results += [r for r in refused if (r["focusNode"], r["path"], r["value"]) not in said]
    profile, more = _profile_results(triples, profile)
    results += more
    _add_resources(results, triples)
    _stable_blank_nodes(results, raw + triples)
    results = _unique(results)
    results.sort(key=lambda r: (_RANK[r["severity"]], r["resource"] or "", r["focusNode"] or "",
                                r["path"] or "", r["value"] or "", r["hintCode"]))
    conforms = not any(r["severity"] == "Violation" for r in results)
    return ConformanceReport(conforms, version, profile, results)


def _storage_results(document, triples) -> list[dict]:
    """What the server would refuse before SHACL (app.rdf.checks): a payload it refuses never conforms."""
    out = []
    for refuse, args, code in ((refuse_dropped_iris, (document, PAYLOAD_BASE), "invalid-iri"),
                               (refuse_ill_typed, (triples,), "ill-typed")):
        if code == "invalid-iri" and document is None:
            continue
        try:
            refuse(*args)
        except ShapeViolation as e:
            out += [{**{k: v.get(k) for k in ("severity", "focusNode", "path", "value", "message", "pointer")},
                     "hint": _STORAGE_HINTS[code], "hintCode": code} for v in e.extra["violations"]]
    return out


_STORAGE_HINTS = {
    "invalid-iri": "Percent-encode spaces and the characters < > \" { } | \\ ^ ` (a space is %20, | is %7C), "
                   "or use a blank node \"_:name\" for a node with no IRI: JSON-LD readers drop such an IRI "
                   "and everything said about it, and this server refuses it (422).",
    "ill-typed": "Fix the value: the server refuses it (422) rather than store or lose it.",
}


def _shacl_results(triples, validator: Validator) -> list[dict]:
    """SHACL on the normalised triples (what the server would store), each result with a hint."""
    counts: dict = {}
    for t in triples:
        key = (hints.text(t.subject), t.predicate.value)
        counts[key] = counts.get(key, 0) + 1
    out = []
    for r in validator.validate(triples).results:
        code, hint = shacl_hint(r, counts)
        out.append({**{k: r[k] for k in ("severity", "focusNode", "path", "value", "message")},
                    "hint": hint, "hintCode": code})
    return out


def _profile_results(triples, profile: str) -> tuple[str, list[dict]]:
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


def _add_resources(results: list[dict], triples) -> None:
    """Name for each result the resource it concerns: the focus node, or the IRI that holds it."""
    parent = {}
    for t in triples:
        if isinstance(t.object, ox.BlankNode) and hints.text(t.object) not in parent:
            parent[hints.text(t.object)] = hints.text(t.subject)
    for r in results:
        node, seen = r["focusNode"], set()
        while node in parent and node.startswith("_:") and node not in seen:
            seen.add(node)
            node = parent[node]
        r["resource"] = node


def _stable_blank_nodes(results: list[dict], triples) -> None:
    """Name blank nodes _:b1, _:b2… in the order the payload mentions them, not by parser luck."""
    labels: dict[str, str] = {}
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, ox.BlankNode):
                labels.setdefault("_:" + term.value, f"_:b{len(labels) + 1}")
    for r in results:
        for key in ("focusNode", "value", "resource"):
            if r[key] in labels:
                r[key] = labels[r[key]]


def _unique(results: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in results:
        key = (r["severity"], r["focusNode"], r["path"], r["value"], r["hintCode"], r.get("pointer"))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
