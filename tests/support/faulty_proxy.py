"""A loopback HTTP proxy in front of a real server of ours, that fails on demand.

The network between two platforms is the one part of a partner we do not control, so it is
what the fault tests vary; the partner behind it is a real server. Modes:
    "pass"  forward every request;
    "slow"  wait `delay` seconds, then forward (the partner still acts, after the caller gave up);
    "500"   answer 500 without forwarding;
    "down"  nothing listens on the port (connections are refused);
    "die after POST"  forward POSTs, then go down;
    "answer"  answer every request with `answer` (status, headers, body) without forwarding: what a
              broken or hostile platform may send back;
    "hold before" / "hold after"  (`hold`) keep each request whose body holds given bytes until
              `released` is set, before forwarding it or after its answer came; the rest pass.
              No clock decides: the caller gives up at its own timeout, and the request reaches
              the server (or not) exactly when the test says.
    "gateway before" / "gateway after"  (`gateway`) answer each request whose body holds given
              bytes with a gateway's error status (502, 503, 504), without forwarding it or once
              the server has answered it: a reverse proxy that could not reach the server, or that
              passed the request on and then gave up; the rest pass.
The server behind must mint its IRIs under the proxy's URL (its PUBLIC_BASE_URL), so every
call a client makes to an IRI it was given goes through the proxy too.
"""
from __future__ import annotations

import threading
import time

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from support.oxigraph_server import free_port

FORWARDED = ("Authorization", "Content-Type", "Accept", "Idempotency-Key", "If-Match")


class FaultyProxy:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.target: str | None = None
        self.mode, self.delay = "pass", 0.0
        self.answer: tuple[int, dict, bytes] = (200, {}, b"")
        self.gateway_status = 502
        self.matching = b""                         # "hold …": the requests held hold these bytes
        self.released = threading.Event()
        self.seen: list[tuple[str, str]] = []       # (method, path) of every request that reached the proxy
        self.sent: list[bytes] = []                 # each request's headers and body, as they went out
        self._in_flight = 0
        self._cond = threading.Condition()
        self._server = self._thread = None
        self._stopper: threading.Thread | None = None     # a "die after POST" going down
        self._http = requests.Session()

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    def set(self, mode: str, delay: float = 0.0) -> None:
        """Switch mode; "down" stops listening, any other mode listens again."""
        self.wait_until_down()          # else a late "die after POST" would stop what we restart
        self.mode, self.delay = mode, delay
        if mode == "down":
            self.stop()
        elif self._server is None:
            self.start()

    def hold(self, matching: bytes, after: bool) -> None:
        """Hold the requests whose body holds `matching` until `released` is set."""
        self.matching, self.released = matching, threading.Event()
        self.set("hold after" if after else "hold before")

    def gateway(self, matching: bytes, status: int, after: bool) -> None:
        """Answer the requests whose body holds `matching` with `status`, as a gateway would:
        after forwarding them if `after`, else without."""
        self.matching, self.gateway_status = matching, status
        self.set("gateway after" if after else "gateway before")

    def wait_until_down(self, timeout: float = 30) -> None:
        """Return once a "die after POST" has stopped listening (at once if none is under way)."""
        if self._stopper is not None:
            self._stopper.join(timeout)
            assert not self._stopper.is_alive()
            self._stopper = None

    def settle(self, timeout: float = 30) -> None:
        """Wait until no request is being forwarded (a slow one has reached the partner)."""
        with self._cond:
            assert self._cond.wait_for(lambda: self._in_flight == 0, timeout)

    def _app(self, environ, start_response):
        request = Request(environ)
        self.seen.append((request.method, request.path))
        self.sent.append(repr(dict(request.headers)).encode() + b"\n" + request.get_data())
        if self.mode == "500":
            return Response("proxy says no", status=500)(environ, start_response)
        if self.mode == "answer":
            status, headers, body = self.answer
            return Response(body, status=status, headers=headers)(environ, start_response)
        held = self.mode.startswith("hold") and self.matching in request.get_data()
        failing = self.mode.startswith("gateway") and self.matching in request.get_data()
        gateway = Response(f"the gateway answers {self.gateway_status}", status=self.gateway_status)
        if failing and self.mode == "gateway before":
            return gateway(environ, start_response)
        with self._cond:
            self._in_flight += 1
        try:
            if self.mode == "slow":
                time.sleep(self.delay)
            if held and self.mode == "hold before":
                self.released.wait(120)
            headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
            answer = self._http.request(request.method, self.target + request.full_path.rstrip("?"),
                                        headers=headers, data=request.get_data(), allow_redirects=False,
                                        timeout=60)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()
        if held and self.mode == "hold after":
            self.released.wait(120)
        if failing:
            return gateway(environ, start_response)
        if self.mode == "die after POST" and request.method == "POST":
            self._stopper = threading.Thread(target=self.stop, daemon=True)
            self._stopper.start()
        kept = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Location", "ETag")}
        return Response(answer.content, status=answer.status_code, headers=kept)(environ, start_response)
