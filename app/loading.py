"""Bulk loading of files into the store (the `load` command and the demo data)."""
from __future__ import annotations

from pathlib import Path

from app.domain.documents import split_documents
from app.rdf import Payload, read_payload
from app.store import Store

MEDIA = {".json": "application/ld+json", ".jsonld": "application/ld+json",
         ".ttl": "text/turtle", ".nt": "application/n-triples"}
BATCH = 500


def read_file(path: Path, base: str | None) -> Payload:
    """Read a JSON-LD, Turtle or N-Triples file (by extension) into canonical triples."""
    return read_payload(path.read_bytes(), MEDIA.get(path.suffix.lower(), "application/ld+json"), base,
                        max_depth=256)


def is_empty(store: Store) -> bool:
    """Tell whether the store holds no resource at all."""
    return not store.ask("ASK { GRAPH ?g { ?s ?p ?o } }")


def load_files(store: Store, paths: list[Path], base: str, progress: bool = False) -> int:
    """Load files, one named graph per resource; return how many resources were written."""
    from tqdm import tqdm

    total = 0
    for path in paths:
        documents = split_documents(read_file(path, base).triples)
        names = list(documents)
        bar = tqdm(total=len(names), desc=path.name, unit="res", disable=not progress)
        for i in range(0, len(names), BATCH):
            store.replace_graphs({n: documents[n] for n in names[i:i + BATCH]})
            bar.update(len(names[i:i + BATCH]))
        bar.close()
        total += len(names)
    return total
