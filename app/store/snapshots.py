"""Read-only snapshots of an embedded store, queried in child processes that can be killed.

An analyst's query may run for ever, and pyoxigraph cannot stop a query it has started; only a
process can be stopped for sure. Two processes cannot open one on-disk store (RocksDB's lock),
and `Store.read_only` beside a writer is undefined, so a worker reads a snapshot instead:
RocksDB's checkpoint of an on-disk store (hard links: tens of milliseconds), or a copy written
out of an in-memory one (as long as the data: meant for tests and demos). A snapshot serves
every query until the next write, and goes once no query reads it.

Everything one query reads comes from one snapshot — the analyst dataset's graph list too —
so a document that has started to describe a person is never read in its older state.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import pyoxigraph as ox
from pyoxigraph import NamedNode

from app.errors import InvalidQuery, ResultTooLarge, StoreUnavailable
from app.queries import bind

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "query_worker.py")
_JSON = "application/sparql-results+json"
# Our own queries on a snapshot (the analyst graph list) are never cut short for size.
_UNBOUNDED = 1 << 40


class Stopped(StoreUnavailable):
    """The worker was killed (or died) while it answered."""


class Worker:
    """One child process running `query_worker.py`."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-P", WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # A store dropped without close() (tests do) must not leave its workers running.
        self.kill = weakref.finalize(self, _kill, self.proc)

    def call(self, request: dict) -> bytes:
        """Send one request; return the worker's answer, or raise the hub's error for it."""
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            header = self.proc.stdout.readline()
        except (OSError, ValueError):           # a pipe closed by a kill
            header = b""
        if not header:
            raise Stopped("the query worker stopped")
        header = json.loads(header)
        if "error" in header:
            kind, message = header["error"], header["message"]
            if kind == "too-large":
                raise ResultTooLarge(f"the result is larger than {request['max_bytes']} bytes "
                                     "(DFC_HUB_SPARQL_MAX_RESULT_BYTES); add a LIMIT or aggregate",
                                     maxBytes=request["max_bytes"])
            raise (InvalidQuery if kind == "invalid" else StoreUnavailable)(message)
        body = self.proc.stdout.read(header["length"])
        if len(body) != header["length"]:
            raise Stopped("the query worker stopped")
        return body

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


def _kill(proc: subprocess.Popen) -> None:
    """Stop a worker at once, whatever it is doing, and reap it."""
    proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError):
            pipe.close()


class SnapshotReader:
    """The read side of the store interface over one snapshot, run in one worker."""

    def __init__(self, path: str, worker: Worker, max_bytes: int = _UNBOUNDED):
        self.path, self.worker, self.max_bytes = path, worker, max_bytes
        # A snapshot never changes, and its store numbers them: what was computed from one holds
        # for every query that reads it (each store has an Analytics of its own).
        self.state = path
        self.cancelled = False
        self._cancel_lock = threading.Lock()

    def select(self, query: str, bindings=None) -> list[dict]:
        """Run one of our own SELECTs (values already bound) on the snapshot."""
        body = self._call({"query": bind(query, bindings), "format": _JSON, "max_bytes": _UNBOUNDED})
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    def query_to(self, query: str, default_graph: Sequence[NamedNode], named_graphs: Sequence[NamedNode],
                 media_type: str, out: BinaryIO, timeout: float | None = None) -> None:
        """As `Store.query_to`, in the worker; `cancel()` stops it."""
        out.write(self._call({"query": query, "default": [g.value for g in default_graph],
                              "named": [g.value for g in named_graphs], "format": media_type,
                              "max_bytes": self.max_bytes}))

    def cancel(self) -> None:
        """Kill the worker: whatever it runs stops now, and the caller waiting on it returns."""
        with self._cancel_lock:
            self.cancelled = True
            self.worker.kill()

    def _call(self, request: dict) -> bytes:
        if self.cancelled:
            raise Stopped("the query was cancelled")
        return self.worker.call({"path": self.path, **request})


