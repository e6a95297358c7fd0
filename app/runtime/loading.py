"""Bulk loading of files into the store (the `load` command and the demo data)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pyoxigraph import NamedNode

from app.domain.documents import split_documents
from app.domain.server_state import carry_over
from app.queries import load
from app.rdf import Payload, read_payload
from app.rdf.terms import parse_datetime
from app.store import Store

MEDIA = {".json": "application/ld+json", ".jsonld": "application/ld+json",
         ".ttl": "text/turtle", ".nt": "application/n-triples"}
BATCH = 5000   # documents per write: each bulk write makes new files, so fewer is faster


def read_file(path: Path, base: str | None) -> Payload:
    """Read a JSON-LD, Turtle or N-Triples file (by extension) into canonical triples."""
    return read_payload(path.read_bytes(), MEDIA.get(path.suffix.lower(), "application/ld+json"), base,
                        max_depth=256)


def is_empty(store: Store) -> bool:
    """Tell whether the store holds no resource at all (the pseudonym key every store gets is none)."""
    return not store.ask("ASK { GRAPH ?g { ?s ?p ?o } FILTER(?g != <urn:x-dfc-hub:pseudonym-key>) }")


def reset(store: Store) -> None:
    """Empty the store: every resource, token and stored answer is lost."""
    with store.transaction() as tx:
        tx.append(load("reset"))


def load_files(store: Store, paths: list[Path], base: str, progress: bool = False) -> int:
    """Load files, one named graph per resource; return how many resources were written."""
    from tqdm import tqdm

    total = 0
    for path in paths:
        # Nodes nothing refers to are kept in a document named after the file, not lost.
        documents = split_documents(read_file(path, base).triples,
                                    orphans_to=NamedNode(f"urn:x-dfc-hub:file:{path.name}"))
        bar = tqdm(total=len(documents), desc=path.name, unit="res", disable=not progress)
        load_documents(store, documents, bar.update)
        bar.close()
        total += len(documents)
    return total


def load_documents(store: Store, documents: dict, progress=lambda n: None) -> None:
    """Write documents in batches: new ones through the bulk path, existing ones replaced."""
    names = list(documents)
    for i in range(0, len(names), BATCH):
        batch = {n: documents[n] for n in names[i:i + BATCH]}
        # New documents only: the backend's bulk path; else one update of the differences.
        with store.transaction(bulk=True) as tx:
            existing = {n: tx.graph(n) for n in batch}
            batch = carry_over(existing, batch)     # every item gets its ledger, existing ones keep theirs
            for name, triples in batch.items():
                tx.put(name, triples)
        progress(len(batch))


def load_demo(store: Store, path: Path, base: str, now: dt.datetime) -> tuple[int, list[tuple[str, str, str]]]:
    """Load the demo scenario with its sale sessions moved to now; return (resources, sessions).

    The fixture's dates are the DFC example's week; a newcomer trying the server on another
    day must find Hub A's session open, so every session moves by whole days until the first
    one has just begun (lengths and order kept). Returns each session's IRI, start and end.
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    sessions = [n for n in doc["@graph"] if n.get("@type") == "dfc-b:SaleSession"]
    first = min(parse_datetime(n["dfc-b:startDate"]) for n in sessions)
    shift = dt.timedelta(days=(now.date() - first.date()).days)
    if first + shift > now:
        shift -= dt.timedelta(days=1)
    for node in sessions:
        for key in ("dfc-b:startDate", "dfc-b:endDate"):
            node[key] = (parse_datetime(node[key]) + shift).isoformat().replace("+00:00", "Z")
    payload = read_payload(json.dumps(doc).encode(), "application/ld+json", base)
    documents = split_documents(payload.triples, orphans_to=NamedNode(f"urn:x-dfc-hub:file:{path.name}"))
    load_documents(store, documents)
    return len(documents), [(base + n["@id"], n["dfc-b:startDate"], n["dfc-b:endDate"]) for n in sessions]
