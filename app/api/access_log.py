"""One access-log line per request on the `app.access` logger: method, path, status, duration.

A WSGI middleware rather than a Flask hook: it sees every answer, those of error handlers and
of exceptions that escape Flask included, and times the whole response, body included.
"""
from __future__ import annotations

import logging
import time
from urllib.parse import quote

log = logging.getLogger("app.access")


class AccessLog:
    """Wrap a WSGI app so that each request logs one line when its response is done."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        began = time.perf_counter()
        seen = {"status": "500"}    # what an exception before start_response amounts to

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            _line(environ, "500", began)
            raise
        return _Closing(body, lambda: _line(environ, seen["status"], began))


class _Closing:
    """The response body, logging once the server has sent it (or given up) and closed it."""

    def __init__(self, body, done):
        self.body, self.done = body, done

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.done()


def _line(environ, status: str, began: float) -> None:
    # PATH_INFO is the raw path decoded as latin-1; quoting it again keeps a newline or a
    # control character a client put in the path from forging log lines.
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace")
    path = quote(raw, safe="/:@!$&'()*+,;=-._~%")
    log.info("%s %s %s %.1fms", environ.get("REQUEST_METHOD", "-"), path, status,
             (time.perf_counter() - began) * 1000)
