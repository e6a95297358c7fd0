"""A real webhook receiver on 127.0.0.1, in a thread of the test process.

    with receiving() as receiver:
        receiver.answers = [500, 500, 500]         # then 200 for ever
        ... receiver.url ...
        receiver.deliveries                        # every POST, in order

Each POST is kept (headers, body, when) and answered with the next scripted status (`otherwise`, 200 by
default, once the script is used up), optionally with headers (`Retry-After`). `receiver.delay` holds each
answer back that many seconds; `receiver.hold`, an Event, holds it until the test sets it (for
a sender to be caught in the middle of a POST, whatever the machine's speed); and
`receiver.overlaps` lists the webhook-ids that were ever being received twice at the same moment.
"""
from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Iterator


@dataclasses.dataclass
class Delivery:
    headers: dict
    body: bytes
    at: float
    path: str = ""                      # where on the receiver it was POSTed
    status: int = 0                     # what it was answered

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    def __init__(self):
        self.answers: list[int | tuple[int, dict]] = []
        self.deliveries: list[Delivery] = []
        self.accepted: list[str] = []      # webhook-ids answered with a 2xx
        self.connections = 0
        self.delay = 0.0
        self.hold: threading.Event | None = None     # set: each answer waits until the Event is set
        self.otherwise = 200               # the answer once `answers` is used up
        self.overlaps: set[str] = set()
        self._in_flight: dict[str, int] = {}
        self.lock = threading.Lock()
        self.url = ""

    def ids(self) -> list[str]:
        with self.lock:
            return [d.id for d in self.deliveries]

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Delivery]:
        """Wait until `count` deliveries came (or the timeout passed); return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.05)
        with self.lock:
            return list(self.deliveries)

    def _take(self, headers: dict, body: bytes, path: str = "") -> tuple[int, dict]:
        key = headers.get("webhook-id", "")
        with self.lock:
            answer = self.answers.pop(0) if self.answers else self.otherwise
            status, extra = answer if isinstance(answer, tuple) else (answer, {})
            self.deliveries.append(Delivery(headers, body, time.time(), path, status))
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            if self._in_flight[key] > 1:
                self.overlaps.add(key)
        if self.delay:
            time.sleep(self.delay)
        if self.hold is not None:
            self.hold.wait(120)           # a bound, should the test never set it
        with self.lock:
            self._in_flight[key] -= 1
            if 200 <= status < 300:
                self.accepted.append(key)
        return status, extra


def _handler(receiver: Receiver):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            with receiver.lock:
                receiver.connections += 1

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, extra = receiver._take({k.lower(): v for k, v in self.headers.items()}, body, self.path)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """Start a receiver on a free port of 127.0.0.1; stop it on exit."""
    receiver = Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
