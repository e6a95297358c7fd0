"""Sending one webhook delivery: Standard Webhooks 1.0 signing, through the one outbound adapter.

The dispatcher (app/events/dispatcher.py) claims and settles deliveries in the store; this
module only talks to receivers, so no module both writes the store and calls the network.
"""
from __future__ import annotations

import base64
import concurrent.futures
import dataclasses
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
import time

from app import outbound
from app.events.dispatcher import WORKERS, Claimed, Outcome
from app.rdf.terms import whole

MAX_BODY = 64 * 1024             # what is read of a receiver's answer (it is not kept)

log = logging.getLogger(__name__)


def sign(key: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` of a delivery: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    mac = hmac.new(base64.b64decode(key), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def body_of(claimed: Claimed) -> bytes:
    """What a delivery POSTs: the event's webhook payload, compact JSON (the same on every attempt)."""
    return json.dumps(claimed.event.payload(), separators=(",", ":")).encode()


@dataclasses.dataclass(frozen=True)
class Post:
    """One delivery as sent: where, signed with what, under which id, and the body."""
    url: str
    key: str
    id: str
    body: bytes

    @classmethod
    def all_of(cls, claimed: list[Claimed]) -> list["Post"]:
        """The posts of a pass's deliveries, each event's body written once for all its subscriptions."""
        bodies = {n: body_of(c) for n, c in {c.event.sequence: c for c in claimed}.items()}
        return [cls(c.url, c.key, c.event.id, bodies[c.event.sequence]) for c in claimed]


class WebhookSender:
    """POSTs claimed deliveries, WORKERS at once, each within its total deadline, over pooled connections."""

    def __init__(self, timeout: float, allow_private: bool):
        self.timeout, self.allow_private = timeout, allow_private
        self._http = None
        self._pool = None

    def send_all(self, claimed: list[Claimed]) -> list[Outcome]:
        """POST each delivery, in parallel; their outcomes, in order."""
        return self.post_all(Post.all_of(claimed))

    def post_all(self, posts: list[Post]) -> list[Outcome]:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="webhook-send")
        return list(self._pool.map(self.post, posts))

    def post(self, post: Post) -> Outcome:
        """POST one delivery (never raises: a failure is an Outcome)."""
        stamp = int(time.time())      # the receiver checks it against its own clock: the real time
        headers = {"Content-Type": "application/json", "User-Agent": "dfc-order-hub-webhooks",
                   "webhook-id": post.id, "webhook-timestamp": str(stamp),
                   "webhook-signature": sign(post.key, post.id, stamp, post.body)}
        started = time.monotonic()
        try:
            # The body is read only so the connection can be kept; once the status came, a receiver
            # still sending at the deadline (or past MAX_BODY) is cut off, not failed.
            r = self._client().request("POST", post.url, deadline=self.timeout, max_bytes=MAX_BODY,
                                        headers=headers, body=post.body, truncate=True)
            retry_after = _retry_after(r.headers.get("retry-after"))
        except outbound.UnsafeURL as e:
            return Outcome(None, time.monotonic() - started, f"not sent: {e.detail}")
        except outbound.CallFailed as e:
            return Outcome(None, time.monotonic() - started, f"{type(e).__name__}: {str(e)[:300]}")
        except Exception as e:        # whatever a peer's answer makes of us, one delivery fails, not the pass
            log.exception("webhook delivery %s to %s", post.id, post.url)
            return Outcome(None, time.monotonic() - started, f"not sent: {type(e).__name__}")
        return Outcome(r.status, time.monotonic() - started,
                       None if 200 <= r.status < 300 else f"the receiver answered {r.status}", retry_after)

    def _client(self):
        if self._http is None:
            self._http = outbound.Outbound(self.allow_private, pool=WORKERS)
        return self._http

    def close(self) -> None:
        """Wait for the sends under way, then close the connection pool."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._http is not None:
            self._http.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number, or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if (seconds := whole(value)) is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
