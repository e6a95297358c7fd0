"""The background work inside `dfc-hub serve`: named workers, each one job on a period, supervised.

    session-closer      closes the sale sessions due (endDate + DFC_HUB_CLOSE_GRACE_SECONDS)
    hold-expirer        cancels Held orders whose hub:holdUntil has passed (app/orders/expiry.py)
    person-eraser       erases persons whose retention period ran out (DFC_HUB_PERSON_RETENTION_DAYS)
    partner-sender      sends partner platforms what they have not acknowledged (app/partners)
    webhook-dispatcher  delivers webhooks (app/events/dispatcher.py), back to back through a backlog

Each worker is a thread with start, stop and join; its last run and last error show on /health.
On a remote (`sparql:`) store the webhook-dispatcher is a process of its own instead
(`dfc-hub deliver-events --follow`, restarted if it dies), so sending, signing and recording
deliveries takes nothing of the API's interpreter. On an embedded store it stays a thread: an
on-disk Oxigraph store opens in one process only (RocksDB's lock), and pyoxigraph offers no
writable second opener — `Store.read_only` beside a writer is undefined, and the dispatcher must
write (claim, settle) anyway. Its sends, signing and POSTing, go through a child process there
(app/events/sender_process.py): most of what a delivery cost the API.
A job that raises is logged and tried again next period: the server keeps serving. The cron
commands (`dfc-hub close-due-sessions`, …) run the same jobs once.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from app.events.dispatcher import BATCH
from app.events.sender_process import ProcessSender
from app.runtime.services import Services

log = logging.getLogger(__name__)

# How long the dispatcher rests after a pass that did not fill its batch: the delivery lag it
# adds, and what lets a steady stream of events go out in batches rather than one by one (each
# pass costs three short units of work under the write lock, whatever it sends).
DELIVERY_REST_SECONDS = 0.25


def close_due(services: Services) -> list:
    """Close every session whose endDate plus the grace period has passed; return their IRIs."""
    return services.orders.close_due(dt.timedelta(seconds=services.settings.close_grace_seconds))


def expire_holds(services: Services) -> list:
    """Cancel every Held order whose hold has ended (reason "hold expired"); return their IRIs."""
    return services.orders.expire_holds()


def erase_due(services: Services) -> list:
    """Erase every person whose last session closed DFC_HUB_PERSON_RETENTION_DAYS ago (0: nobody)."""
    return services.persons.erase_due(services.settings.person_retention_days)


def forward_pending(services: Services) -> tuple[int, int]:
    """One pass over the forwarded orders' retry queue: (acknowledged, still pending)."""
    return services.orders.forwarder.retry_pending()


@dataclasses.dataclass
class Worker:
    """One named job run in a thread of its own every `every` seconds, until stopped.

    `job` returns whether to run again at once (a backlog) rather than after the rest.
    """
    name: str
    job: Callable[[], bool]
    every: float
    runs: int = 0
    last_run: str | None = None       # when the last run ended (UTC, ISO 8601)
    last_error: str | None = None     # the last run's error, None once a run succeeds
    finish: Callable[[], None] | None = None    # run once the loop ends (what the job holds open)
    details: Callable[[], dict] | None = None   # more for /health (the webhook sender's process)
    _stop: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = dataclasses.field(default=None, repr=False)

    def start(self) -> "Worker":
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> dict:
        """What /health shows of this worker."""
        return {"name": self.name, "running": self.running, "everySeconds": self.every, "runs": self.runs,
                "lastRun": self.last_run, "lastError": self.last_error, **(self.details() if self.details else {})}

    def run_once(self) -> bool:
        """Run the job once, recording how it went; never raises."""
        again = False
        try:
            again = bool(self.job())
            self.last_error = None
        except Exception as e:    # a failed run is retried next period; the server keeps serving
            log.exception("background worker %s failed", self.name)
            self.last_error = f"{type(e).__name__}: {e}"[:500]
        self.runs += 1
        self.last_run = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        return again

    def run(self) -> None:
        """Run the job on its period in this thread until stopped (`deliver-events --follow`)."""
        self._loop()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                if not self.run_once() and not _pause(self._stop, self.every):
                    return
        finally:
            if self.finish is not None:
                self.finish()


