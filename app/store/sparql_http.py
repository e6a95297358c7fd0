"""Talking to a SPARQL server over HTTP: what an answer's status, or a request that failed, means."""
from __future__ import annotations

import requests
import urllib3

from app.errors import StoreUnavailable

UNAVAILABLE = {502, 503, 504}


def check(r: requests.Response, refused: type) -> None:
    """Raise for an error status: 503 for a server that cannot answer, `refused` for the rest."""
    if r.status_code in UNAVAILABLE:
        raise StoreUnavailable(f"the SPARQL server answered {r.status_code}: {r.text[:500]}")
    if r.status_code >= 400:
        # Oxigraph answers 400 to bad syntax and 500 to an operation that failed.
        raise refused(f"the SPARQL server answered {r.status_code}: {r.text[:500]}")


def maybe_sent(e: requests.RequestException) -> bool:
    """Whether a request that failed may have reached the server (only a failed connect did not)."""
    if isinstance(e, requests.ConnectTimeout):
        return False
    reason = getattr(e.args[0], "reason", None) if e.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)
