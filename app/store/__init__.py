"""Open the store a `DFC_HUB_STORE` spec names: `oxigraph:PATH`, `memory:` or `sparql:URL`."""
from __future__ import annotations

import os

from app.errors import QueryError
from app.store.base import Store
from app.store.embedded import EmbeddedStore
from app.store.remote import DEFAULT_LOCK_TTL, DEFAULT_TIMEOUT, RemoteStore
from app.store.transaction import Undone

__all__ = ["QueryError", "Store", "Undone", "open_store"]


def open_store(spec: str, query_url: str | None = None, update_url: str | None = None,
               graph_store_url: str | None = None, lock_ttl: float = DEFAULT_LOCK_TTL,
               timeout: float = DEFAULT_TIMEOUT) -> Store:
    """Open the store named by `spec`; endpoint overrides, the lock TTL and the timeout (seconds
    waited for one answer) apply to `sparql:` only."""
    kind, _, rest = spec.partition(":")
    if kind == "memory":
        return EmbeddedStore()
    if kind == "oxigraph":
        path = rest or "./data/store"
        os.makedirs(path, exist_ok=True)
        return EmbeddedStore(path)
    if kind == "sparql" and rest.startswith(("http://", "https://")):
        base = rest.rstrip("/")
        return RemoteStore(query_url or f"{base}/query", update_url or f"{base}/update",
                           graph_store_url or f"{base}/store", timeout=timeout, lock_ttl=lock_ttl)
    raise ValueError(f"DFC_HUB_STORE must be oxigraph:PATH, memory: or sparql:URL, not {spec!r}")