@dataclasses.dataclass
class ChildWorker(Worker):
    """A worker that is a child process (`argv`), watched by a thread: started again `every`
    seconds after it exits unasked, sent SIGTERM (then killed after STOP_SECONDS) when stopped."""
    argv: list[str] = dataclasses.field(default_factory=list)
    pid: int | None = None

    STOP_SECONDS = 10.0

    def state(self) -> dict:
        return {**super().state(), "pid": self.pid}

    def _loop(self) -> None:
        while not self._stop.is_set():
            proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
            self.pid = proc.pid
            while proc.poll() is None and not self._stop.is_set():
                time.sleep(0.2)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(self.STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.runs += 1
            self.last_run = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
            self.pid = None
            if self._stop.is_set():
                return
            self.last_error = f"exited with status {proc.returncode}; started again"
            log.error("background worker %s exited with status %s", self.name, proc.returncode)
            if not _pause(self._stop, self.every):
                return


class Workers:
    """The workers of one serving process: started together, stopped and joined together."""

    def __init__(self, workers: list[Worker]):
        self.all = workers

    def start(self) -> "Workers":
        for worker in self.all:
            worker.start()
        return self

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask every worker to stop, then wait for each (at most `timeout` seconds in all)."""
        for worker in self.all:
            worker.stop()
        deadline = time.monotonic() + timeout
        return all([worker.join(max(0.0, deadline - time.monotonic())) for worker in self.all])

    def state(self) -> list[dict]:
        return [worker.state() for worker in self.all]


def workers_for(services: Services) -> Workers:
    """The background work `serve` runs for these services (the periodic jobs off when the period is 0)."""
    every = services.settings.close_every_seconds

    def logged(job, what):
        def run():
            for iri in job(services):
                log.info("%s %s", what, iri.value)
            return False
        return run

    periodic = [Worker("session-closer", logged(close_due, "closed sale session"), every),
                Worker("hold-expirer", logged(expire_holds, "cancelled order (hold expired)"), every),
                Worker("person-eraser", logged(erase_due, "erased person (retention period over)"), every),
                Worker("partner-sender", lambda: forward_pending(services) and False, every)] if every > 0 else []
    return Workers([*periodic, delivery_worker(services)])


def delivery_worker(services: Services) -> Worker:
    """The webhook-dispatcher of `serve`: a child process on a remote store; on an embedded one a
    thread, whose sends go through a child process (app/events/sender_process.py)."""
    settings = services.settings
    if settings.store.startswith("sparql:"):
        argv = [sys.executable, "-m", "app.cli", "deliver-events", "--follow", "--parent", str(os.getpid())]
        return ChildWorker("webhook-dispatcher", lambda: False, 1.0, argv=argv)
    sender = ProcessSender(settings.webhook_timeout_seconds, settings.webhook_allow_private)
    dispatcher = services.dispatcher.sending_through(sender)
    return Worker("webhook-dispatcher", lambda: dispatcher.run_pass() >= BATCH, DELIVERY_REST_SECONDS,
                  finish=sender.close, details=lambda: {"senderPid": sender.pid})


def dispatcher_worker(services: Services) -> Worker:
    """Dispatcher passes in a thread (or, through `run`, in the caller's: `deliver-events --follow`)."""
    # A full batch means more may be waiting: the next pass goes at once.
    return Worker("webhook-dispatcher", lambda: services.dispatcher.run_pass() >= BATCH, DELIVERY_REST_SECONDS)


def _pause(stop: threading.Event, seconds: float) -> bool:
    """Sleep `seconds` in short steps; False as soon as `stop` is set.

    Not `stop.wait(seconds)`: a timed wait on a lock never wakes under libfaketime (it fakes
    the monotonic clock but not the semaphore's deadline), and `make test` runs the scheduler
    with the calendar moved years ahead.
    """
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, 0.2))
    return False
