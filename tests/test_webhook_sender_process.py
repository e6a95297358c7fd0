"""The webhook sender's child process (app/events/sender_process.py): what `serve` sends through on
an embedded store. Real processes, a real receiver on 127.0.0.1, signatures checked with the
`standardwebhooks` library."""
from __future__ import annotations

import base64
import datetime as dt
import os
import threading
import time

import pytest
from conftest import DEMO_MONDAY
from pyoxigraph import NamedNode
from standardwebhooks import Webhook

from app.events import outbox as events
from app.events.dispatcher import Claimed
from app.events.sender_process import ProcessSender
from support.webhook_receiver import receiving

KEY = base64.b64encode(b"k" * 32).decode()
# The events' own time: data in the body, never compared with a clock (the signature's timestamp is the sender's).
OCCURRED = DEMO_MONDAY.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

pytestmark = pytest.mark.dateless("the child reads the clock for its deadlines and the signature's timestamp only")


def _claimed(url: str, n: int) -> Claimed:
    event = events.Event(n, "procurement.order_received", OCCURRED,
                         {"order": f"http://hub.test/orders/{n}", "note": "é\n\"quoted\""},
                         NamedNode(f"urn:x-dfc-hub:event:{n}"))
    return Claimed(NamedNode(f"http://hub.test/d/{n}"), NamedNode("http://hub.test/s"), 0, url, KEY, event)


@pytest.fixture
def sender():
    s = ProcessSender(timeout=60, allow_private=True)      # a held answer must not time out
    yield s
    s.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_batch_goes_out_from_another_process_signed_and_its_outcomes_come_back_in_order(sender):
    with receiving() as receiver:
        script = [204, 503, (429, {"Retry-After": "7"})]
        receiver.answers = list(script)
        batch = [_claimed(receiver.url, n) for n in (1, 2, 3)]
        outcomes = sender.send_all(batch)
        child = sender.pid
        assert child is not None and child != os.getpid() and _alive(child)
        # Sent in parallel, answered in the order they arrived: each outcome is its own delivery's answer.
        answered = {d.id: a for d, a in zip(receiver.deliveries, script)}
        by_status = {}
        for claimed, outcome in zip(batch, outcomes):
            answer = answered[claimed.event.id]
            assert outcome.status == (answer[0] if isinstance(answer, tuple) else answer)
            by_status[outcome.status] = outcome
        assert by_status[204].ok and by_status[204].error is None
        assert by_status[503].error == "the receiver answered 503" and by_status[429].retry_after == 7.0
        got = {d.id: d for d in receiver.deliveries}
        assert sorted(got) == [events.event_id(n) for n in (1, 2, 3)]
        for claimed in batch:
            d = got[claimed.event.id]
            # The body is the event's payload byte for byte, whatever it holds, and the signature verifies.
            assert Webhook(KEY).verify(d.body, d.headers) == claimed.event.payload()
        # The same child sends the next batch: its connections are pooled.
        assert [o.status for o in sender.send_all([_claimed(receiver.url, 4)])] == [200]
        assert sender.pid == child


def test_a_child_killed_mid_batch_fails_that_batch_only_and_the_next_gets_a_new_child(sender):
    with receiving() as receiver:
        sender.send_all([_claimed(receiver.url, 1)])
        first = sender.pid
        receiver.hold = threading.Event()          # the next batch is still being sent when the child dies
        result = {}
        sending = threading.Thread(target=lambda: result.update(out=sender.send_all([_claimed(receiver.url, 2)])))
        sending.start()
        assert len(receiver.wait_for(2, timeout=30)) == 2
        os.kill(first, 9)
        sending.join(60)
        receiver.hold.set()
        out = result["out"]
        assert len(out) == 1 and out[0].status is None and out[0].error.startswith("not sent: the sending process failed")
        assert [o.status for o in sender.send_all([_claimed(receiver.url, 3)])] == [200]
        assert sender.pid not in (None, first)


def test_an_unsafe_url_is_an_outcome_and_close_ends_the_child(sender):
    strict = ProcessSender(timeout=5, allow_private=False)
    try:
        out = strict.send_all([_claimed("http://127.0.0.1:9/hook", 1)])
        child = strict.pid
        assert out[0].status is None and out[0].error.startswith("not sent:") and "loopback" in out[0].error
    finally:
        strict.close()
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child) and strict.pid is None
