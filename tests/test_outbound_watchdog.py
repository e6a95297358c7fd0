"""The one watchdog thread behind every outbound call's deadline (app/outbound/deadline.py).

The calls themselves, against peers that trickle or stall, are tested in
tests/test_outbound_deadlines.py; here, the watchdog alone: each deadline still under way is
expired once it passes, whatever the order the calls began and ended in, a call that ended is
never touched, and all of it on one thread however many calls run.
"""
from __future__ import annotations

import socket
import threading

from app.outbound.deadline import Deadline


def _pair():
    a, b = socket.socketpair()
    return a, b


def _watchers() -> int:
    return sum(t.name == "outbound-deadlines" for t in threading.enumerate())


def test_every_deadline_under_way_is_expired_and_a_finished_one_is_not():
    long_call, short_calls, ended = Deadline(60), [Deadline(0.05 * k) for k in (3, 1, 2)], Deadline(0.01)
    sockets = []
    with ended:                              # a call that ends before its deadline
        pass
    for deadline in [long_call, *short_calls]:
        deadline.__enter__()
        a, b = _pair()
        deadline.watch(a)
        sockets.append((deadline, a, b))
    try:
        for deadline, a, _ in sockets[1:]:
            a.settimeout(30)                 # a read that only the shutdown ends (no peer writes)
            assert a.recv(1) == b""          # the watchdog shut it down: the read sees the end
            assert deadline.passed
        assert not long_call.passed and not ended.passed
        assert _watchers() == 1
    finally:
        for deadline, a, b in sockets:
            deadline.__exit__(None, None, None)
            a.close()
            b.close()


def test_a_deadline_that_passed_shuts_a_socket_watched_afterwards_at_once():
    with Deadline(0.01) as deadline:
        for _ in range(3000):               # the watchdog's turn, however long the machine takes
            if deadline.passed:
                break
            threading.Event().wait(0.01)
        assert deadline.passed
        a, b = _pair()
        deadline.watch(a)
        a.settimeout(30)
        assert a.recv(1) == b""
        a.close()
        b.close()
