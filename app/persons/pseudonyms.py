"""Pseudonyms of persons another platform names (a `mailto:`, a partner's person IRI).

The hub stores such a person at `{hub}/persons/{12 hex}`, the same for every order of theirs.
The 12 hex are an HMAC of the foreign id keyed with a secret drawn when a hub first opens the
store, and kept there (in a graph outside the analyst dataset, shared by every app process of
the store): without the key, nobody can tell from a pseudonym whose it is, nor confirm a guess.

Before the key, the 12 hex were the plain SHA-256 of the foreign id. A person stored so keeps
that IRI: when they come back, the old pseudonym is found and used, so their orders stay one
person's. Those old IRIs can still be checked against a guessed id; new persons cannot.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets

from pyoxigraph import Literal, NamedNode

from app import queries
from app.domain import erasure
from app.errors import StoreUnavailable
from app.namespaces import RDF_TYPE, T
from app.store import Store


def keyed(key: bytes, foreign_id: str) -> str:
    """The pseudonym of `foreign_id` under `key`: 12 hex of its HMAC-SHA256."""
    return hmac.new(key, foreign_id.encode(), hashlib.sha256).hexdigest()[:12]


def unkeyed(foreign_id: str) -> str:
    """The pseudonym older versions minted: 12 hex of the plain SHA-256 (derivable by anyone)."""
    return hashlib.sha256(foreign_id.encode()).hexdigest()[:12]


class Pseudonyms:
    """Mints and finds persons' pseudonyms with the store's key."""

    def __init__(self, store: Store):
        self.store = store
        self._key: bytes | None = None
        # Drawn now, at startup, rather than by the first request that needs it: a request
        # that is then refused must leave the store as it found it.
        with contextlib.suppress(StoreUnavailable):
            self.key()

    def person(self, persons: str, foreign_id: str) -> NamedNode:
        """The IRI under the `persons` collection of the person another platform calls `foreign_id`."""
        old = NamedNode(f"{persons}/{unkeyed(foreign_id)}")
        if (old, RDF_TYPE, T.Person) in {(t.subject, t.predicate, t.object) for t in self.store.graph(old)}:
            return old
        iri, again = NamedNode(f"{persons}/{keyed(self.key(), foreign_id)}"), 0
        # An erased person who comes back starts afresh: their old IRI stays a tombstone (410).
        while erasure.is_erased(self.store.graph(iri), iri):
            again += 1
            iri = NamedNode(f"{persons}/{keyed(self.key(), f'{foreign_id}#{again}')}")
        return iri

    def key(self) -> bytes:
        """The store's key, drawn and stored by the first process that needs it."""
        if self._key is None:
            self._key = self._read()
            if self._key is None:
                with self.store.transaction() as tx:
                    key = self._read(tx)
                    if key is None:
                        fresh = secrets.token_hex(32)
                        tx.append(queries.load("insert_pseudonym_key"), {"key": Literal(fresh)})
                        key = bytes.fromhex(fresh)
                self._key = key         # once written: a failed commit leaves no key in memory
        return self._key

    def _read(self, reader=None) -> bytes | None:
        rows = (reader or self.store).select(queries.load("pseudonym_key"))
        return bytes.fromhex(min(r["key"].value for r in rows)) if rows else None
