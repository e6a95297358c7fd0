"""The background work inside `dfc-hub serve`: the session closer (which also erases the persons
whose retention period has run out, DFC_HUB_PERSON_RETENTION_DAYS, and sends partner platforms what
they have not acknowledged yet, app/partners/forwarder.py) and the webhook dispatcher."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from app.runtime.services import Services

log = logging.getLogger(__name__)


def close_due(services: Services) -> list:
    """Close every session whose endDate plus the grace period has passed; return their IRIs."""
    return services.orders.close_due(dt.timedelta(seconds=services.settings.close_grace_seconds))


def erase_due(services: Services) -> list:
    """Erase every person whose last session closed DFC_HUB_PERSON_RETENTION_DAYS ago (0: nobody)."""
    return services.persons.erase_due(services.settings.person_retention_days)


def forward_pending(services: Services) -> tuple[int, int]:
    """One pass over the forwarded orders' retry queue: (acknowledged, still pending)."""
    return services.orders.forwarder.retry_pending()


def start_closer(services: Services) -> threading.Thread | None:
    """Run `close_due`, then `erase_due`, every DFC_HUB_CLOSE_EVERY_SECONDS in a daemon thread (None when 0)."""
    every = services.settings.close_every_seconds
    if every <= 0:
        return None
    stop = threading.Event()

    def loop():
        while _pause(stop, every):
            try:
                for session in close_due(services):
                    log.info("closed sale session %s", session.value)
            except Exception:     # a failed round is retried next round; the server keeps serving
                log.exception("closing due sale sessions failed")
            try:                  # apart: a failed close never keeps a person's data longer
                for person in erase_due(services):
                    log.info("erased person %s (retention period over)", person.value)
            except Exception:
                log.exception("erasing persons due failed")
            try:
                forward_pending(services)
            except Exception:
                log.exception("sending forwarded orders to partners failed")

    thread = threading.Thread(target=loop, name="session-closer", daemon=True)
    thread.stop = stop
    thread.start()
    return thread


# How long the dispatcher rests after a pass that did not fill its batch: the delivery lag it
# adds, and what lets a steady stream of events go out in batches rather than one by one (each
# pass costs three short units of work under the write lock, whatever it sends).
DELIVERY_REST_SECONDS = 0.25


def start_dispatcher(services: Services) -> threading.Thread:
    """Deliver webhooks in a daemon thread: passes back to back through a backlog, else a short rest."""
    from app.events.dispatcher import BATCH

    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                sent = services.dispatcher.run_pass()
            except Exception:     # a store that did not answer: the claims expire, the next pass retries
                log.exception("a webhook delivery pass failed")
                sent = 0
            if sent < BATCH and not _pause(stop, DELIVERY_REST_SECONDS):
                return

    thread = threading.Thread(target=loop, name="webhook-dispatcher", daemon=True)
    thread.stop = stop
    thread.start()
    return thread


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