class Snapshots:
    """Snapshots of one embedded store, made on demand and dropped once unused; idle workers."""

    def __init__(self, owner, lock: threading.RLock, store_path: str | None, max_idle: int = 4):
        # `owner` (the EmbeddedStore: `raw`, `generation`) is held by a weak proxy, so that
        # dropping the store still frees its directory at once, as it did before snapshots.
        self._owner, self._lock, self._on_disk = weakref.proxy(owner), lock, store_path is not None
        # An on-disk store's snapshots live beside it: on its file system, so that checkpoints
        # are hard links, not copies; and where a process that died left them, the next one to
        # open the store (the only one that can) removes them before they pin old files.
        self._dir: str | None = None                     # made with the first snapshot
        self._remove = None
        if store_path is not None:
            self._dir = os.path.abspath(store_path).rstrip(os.sep) + "-snapshots"
            shutil.rmtree(self._dir, ignore_errors=True)
            os.makedirs(self._dir)
            self._remove = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self._current: tuple[int, str] | None = None      # (generation, path)
        self._readers: dict[str, int] = {}                # path → queries reading it
        self._idle: list[Worker] = []
        self._max_idle = max_idle
        self._state = threading.Lock()
        self._made = 0

    @contextlib.contextmanager
    def reader(self, max_bytes: int) -> Iterator[SnapshotReader]:
        """A reader over a snapshot as of now, in a worker of its own; both go back afterwards."""
        path = self._acquire()
        try:
            worker = self._worker()
            reader = SnapshotReader(path, worker, max_bytes)
            try:
                yield reader
            finally:
                with self._state:
                    if reader.cancelled or not worker.alive or len(self._idle) >= self._max_idle:
                        worker.kill()
                    else:
                        self._idle.append(worker)
        finally:
            self._release(path)

    def drop_stale(self) -> None:
        """Stop serving a snapshot older than the store's last write, and remove it once unread.

        Otherwise it stays on disk until the next analyst query: after an erasure, that would
        keep the erased person's data in a file for as long as nobody queries.
        """
        with self._lock:
            generation = self._owner.generation
            with self._state:
                stale = self._current
                if stale is None or stale[0] == generation:
                    return
                self._current = None
            self._release(stale[1], count=False)

    def close(self) -> None:
        """Kill every idle worker and remove the snapshots (a busy worker is its reader's to end)."""
        with self._state:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
        if self._remove is not None:
            self._remove()

    def _worker(self) -> Worker:
        with self._state:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
        return Worker()

    def _acquire(self) -> str:
        # Under the write lock: no write runs while the snapshot is made, and the generation
        # read is the one the snapshot holds, so a snapshot is reused only while it is current.
        with self._lock:
            generation = self._owner.generation
            with self._state:
                current = self._current
            if current is None or current[0] != generation:
                path = self._make()
                with self._state:
                    old, self._current = self._current, (generation, path)
                    self._readers[path] = 0
                if old is not None:
                    self._release(old[1], count=False)
            with self._state:
                path = self._current[1]
                self._readers[path] += 1
                return path

    def _make(self) -> str:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="dfc-hub-snapshots-")
            self._remove = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self._made += 1
        path = os.path.join(self._dir, str(self._made))
        try:
            if self._on_disk:
                self._owner.raw.flush()
                self._owner.raw.backup(path)
            else:
                copy = ox.Store(path)
                copy.bulk_extend(self._owner.raw)
                copy.flush()
                del copy
        except OSError as e:
            shutil.rmtree(path, ignore_errors=True)
            raise StoreUnavailable(f"the store could not be snapshotted for a query: {e}") from e
        return path

    def _release(self, path: str, count: bool = True) -> None:
        with self._state:
            if count:
                self._readers[path] -= 1
            gone = self._readers.get(path) == 0 and (self._current is None or self._current[1] != path)
            if gone:
                del self._readers[path]
        if gone:
            shutil.rmtree(path, ignore_errors=True)
