"""Talking to a SPARQL server over HTTP: what an answer's status, or a request that failed, means."""
from __future__ import annotations

import requests
import urllib3

from app.errors import StoreUnavailable

# Oxigraph answers 400 to bad syntax and 500 to an operation that failed. A status from 502 up
# comes from something in front of the store (a reverse proxy, a CDN): the store cannot be
# reached now. Such a gateway may have passed the request on before it failed (nginx's 504: it
# gave up waiting; 502, Envoy's 503, Cloudflare's 520-524: it lost the connection), so the store
# may have run it, or may still.
GATEWAY_FROM = 502


class Answered(Exception):
    """The error status a SPARQL server, or a gateway in front of it, answered (the cause of a
    StoreUnavailable)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def check(r: requests.Response, refused: type) -> None:
    """Raise for an error status: 503 for a server that cannot be reached, `refused` for the rest."""
    if r.status_code >= GATEWAY_FROM:
        raise StoreUnavailable(f"the SPARQL server answered {r.status_code}: {r.text[:500]}") \
            from Answered(r.status_code)
    if r.status_code >= 400:
        raise refused(f"the SPARQL server answered {r.status_code}: {r.text[:500]}")


def maybe_sent(e: StoreUnavailable) -> bool:
    """Whether a request that failed with `e` may have been carried out by the store: no answer
    came and the request left (only a failed connect never did), or a gateway answered (whether
    it passed the request on, its status does not say)."""
    cause = e.__cause__
    if isinstance(cause, Answered):
        return True
    if not isinstance(cause, requests.RequestException) or isinstance(cause, requests.ConnectTimeout):
        return False
    reason = getattr(cause.args[0], "reason", None) if cause.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)
