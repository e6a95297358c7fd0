"""The hub as a client of partner platforms: the only module that sends their HTTP requests.

Every call goes through app/outbound.py (the URL checked again, no redirect, a timeout) to a
URL the hub configured, never one a payload named. requests' exceptions are mapped here, once,
to ours: no answer in time, a refused connection or a 5xx is PartnerUnavailable (503); an
answer too large is PartnerError (502). Other statuses are the caller's to read.
"""
from __future__ import annotations

import dataclasses
import json

import requests

from app.errors import PartnerError, PartnerUnavailable
from app.outbound import call, new_session

JSONLD = "application/ld+json"


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def media_type(self) -> str:
        return (self.headers.get("content-type") or JSONLD).split(";")[0].strip().lower()

    def problem(self) -> dict:
        """The answer's problem+json body, {} when it is none."""
        try:
            found = json.loads(self.body)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


class PartnerClient:
    """Calls to partner platforms, with one connection pool, a timeout and a size limit."""

    def __init__(self, allow_private: bool, timeout: float, max_bytes: int):
        self.allow_private, self.timeout, self.max_bytes = allow_private, timeout, max_bytes
        self._session = new_session()

    def fetch(self, url: str, token: str | None) -> Reply:
        """GET a catalogue; 503 unless it answers 2xx."""
        reply = self.send("GET", url, token)
        if not 200 <= reply.status < 300:
            raise PartnerUnavailable(f"the partner answered {reply.status} to GET {url}", url=url,
                                     partnerStatus=reply.status)
        return reply

    def send(self, method: str, url: str, token: str | None, body: bytes | None = None,
             key: str | None = None) -> Reply:
        """One request; its answer whatever the status, or 503 when none came (or a 5xx)."""
        headers = {"Accept": JSONLD}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        if body is not None:
            headers["Content-Type"] = JSONLD
        try:
            with call(self._session, method, url, allow_private=self.allow_private, timeout=self.timeout,
                      headers=headers, data=body, stream=True) as response:
                content = self._read(response, url)
                reply = Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()}, content)
        except requests.Timeout:
            raise PartnerUnavailable(f"the partner did not answer {method} {url} within {self.timeout} s",
                                     url=url) from None
        except requests.RequestException as e:
            raise PartnerUnavailable(f"the partner could not be reached ({type(e).__name__})", url=url) from None
        if reply.status >= 500:
            raise PartnerUnavailable(f"the partner answered {reply.status} to {method} {url}", url=url,
                                     partnerStatus=reply.status)
        return reply

    def _read(self, response, url: str) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > self.max_bytes:
                raise PartnerError(f"the partner's answer from {url} is larger than {self.max_bytes} bytes", url=url)
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._session.close()
