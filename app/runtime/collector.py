"""How the server's long-running processes use Python's cyclic garbage collector.

Startup builds a large, permanent heap (the app, shapes, ontology, compiled queries); frozen, a
full collection stops walking it at every large request (measured, placing a 2,000-line order:
2.8-3.4 s of CPU, 2.0-2.5 s frozen). A large request also allocates hundreds of thousands of
lists, dicts and tuples that refcounting frees: at Python's default of a young collection every
700 allocations, the collector runs thousands of times during it, each older pass walking the
request's live objects again, so its cost grew faster than the order (bench/prices.py --cpu,
in-process, 3 runs each: placing 1,000 / 2,000 lines 1.65-1.88 / 3.45-3.95 s of CPU by default,
1.42-1.74 / 2.74-2.95 s at 10,000). Our code makes few reference cycles, so collecting rarely
keeps little garbage.
"""
from __future__ import annotations

import gc

YOUNG = 10_000          # allocations between collections of the youngest generation (Python: 700)
OLDER = 10              # collections of one generation between those of the next (Python: 10)


def settle() -> None:
    """Freeze what was built so far and collect less often: call once startup is done."""
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
