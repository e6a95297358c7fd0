"""One call's total deadline, and the one thread that enforces every call's.

A call ends within its deadline however the peer behaves (one byte every two seconds included):
when the deadline passes, the sockets the call uses are shut down, so whatever reads them fails
at once. One watchdog thread per process keeps the deadlines of all calls under way, earliest
first. A timer thread per call did the same, but starting and cancelling it was among the
webhook sender's largest costs (py-spy on bench/events.py's sender child): one thread for all
took its CPU per delivery from 1.15 to 0.8 ms.
"""
from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time

from urllib3.exceptions import NewConnectionError, TimeoutError as TransportTimeout

# What a timed-out socket raises, bare or as urllib3 words it (ReadTimeoutError, ConnectTimeoutError).
TIMEOUTS = (TransportTimeout, socket.timeout)


class Deadline:
    """One call's total deadline: the watchdog shuts down the sockets the call uses when it passes."""

    _current = threading.local()      # the deadline of the call this thread is making

    def __init__(self, seconds: float):
        self.seconds, self.ends = seconds, time.monotonic() + seconds
        self.passed = False
        self.finished = False         # the call ended: the watchdog forgets it
        self._watched: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "Deadline":
        self._current.deadline = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc) -> None:
        self._current.deadline = None
        with self._lock:
            self.finished = True
            for watched in self._watched:
                watched.close()
            self._watched.clear()

    @classmethod
    def current(cls) -> "Deadline | None":
        return getattr(cls._current, "deadline", None)

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def bound(self, timeout) -> float:
        """`timeout` (seconds, or urllib3's default marker), shortened to what is left of the deadline."""
        left = max(0.001, self.remaining())
        return min(timeout, left) if isinstance(timeout, (int, float)) else left

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (at once if it has)."""
        # A duplicate of the descriptor: it stays valid when TLS takes the socket over, and closing
        # it never closes a descriptor number the process has since given to something else.
        twin = socket.fromfd(sock.fileno(), sock.family, sock.type, sock.proto)
        with self._lock:
            self._watched.append(twin)
            if self.passed:
                _shut(twin)

    def expire(self) -> None:
        """The deadline passed: shut down what the call uses (nothing, if it has ended)."""
        with self._lock:
            if self.finished:
                return
            self.passed = True
            for watched in self._watched:
                _shut(watched)

    def cut(self, error: Exception) -> bool:
        """Whether a transport error is the deadline's doing (it passed, or the call timed out)."""
        # urllib3 makes a refused connection a kind of connect timeout; it is not one.
        return (self.passed or self.remaining() <= 0
                or isinstance(error, TIMEOUTS) and not isinstance(error, NewConnectionError))

    def message(self) -> str:
        return f"no complete answer within the {self.seconds:g} s deadline"


class _Watchdog:
    """The deadlines of the calls under way, earliest first, and the thread that expires them."""

    def __init__(self):
        self._reset()
        # A forked child has the heap but not the thread: it starts its own.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()     # ties broken by arrival, never by comparing deadlines
        self._running = False

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            if not self._running:
                threading.Thread(target=self._run, name="outbound-deadlines", daemon=True).start()
                self._running = True
            heapq.heappush(self._heap, (deadline.ends, next(self._order), deadline))
            if self._heap[0][2] is deadline:         # sooner than what the thread waits for
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._next_due()
            due.expire()

    def _next_due(self) -> Deadline:
        """Wait (under the condition) for the earliest deadline of a call still under way to pass."""
        while True:
            # Calls that ended are dropped when they reach the top: a call's end costs no search.
            while self._heap and self._heap[0][2].finished:
                heapq.heappop(self._heap)
            if not self._heap:
                self._cond.wait()
                continue
            wait = self._heap[0][0] - time.monotonic()
            if wait <= 0:
                return heapq.heappop(self._heap)[2]
            self._cond.wait(wait)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
