"""Where the time comes from: the system clock in service, a hand-set clock in tests."""
from __future__ import annotations

import datetime as dt
import threading


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class ShiftedClock:
    """The system clock moved to start at a given instant, then running on (DFC_HUB_CLOCK_START).

    Lets a rehearsal, or a test of `serve` and the cron commands, play fixture dates as if they
    were today without touching the machine's clock.
    """

    def __init__(self, start: dt.datetime):
        self._offset = _aware(start) - dt.datetime.now(dt.timezone.utc)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self._offset


def clock_from(start: str | None):
    """The clock a setting names: the system clock when unset, else one shifted to `start`."""
    if not start:
        return SystemClock()
    try:
        return ShiftedClock(dt.datetime.fromisoformat(start.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"DFC_HUB_CLOCK_START must be an ISO 8601 date-time, not {start!r}") from None


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
