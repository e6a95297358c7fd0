"""Documents as the embedded store holds them, remembered between reads (app/store/embedded.py).

Why: a document rewritten at every checkout (a sale session's wholesale order) leaves RocksDB
tombstones in its key range until a compaction drops them, and every read walks them. Measured
(bench/session_fill.py): a 353-statement wholesale order took 0.8 ms to read after 10 checkouts,
7.9 ms after 2,000, so a checkout in a full session cost 1.6 times one in an empty session. The
unit of work that wrote it knows what it now holds: remembered here, the next read is free.

An entry is exact or absent: the document's statements, with the store's own blank nodes.
- A read fills an entry only when no write was under way from before it began until after it
  ended (`mark`, `fill`).
- A unit of work's commit leaves each document it wrote as written only when no other write
  happened between its start and the end of its commit, and the store kept its blank nodes (the
  document changed by its difference, no blank node minted); else it forgets them (`settle`).
- Any other write (an appended update, a write outside a unit of work) forgets everything.
"""
from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

from pyoxigraph import BlankNode, NamedNode, Triple

# At most this many documents, the least recently used forgotten first; larger ones are not kept.
DOCUMENTS, LARGEST = 4096, 5000


class Recent:
    """The documents remembered, and the count of writes that keeps them exact."""

    def __init__(self, size: int = DOCUMENTS, largest: int = LARGEST):
        self.size, self.largest = size, largest
        self._docs: OrderedDict[NamedNode, tuple[Triple, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._epoch = 0         # moved when each write starts and when it ends
        self._catalogue = 0     # the same, for the writes that may change the catalogue
        self._writing = 0       # writes under way
        self._inside = threading.local()

    @property
    def epoch(self) -> int:
        """How many times a write started or ended: the store's generation (embedded.py)."""
        return self._epoch

    @property
    def catalogue_epoch(self) -> int:
        """The same, counting only the writes that may change the catalogue (`writing`)."""
        return self._catalogue

    def mark(self) -> int | None:
        """Now, for `fill` and `settle`: None while a write is under way."""
        with self._lock:
            return None if self._writing else self._epoch

    def get(self, name: NamedNode) -> list[Triple] | None:
        """The document's statements (a copy), or None if not remembered."""
        with self._lock:
            found = self._docs.get(name)
            if found is None:
                return None
            self._docs.move_to_end(name)
        return list(found)

    def fill(self, name: NamedNode, triples: list[Triple], mark: int | None) -> None:
        """Remember what a read found, if no write began since `mark` (taken before the read)."""
        if mark is None or len(triples) > self.largest:
            return
        with self._lock:
            if self._epoch == mark and not self._writing:
                self._keep(name, triples)

    @contextlib.contextmanager
    def writing(self, settle: Callable[[int], None] | None = None, catalogue: bool = True) -> Iterator[None]:
        """Around every write. At its end, `settle(epoch before it)` says what it left, under the
        lock; without one (or when the write raised), everything is forgotten. A write inside
        another (a commit's update) is the outer one's. `catalogue=False`: its unit of work
        declared it changes no catalogue document (`Transaction.leaves_catalogue`)."""
        if getattr(self._inside, "depth", 0):
            yield
            return
        self._inside.depth = 1
        with self._lock:
            before = self._epoch
            self._writing += 1
            self._epoch += 1
            self._catalogue += catalogue
        done = False
        try:
            yield
            done = True
        finally:
            self._inside.depth = 0
            with self._lock:
                self._writing -= 1
                self._epoch += 1
                self._catalogue += catalogue
                if done and settle is not None:
                    settle(before)
                else:
                    self._docs.clear()

    def settle(self, tx, before: int) -> None:
        """After a unit of work's commit (under the lock): keep what it wrote where exact."""
        if tx.extra:                    # an update of its own may have changed any document
            self._docs.clear()
            return
        alone = tx.mark == before and self._epoch == before + 2     # nothing else wrote since it began
        for name in tx.drops:
            self._docs.pop(name, None)
        for name, triples in tx.writes.items():
            self._docs.pop(name, None)
            if alone and name not in tx.replaced and _same_blank_nodes(triples, tx.read.get(name)):
                self._keep(name, list(dict.fromkeys(triples)))

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()

    def _keep(self, name: NamedNode, triples: list[Triple]) -> None:
        if len(triples) > self.largest:
            return
        self._docs[name] = tuple(triples)
        self._docs.move_to_end(name)
        while len(self._docs) > self.size:
            self._docs.popitem(last=False)


def _same_blank_nodes(triples: list[Triple], read: list[Triple] | None) -> bool:
    """Whether every blank node written was read from the store (changed in place, so the store
    still names it so); a new one gets a name of the store's choosing."""
    written = {n for t in triples for n in (t.subject, t.object) if isinstance(n, BlankNode)}
    if not written:
        return True
    if read is None:
        return False
    return written <= {n for t in read for n in (t.subject, t.object) if isinstance(n, BlankNode)}
