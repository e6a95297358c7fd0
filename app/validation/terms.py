"""The DFC terms a payload may name, by kind and release (our list: ontology/dfc-terms.json).

    terms = dfc_terms()
    terms.kind(iri)          -> "class" | "object" | "datatype" | None   (current release, 1.16)
    terms.deprecated(iri)    -> {"use", "since", "why"} or None
    terms.other_version(iri) -> {"in", "use"} or None                 (a term of another release)
    terms.sender_term(iri)   -> {"use", "why"} or None                (not DFC, but real senders use it)
    terms.suggest(iri, kind) -> the current term a misspelt one most likely means, or None

IRIs are canonical (app.rdf.normalise); ≤1.7 product-ontology terms (`dfc-p:`) keep their own
namespace, which normalisation leaves alone.
"""
from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

from app.namespaces import DFC_B, DFC_T, FAMILIES, PREFIXES as WRITTEN, RDF
from app.rdf.contexts import local_context

PREFIXES = {"dfc-b": DFC_B, "dfc-t": DFC_T, "dfc-p": local_context("static")["dfc-p"]}
# Every namespace a report may name, any DFC release, longest first: messages use prefixed names.
# Releases up to 1.5 bound dfc-b to the full model file (app.rdf.normalise reads it so too).
_SHORT = sorted({**{iri: p for family in FAMILIES.values() for p, iri in family.items()},
                 **{iri: p for p, iri in {**WRITTEN, **PREFIXES, "rdf": RDF}.items()},
                 "http://static.datafoodconsortium.org/ontologies/dfc_FullModel.owl#": "dfc-b"}.items(),
                key=lambda pair: -len(pair[0]))
_KINDS = {"classes": "class", "objectProperties": "object", "datatypeProperties": "datatype"}


def expand(name: str) -> str:
    """Return the IRI of a prefixed name of our list (`dfc-b:Enterprise`)."""
    prefix, _, local = name.partition(":")
    return PREFIXES[prefix] + local


def short(iri: str) -> str:
    """Return the prefixed name of an IRI in a namespace we know (any DFC release), else the IRI."""
    for ns, prefix in _SHORT:
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def short_path(path: str) -> str:
    """Return a SHACL path as the validator writes it (`a/b` sequences, `a|b` alternatives), prefixed."""
    return "|".join("/".join(short(step) for step in re.split(r"/(?=https?://)", alt)) for alt in path.split("|"))


def is_dfc_term(iri: str) -> bool:
    """Tell whether an IRI is in a DFC ontology namespace (where our list is complete)."""
    return iri.startswith(tuple(PREFIXES.values()))


@dataclass(frozen=True)
class Terms:
    kinds: dict            # IRI -> kind, for the current release
    deprecated_: dict      # IRI -> {"use", "since", "why"}
    other_versions: dict   # IRI -> {"in", "use"}
    sender_terms: dict     # IRI -> {"use", "why"}
    suggestions: dict      # IRI -> IRI

    def kind(self, iri: str) -> str | None:
        return self.kinds.get(iri)

    def deprecated(self, iri: str) -> dict | None:
        return self.deprecated_.get(iri)

    def other_version(self, iri: str) -> dict | None:
        return self.other_versions.get(iri)

    def sender_term(self, iri: str) -> dict | None:
        return self.sender_terms.get(iri)

    def suggest(self, iri: str, kind: str | None) -> str | None:
        """The current term of the same kind (class or property) a misspelling most likely means."""
        if iri in self.suggestions:
            return self.suggestions[iri]
        ns, local = _split(iri)
        wanted = ("class",) if kind == "class" else ("object", "datatype")
        candidates = {c[len(ns):]: c for c, k in self.kinds.items() if c.startswith(ns) and k in wanted}
        folded = {name.lower(): c for name, c in candidates.items()}
        if local.lower() in folded:
            return folded[local.lower()]
        close = difflib.get_close_matches(local, list(candidates), n=1, cutoff=0.75)
        return candidates[close[0]] if close else None


def _split(iri: str) -> tuple[str, str]:
    ns, _, local = iri.rpartition("#")
    return ns + "#", local


@functools.cache
def dfc_terms() -> Terms:
    """Load our term list once per process."""
    text = resources.files("app.ontology").joinpath("dfc-terms.json").read_text(encoding="utf-8")
    data = json.loads(text)
    kinds = {expand(f"{prefix}:{name}"): _KINDS[key]
             for prefix, lists in data["current"].items() for key, names in lists.items() for name in names}

    def table(section):
        return {expand(name): {k: (expand(v) if k == "use" and v else v) for k, v in entry.items()}
                for name, entry in data[section].items()}

    return Terms(kinds, table("deprecated"), table("otherVersions"), table("senderTerms"),
                 {expand(k): expand(v) for k, v in data["suggest"].items()})
