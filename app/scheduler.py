"""The session closer inside `dfc-hub serve`: closes sale sessions due, every few seconds."""
from __future__ import annotations

import datetime as dt
import logging
import threading

from app.hub import Hub

log = logging.getLogger(__name__)


def close_due(hub: Hub) -> list:
    """Close every session whose endDate plus the grace period has passed; return their IRIs."""
    return hub.orders.close_due(dt.timedelta(seconds=hub.settings.close_grace_seconds))


def start_closer(hub: Hub) -> threading.Thread | None:
    """Run `close_due` every DFC_HUB_CLOSE_EVERY_SECONDS in a daemon thread (None when 0)."""
    every = hub.settings.close_every_seconds
    if every <= 0:
        return None
    stop = threading.Event()

    def loop():
        while not stop.wait(every):
            try:
                for session in close_due(hub):
                    log.info("closed sale session %s", session.value)
            except Exception:     # a failed round is retried next round; the server keeps serving
                log.exception("closing due sale sessions failed")

    thread = threading.Thread(target=loop, name="session-closer", daemon=True)
    thread.stop = stop
    thread.start()
    return thread
