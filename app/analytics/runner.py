"""Analyst queries on worker threads: a deadline, a bounded number at once, a bounded result.

A query that outlives its deadline is answered 503 at once, and then stopped by whoever can:
- the job registers how to stop it (`Output.stop_with`): the embedded store runs it in a child
  process, killed here at the deadline (app/store/snapshots.py); a remote Oxigraph ends it at
  its own `--timeout-s`, and our read of its answer times out;
- it keeps one of `max_running` slots until its job returns (at once, once stopped); while every
  slot is taken, new queries answer 503 at once rather than queue, so nothing piles up;
- the next time it writes a result chunk it is stopped too, and a result never grows past
  `max_bytes` in memory.
"""
from __future__ import annotations

import concurrent.futures
import io
import threading
import time
from collections.abc import Callable

from app.errors import AnalyticsBusy, QueryTimeout, ResultTooLarge, StoreUnavailable


class Abandoned(Exception):
    """Raised into a query's writer once nobody waits for it any more."""


class Output(io.RawIOBase):
    """Where a query writes its result: bounded, and closed to it once it is abandoned."""

    def __init__(self, max_bytes: int):
        super().__init__()
        self._buffer = io.BytesIO()
        self._max_bytes = max_bytes
        self.abandoned = threading.Event()
        self._stop = None
        self._stop_lock = threading.Lock()

    def stop_with(self, stop: Callable[[], None]) -> None:
        """Call `stop()` when the query is abandoned (now, if it already is)."""
        with self._stop_lock:
            self._stop = stop
            if not self.abandoned.is_set():
                return
        stop()

    def abandon(self) -> None:
        """Nobody waits any more: refuse further writes and stop the query if the job said how."""
        with self._stop_lock:
            self.abandoned.set()
            stop = self._stop
        if stop is not None:
            stop()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.abandoned.is_set():
            raise Abandoned("the query ran past its deadline")
        if self._buffer.tell() + len(data) > self._max_bytes:
            raise ResultTooLarge(f"the result is larger than {self._max_bytes} bytes "
                                 "(DFC_HUB_SPARQL_MAX_RESULT_BYTES); add a LIMIT or aggregate",
                                 maxBytes=self._max_bytes)
        return self._buffer.write(data)

    def value(self) -> bytes:
        return self._buffer.getvalue()


class QueryRunner:
    """Runs jobs that write into an `Output`, `max_running` at most, each within `timeout` seconds."""

    def __init__(self, timeout: float, max_running: int, max_bytes: int,
                 clock: Callable[[], float] = time.monotonic):
        self.timeout, self.max_bytes = timeout, max_bytes
        self._clock = clock          # seconds, for how long a failed job ran
        self._slots = threading.BoundedSemaphore(max_running)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_running, thread_name_prefix="analyst-query")
        self._running: set[Output] = set()
        self._running_lock = threading.Lock()

    def run(self, job: Callable[[Output], None]) -> bytes:
        """Run `job(output)`; return what it wrote, or raise its error, 503 when late or busy."""
        if not self._slots.acquire(blocking=False):
            raise AnalyticsBusy("every analyst query slot is taken (DFC_HUB_SPARQL_MAX_QUERIES); "
                                "try again in a moment", retryAfter=int(self.timeout) + 1)
        out = Output(self.max_bytes)
        began = self._clock()                # before the job starts, so its own timers run no longer
        try:
            future = self._pool.submit(self._work, job, out)
        except BaseException:
            self._slots.release()
            raise
        try:
            future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            out.abandon()
            raise self._late() from None
        except StoreUnavailable as e:
            # The job reads with this same deadline (a remote store's read timeout): when its
            # timer fires a moment before ours, the query still ran too long.
            if not isinstance(e, QueryTimeout) and self._clock() - began >= self.timeout:
                raise self._late() from None
            raise
        return out.value()

    def _late(self) -> QueryTimeout:
        return QueryTimeout(f"the query did not finish within {self.timeout:g} s "
                            "(DFC_HUB_SPARQL_TIMEOUT_SECONDS); narrow it, or add a LIMIT",
                            timeoutSeconds=self.timeout)

    def _work(self, job, out: Output) -> None:
        with self._running_lock:
            self._running.add(out)
        try:
            job(out)
        finally:
            with self._running_lock:
                self._running.discard(out)
            self._slots.release()

    def close(self) -> None:
        """Stop taking queries, and stop those still running where their jobs said how."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._running_lock:
            running = list(self._running)
        for out in running:
            out.abandon()
