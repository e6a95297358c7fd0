"""The hub as a client of partner platforms: the only module that sends their HTTP requests.

Every call goes through app/outbound/__init__.py (the URL checked again and the connection pinned to the
addresses checked, no redirect, one total deadline of DFC_HUB_PARTNER_TIMEOUT_SECONDS, at most
DFC_HUB_PARTNER_CONCURRENCY calls to one partner at a time) to a URL the hub configured, never
one a payload named. Its errors become ours here: no answer in time, a refused connection or a
5xx is PartnerUnavailable (503), a partner already holding all its calls PartnerBusy (503, at
once: a stalled partner cannot take every worker); an answer too large is PartnerError (502).
Other statuses are the caller's to read.
"""
from __future__ import annotations

import dataclasses
import json
from app import outbound
from app.errors import PartnerBusy, PartnerError, PartnerUnavailable

JSONLD = "application/ld+json"


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def media_type(self) -> str:
        return (self.headers.get("content-type") or JSONLD).split(";")[0].strip().lower()

    def json(self):
        """The answer's body read as JSON; ValueError for what is none, nested past Python's limit too."""
        try:
            return json.loads(self.body)
        except RecursionError:
            raise ValueError("the answer nests too deeply to read") from None

    def problem(self) -> dict:
        """The answer's problem+json body, {} when it is none."""
        try:
            found = self.json()
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


class PartnerClient:
    """Calls to partner platforms and their token endpoints: one pool, a deadline, a size limit, a cap per partner."""

    def __init__(self, allow_private: bool, timeout: float, max_bytes: int, concurrency: int = 4):
        if concurrency < 1:
            raise ValueError(f"DFC_HUB_PARTNER_CONCURRENCY must be at least 1, not {concurrency}")
        self.timeout, self.max_bytes = timeout, max_bytes
        self._http = outbound.Outbound(allow_private, pool=10, per_origin=concurrency)

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
        return self._call(method, url, headers, body)

    def token_request(self, url: str, body: bytes, headers: dict | None = None) -> Reply:
        """POST an OAuth 2.0 token request (RFC 6749, form-encoded) to a partner's token endpoint.

        `headers` may carry the client's HTTP Basic credentials (app/partners/tokens.py).
        """
        sent = {**(headers or {}), "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded"}
        return self._call("POST", url, sent, body)

    def _call(self, method: str, url: str, headers: dict, body: bytes | None) -> Reply:
        try:
            answer = self._http.request(method, url, deadline=self.timeout, max_bytes=self.max_bytes,
                                        headers=headers, body=body)
        except outbound.Busy as e:
            raise PartnerBusy(f"{e.limit} calls to the partner at {e.origin} are already under way "
                              "(DFC_HUB_PARTNER_CONCURRENCY); try again later", url=url,
                              concurrency=e.limit) from None
        except outbound.DeadlinePassed:
            raise PartnerUnavailable(f"the partner did not answer {method} {url} within {self.timeout:g} s",
                                     url=url, deadlineSeconds=self.timeout) from None
        except outbound.TooLarge:
            raise PartnerError(f"the partner's answer from {url} is larger than {self.max_bytes} bytes",
                               url=url) from None
        except outbound.CallFailed as e:
            raise PartnerUnavailable(f"the partner could not be reached ({e})", url=url) from None
        if answer.status >= 500:
            raise PartnerUnavailable(f"the partner answered {answer.status} to {method} {url}", url=url,
                                     partnerStatus=answer.status)
        return Reply(answer.status, answer.headers, answer.body)

    def close(self) -> None:
        self._http.close()
