"""A partner that trickles its answer: a socket server on 127.0.0.1 that sends one byte at a time.

    with trickling(interval=0.5) as partner:
        ... partner.url ...          # each request is answered `partner.answer`, a byte every `interval` s
        partner.wait_for(2)          # until two requests have come in
        partner.requests             # (method, path, headers) of each, in arrival order
Leaving the block breaks off every answer under way (the connection reset). `interval=0` answers at
once (a healthy partner); `head_first=True` sends the status line and headers at once and trickles
the body only. Each byte alone keeps a per-read timeout from ever tripping.
"""
from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

BODY = b'{"@context": "https://www.datafoodconsortium.org", "@graph": []}'
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/ld+json\r\nConnection: close\r\n"
          b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


class Trickler:
    def __init__(self, interval: float, answer: bytes = ANSWER, head_first: bool = False):
        self.interval, self.answer, self.head_first = interval, answer, head_first
        self.requests: list[tuple[str, str, dict]] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._released = threading.Event()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._spawn(self._accept)

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        """Wait until `count` requests have come in (fail after `timeout`, a guard, not a measure)."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.requests) >= count, timeout), self.requests

    def stop(self) -> None:
        self._released.set()
        with contextlib.suppress(OSError):      # wakes the accept() under way (closing alone does not)
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for thread in list(self._threads):
            thread.join(10)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="trickler")
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._released.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:          # the listening socket was closed: stop
                return
            self._spawn(self._answer, conn)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if request is None:
                return
            with self._cond:
                self.requests.append(request)
                self._cond.notify_all()
            answer = self.answer
            if self.head_first or not self.interval:
                cut = len(answer) if not self.interval else answer.index(b"\r\n\r\n") + 4
                conn.sendall(answer[:cut])
                answer = answer[cut:]
            for i in range(len(answer)):
                if self._released.wait(self.interval):
                    # Reset, not closed: a caller still waiting sees the answer broken off, never
                    # a short one that happens to parse.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                try:
                    conn.sendall(answer[i:i + 1])
                except OSError:      # the caller gave up and closed its end
                    return


def _read_request(conn: socket.socket) -> tuple[str, str, dict] | None:
    """The request line and headers (its body read and dropped); None if the caller went away."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", 0))
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            rest += chunk
    except OSError:
        return None
    method, path, _ = lines[0].split(" ", 2)
    return method, path, headers


@contextlib.contextmanager
def trickling(interval: float = 0.5, **kwargs) -> Iterator[Trickler]:
    """A trickling partner for the block's duration."""
    partner = Trickler(interval, **kwargs)
    partner.start()
    try:
        yield partner
    finally:
        partner.stop()
