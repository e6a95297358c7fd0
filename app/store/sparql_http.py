"""Talking to a SPARQL server over HTTP: what an answer's status, or a request that failed, means."""
from __future__ import annotations

import requests
import urllib3

from app.errors import StoreUnavailable

UNAVAILABLE = {502, 503, 504}
# What a gateway in front of the store (a reverse proxy) answers once it has passed a request on:
# it gave up waiting for the store's answer (504), or lost its connection to the store (502). The
# store may have run the request, or may still. A 503 is answered before anything is passed on.
PASSED_ON = {502, 504}


class Answered(Exception):
    """The error status a SPARQL server, or a gateway in front of it, answered (the cause of a
    StoreUnavailable)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def check(r: requests.Response, refused: type) -> None:
    """Raise for an error status: 503 for a server that cannot answer, `refused` for the rest."""
    if r.status_code in UNAVAILABLE:
        raise StoreUnavailable(f"the SPARQL server answered {r.status_code}: {r.text[:500]}") \
            from Answered(r.status_code)
    if r.status_code >= 400:
        # Oxigraph answers 400 to bad syntax and 500 to an operation that failed.
        raise refused(f"the SPARQL server answered {r.status_code}: {r.text[:500]}")


def maybe_sent(e: StoreUnavailable) -> bool:
    """Whether a request that failed with `e` may have been carried out by the store: no answer
    came and the request left (only a failed connect never did), or a gateway answered that it
    had passed the request on (PASSED_ON)."""
    cause = e.__cause__
    if isinstance(cause, Answered):
        return cause.status in PASSED_ON
    if not isinstance(cause, requests.RequestException) or isinstance(cause, requests.ConnectTimeout):
        return False
    reason = getattr(cause.args[0], "reason", None) if cause.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)
