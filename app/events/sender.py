"""Sending one webhook delivery: Standard Webhooks 1.0 signing, through the one outbound adapter.

The dispatcher (app/events/dispatcher.py) claims and settles deliveries in the store; this
module only talks to receivers, so no module both writes the store and calls the network.
"""
from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import time

from app import outbound
from app.events.dispatcher import WORKERS, Claimed, Outcome

MAX_BODY = 64 * 1024             # what is read of a receiver's answer (it is not kept)


def sign(key: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` of a delivery: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    mac = hmac.new(base64.b64decode(key), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


class WebhookSender:
    """POSTs claimed deliveries, each within its total deadline, over pooled connections."""

    def __init__(self, timeout: float, allow_private: bool):
        self.timeout, self.allow_private = timeout, allow_private
        self._http = None

    def send(self, claimed: Claimed) -> Outcome:
        """POST one delivery (never raises: a failure is an Outcome)."""
        body = json.dumps(claimed.event.payload(), separators=(",", ":")).encode()
        stamp = int(time.time())      # the receiver checks it against its own clock: the real time
        headers = {"Content-Type": "application/json", "User-Agent": "dfc-order-hub-webhooks",
                   "webhook-id": claimed.event.id, "webhook-timestamp": str(stamp),
                   "webhook-signature": sign(claimed.key, claimed.event.id, stamp, body)}
        started = time.monotonic()
        try:
            # The body is read only so the connection can be kept; once the status came, a receiver
            # still sending at the deadline (or past MAX_BODY) is cut off, not failed.
            r = self._client().request("POST", claimed.url, deadline=self.timeout, max_bytes=MAX_BODY,
                                        headers=headers, body=body, truncate=True)
        except outbound.UnsafeURL as e:
            return Outcome(None, time.monotonic() - started, f"not sent: {e.detail}")
        except outbound.CallFailed as e:
            return Outcome(None, time.monotonic() - started, f"{type(e).__name__}: {str(e)[:300]}")
        return Outcome(r.status, time.monotonic() - started,
                       None if 200 <= r.status < 300 else f"the receiver answered {r.status}",
                       _retry_after(r.headers.get("retry-after")))

    def _client(self):
        if self._http is None:
            self._http = outbound.Outbound(self.allow_private, pool=WORKERS)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number, or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
