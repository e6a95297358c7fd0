"""Named write locks: a unit of work locks what it changes (a producer, a document), not the store.

Keys are strings (an enterprise's or a document's IRI). A unit of work takes all its keys in
one fixed order (sorted), so two units of work never wait on each other in a circle; each key
is held by one thread of one process at a time (re-entrant for that thread). Where several
processes share the store, each key's first taking in this process also takes it across
processes (`acquire`/`release` given by the backend: a lock document per key in a remote store).

One short lock is shared by every write: the commit lock (`Store.write_lock`), taken last and only for
the instant a unit of work numbers its events and writes, so event ids stay unique and follow
commit order without any writer waiting through another's reads and planning.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator

# What a unit of work that names no keys locks: every such unit of work, and nothing else.
STORE_KEY = "urn:x-dfc-hub:lock:store"


class MoreLocks(Exception):
    """A unit of work found under its locks that it changes more than they cover: run it again."""

    def __init__(self, keys: Iterable[str]):
        super().__init__("the unit of work needs more locks")
        self.keys = frozenset(keys)


def normalised(keys: Iterable | None) -> tuple[str, ...]:
    """The keys a unit of work takes, in the one order every unit of work takes them."""
    if keys is None:
        return (STORE_KEY,)
    out = sorted({getattr(k, "value", k) for k in keys})
    return tuple(out) or (STORE_KEY,)


class KeyLocks:
    """The named locks of one process; `acquire`/`release` extend each key across processes."""

    def __init__(self, acquire: Callable[[str], None] | None = None,
                 release: Callable[[str], None] | None = None):
        self._mutex = threading.Lock()
        self._keys: dict[str, _Key] = {}        # keys held or waited for
        self._acquire, self._release = acquire, release

    @contextlib.contextmanager
    def hold(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold every key (already sorted) until the block ends."""
        taken: list[str] = []
        try:
            for key in keys:
                self._take(key)
                taken.append(key)
            yield
        finally:
            # Every key is given back even when one release fails (a remote store that does not
            # answer): stopping at the first would leave the rest held by this thread for ever,
            # and renewed in the store by the heartbeat. The first failure is raised after.
            failed = None
            for key in reversed(taken):
                try:
                    self._give(key)
                except BaseException as e:
                    failed = failed or e
            if failed is not None:
                raise failed

    def held(self) -> set[str]:
        """The keys this thread holds now."""
        me = threading.get_ident()
        with self._mutex:
            return {name for name, k in self._keys.items() if k.owner == me}

    def _take(self, key: str) -> None:
        me = threading.get_ident()
        with self._mutex:
            k = self._keys.get(key)
            if k is None:
                k = self._keys[key] = _Key(self._mutex)
            if k.owner == me:
                k.depth += 1
                return
            k.waiting += 1
            try:
                while k.owner is not None:
                    k.turn.wait()
            finally:
                k.waiting -= 1
            k.owner, k.depth = me, 1
        if self._acquire is not None:
            try:
                self._acquire(key)
            except BaseException:
                self._drop(key)
                raise

    def _give(self, key: str) -> None:
        with self._mutex:
            k = self._keys[key]
            if k.depth > 1:
                k.depth -= 1
                return
        try:
            if self._release is not None:
                self._release(key)
        finally:
            self._drop(key)

    def _drop(self, key: str) -> None:
        with self._mutex:
            k = self._keys[key]
            k.owner, k.depth = None, 0
            if k.waiting:
                # One waiter of this key, not every waiter of every key: sixteen threads checking
                # out at one producer woke fifteen at each release (measured: 1.6 ms of CPU more per
                # checkout than the one store-wide lock before).
                k.turn.notify()
            else:
                del self._keys[key]


class _Key:
    """A key's holder (thread and depth), and the threads waiting for it."""
    __slots__ = ("owner", "depth", "waiting", "turn")

    def __init__(self, mutex: threading.Lock):
        self.owner: int | None = None
        self.depth = 0
        self.waiting = 0
        self.turn = threading.Condition(mutex)


class SharedLock:
    """Held by many at once (`with lock.shared()`: writes), or by one alone (`with lock`: a
    snapshot, which must see no write half done). The one alone waits for the many to leave."""

    def __init__(self):
        self._cond = threading.Condition()
        self._sharing = 0
        self._alone = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._alone:
                self._cond.wait()
            self._sharing += 1
        try:
            yield
        finally:
            with self._cond:
                self._sharing -= 1
                self._cond.notify_all()

    def __enter__(self) -> None:
        self._cond.acquire()
        while self._alone or self._sharing:
            self._cond.wait()
        self._alone = True
        self._cond.release()

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._alone = False
            self._cond.notify_all()
