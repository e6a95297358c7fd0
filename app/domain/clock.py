"""Where the time comes from: the system clock in service, a hand-set clock in tests."""
from __future__ import annotations

import datetime as dt
import threading


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class ManualClock:
    """A clock that stands still until told otherwise (tests drive sessions without sleeping)."""

    def __init__(self, at: dt.datetime):
        self._at, self._lock = _aware(at), threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._at

    def set(self, at: dt.datetime) -> None:
        with self._lock:
            self._at = _aware(at)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
