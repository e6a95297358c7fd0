"""Webhook sends in a process of their own: what `serve` gives the dispatcher on an embedded store.

An on-disk store opens in one process only, so on `oxigraph:` the dispatcher's fan-out, claims
and settlements stay in the API's process (a thread, app/runtime/workers.py). What moves out is
what cost the API most: signing and POSTing, 1.1 ms of its CPU per delivery of the 1.8 ms it paid
for each (measured with bench/events.py's workload; the README's Benchmarks).

The child (`python -m app.events.sender_process TIMEOUT ALLOW_PRIVATE`) reads one batch a line on
its standard input — JSON, each delivery's URL, key, id and body — sends it with a WebhookSender
(pooled connections, the outbound adapter's guard), and answers one line of outcomes, in order.
It ends at the end of its input: when the server closes the pipe, or dies. A child that dies or
stops answering is killed and the batch counted as not sent (each delivery due again on its
schedule, with its id: at least once); the next batch starts a new child.
"""
from __future__ import annotations

import base64
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time

from app.events.dispatcher import WORKERS, Claimed, Outcome
from app.events.sender import Post, WebhookSender

STARTING_SECONDS = 30.0          # what a child may take to answer, beyond sending its batch


class SenderDied(Exception):
    """The child ended, or did not answer in time."""


class ProcessSender:
    """Sends each batch of deliveries through a child process, one batch at a time."""

    def __init__(self, timeout: float, allow_private: bool, python: str = sys.executable):
        self.timeout, self.allow_private, self.python = timeout, allow_private, python
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (it starts with the first batch)."""
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def send_all(self, claimed: list[Claimed]) -> list[Outcome]:
        """Each delivery's outcome, in order (never raises: a child that failed is an Outcome each)."""
        line = json.dumps([_wire(p) for p in Post.all_of(claimed)]).encode() + b"\n"
        # As long as sending the batch in waves may take (each POST ends at its deadline), and then some.
        allowed = -(-len(claimed) // WORKERS) * (self.timeout + 1) + STARTING_SECONDS
        started = time.monotonic()
        with self._lock:
            try:
                child = self._running()
                child.stdin.write(line)
                child.stdin.flush()
                answer = _read_line(child, allowed)
                outcomes = [Outcome(**o) for o in json.loads(answer)]
                if len(outcomes) != len(claimed):
                    raise SenderDied(f"it answered {len(outcomes)} outcomes for {len(claimed)} deliveries")
                return outcomes
            except (OSError, ValueError, TypeError, SenderDied) as e:
                self._stop()
                took = time.monotonic() - started
                return [Outcome(None, took, f"not sent: the sending process failed ({e})"[:300]) for _ in claimed]

    def _running(self) -> subprocess.Popen:
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen(
                [self.python, "-m", "app.events.sender_process", repr(self.timeout), "1" if self.allow_private else "0"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return self._child

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.kill()
        if child is not None:
            child.wait()
            child.stdin.close()
            child.stdout.close()

    def close(self) -> None:
        """End the child: its input closes, it finishes the batch under way (none: one at a time) and exits."""
        with self._lock:
            child, self._child = self._child, None
        if child is None:
            return
        child.stdin.close()
        try:
            child.wait(self.timeout + 5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


def _wire(post) -> dict:
    return {"url": post.url, "key": post.key, "id": post.id, "body": base64.b64encode(post.body).decode("ascii")}


def _read_line(child: subprocess.Popen, seconds: float) -> bytes:
    """The child's next line, within `seconds`."""
    deadline = time.monotonic() + seconds
    fd, chunks = child.stdout.fileno(), []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise SenderDied(f"no answer within {seconds:.0f} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise SenderDied(f"it exited with status {child.wait()}")
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks)


def main(argv: list[str]) -> int:
    """The child: batches in on stdin, outcomes out on stdout, until stdin ends."""
    # Ctrl-C in a terminal reaches the whole process group: the server stops this child by closing its input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sender = WebhookSender(float(argv[1]), argv[2] == "1")
    out = sys.stdout.buffer
    try:
        for line in sys.stdin.buffer:
            posts = [Post(d["url"], d["key"], d["id"], base64.b64decode(d["body"])) for d in json.loads(line)]
            outcomes = sender.post_all(posts)
            out.write(json.dumps([vars(o) for o in outcomes]).encode() + b"\n")    # asdict deep-copies: slower
            out.flush()
    finally:
        sender.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
