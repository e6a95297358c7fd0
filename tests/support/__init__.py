"""Helpers shared by the test modules: real servers, and a stock counter to hammer stores.

The stock helpers live here, not in a test module, so that `multiprocessing` (spawn) can
import them in a child process without importing pytest's test modules.
"""
from __future__ import annotations

from pyoxigraph import NamedNode

from app.store import Store, open_store

STOCK_GRAPH = NamedNode("http://example.org/test/stock")
STOCK_ITEM = NamedNode("http://example.org/test/carrots")
STOCK_PROP = NamedNode("http://example.org/test/available")
_TERMS = {"g": STOCK_GRAPH, "item": STOCK_ITEM, "available": STOCK_PROP}


def set_stock(store: Store, n: int) -> None:
    """Make the counter triple say `n`."""
    store.update("DROP SILENT GRAPH ?g ; INSERT DATA { GRAPH ?g { ?item ?available ?n } }",
                 {**_TERMS, "n": n})


def read_stock(store: Store) -> int:
    """Return the counter (fails unless there is exactly one value)."""
    rows = store.select("SELECT ?n WHERE { GRAPH ?g { ?item ?available ?n } }", _TERMS)
    assert len(rows) == 1, rows
    return int(rows[0]["n"].value)


def take_one(store: Store) -> bool:
    """Take one unit if at least one is available: read, check, write under the write lock."""
    with store.write_lock():
        n = read_stock(store)
        if n < 1:
            return False
        store.update("DELETE { GRAPH ?g { ?item ?available ?old } } "
                     "INSERT { GRAPH ?g { ?item ?available ?new } } "
                     "WHERE { GRAPH ?g { ?item ?available ?old } }",
                     {**_TERMS, "old": n, "new": n - 1})
        return True


def take_many(store: Store, attempts: int) -> int:
    """Try `take_one` `attempts` times; return how many were granted."""
    return sum(take_one(store) for _ in range(attempts))


def take_in_process(spec: str, attempts: int, start, results) -> None:
    """Child process body: open its own store, wait for the others at `start`, report grants."""
    store = open_store(spec)
    try:
        start.wait(timeout=60)
        results.put(take_many(store, attempts))
    finally:
        store.close()


def hold_the_lock(spec: str, ttl: float) -> None:
    """Child process body: take a remote store's write lock, say "held", then hold it for ever."""
    import sys
    import time
    store = open_store(spec, lock_ttl=ttl)
    with store.write_lock():
        sys.stdout.write("held\n")
        sys.stdout.flush()
        while True:
            time.sleep(60)
