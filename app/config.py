"""Settings: one dataclass, read from the environment; tests pass a mapping instead."""
from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class Settings:
    # Every field is documented in README.md under "Configuration"; a test checks it.
    public_base_url: str = "http://127.0.0.1:8000"
    store: str = "oxigraph:./data/store"
    sparql_query: str | None = None
    sparql_update: str | None = None
    sparql_store: str | None = None
    admin_token: str | None = None
    jwt_issuers: str | None = None        # path to a JSON file {issuer: {"key": PEM, "agents": [...]}}
    jwt_audience: str | None = None
    jwt_max_lifetime_seconds: int = 86400  # a JWT expiring later than this from now is refused
    max_body_bytes: int = 4 * 1024 * 1024
    max_json_depth: int = 64
    max_order_lines: int = 1000           # lines one order may have (413 beyond)
    max_deliveries: int = 100             # deliveries one wholesale order may have (413 beyond)
    page_size: int = 100
    max_page_size: int = 1000
    close_grace_seconds: int = 3600       # sessions close automatically this long after endDate
    close_every_seconds: int = 60         # how often `serve` looks for sessions due (0: never)
    clock_start: str | None = None        # ISO 8601: the clock starts there and runs on (rehearsals, tests)
    lock_ttl_seconds: float = 5.0         # a remote store's write lock outlives a killed holder this long
    store_timeout_seconds: float = 30.0   # the longest wait for a remote store's answer to one request
    sparql_timeout_seconds: float = 30.0  # an analyst query running longer answers 503
    sparql_max_queries: int = 2           # analyst queries running at once (503 beyond)
    sparql_max_result_bytes: int = 16 * 1024 * 1024
    secret_key: str | None = None         # signs the pages' session cookie and CSRF tokens; unset: one per process
    webhook_retry_schedule: str = "0,5,300,1800,7200,18000,36000,50400,72000,86400"   # seconds
    webhook_timeout_seconds: float = 15.0
    webhook_allow_private: bool = False   # webhook and partner URLs may name loopback/private hosts
    partner_timeout_seconds: float = 10.0   # total deadline of one call: connect, headers and body
    partner_concurrency: int = 4          # calls under way to one partner, per process (503 beyond)
    person_retention_days: int = 0        # erase a customer this long after their last session; 0: keep

    # Environment variable of each field; PUBLIC_BASE_URL has no prefix, as API.md fixes.
    ENV = {
        "public_base_url": "PUBLIC_BASE_URL",
        "store": "DFC_HUB_STORE",
        "sparql_query": "DFC_HUB_SPARQL_QUERY",
        "sparql_update": "DFC_HUB_SPARQL_UPDATE",
        "sparql_store": "DFC_HUB_SPARQL_STORE",
        "admin_token": "DFC_HUB_ADMIN_TOKEN",
        "jwt_issuers": "DFC_HUB_JWT_ISSUERS",
        "jwt_audience": "DFC_HUB_JWT_AUDIENCE",
        "jwt_max_lifetime_seconds": "DFC_HUB_JWT_MAX_LIFETIME_SECONDS",
        "max_body_bytes": "DFC_HUB_MAX_BODY_BYTES",
        "max_json_depth": "DFC_HUB_MAX_JSON_DEPTH",
        "max_order_lines": "DFC_HUB_MAX_ORDER_LINES",
        "max_deliveries": "DFC_HUB_MAX_DELIVERIES",
        "page_size": "DFC_HUB_PAGE_SIZE",
        "max_page_size": "DFC_HUB_MAX_PAGE_SIZE",
        "close_grace_seconds": "DFC_HUB_CLOSE_GRACE_SECONDS",
        "close_every_seconds": "DFC_HUB_CLOSE_EVERY_SECONDS",
        "clock_start": "DFC_HUB_CLOCK_START",
        "lock_ttl_seconds": "DFC_HUB_LOCK_TTL_SECONDS",
        "store_timeout_seconds": "DFC_HUB_STORE_TIMEOUT_SECONDS",
        "sparql_timeout_seconds": "DFC_HUB_SPARQL_TIMEOUT_SECONDS",
        "sparql_max_queries": "DFC_HUB_SPARQL_MAX_QUERIES",
        "sparql_max_result_bytes": "DFC_HUB_SPARQL_MAX_RESULT_BYTES",
        "secret_key": "DFC_HUB_SECRET_KEY",
        "webhook_retry_schedule": "DFC_HUB_WEBHOOK_RETRY_SCHEDULE",
        "webhook_timeout_seconds": "DFC_HUB_WEBHOOK_TIMEOUT_SECONDS",
        "webhook_allow_private": "DFC_HUB_WEBHOOK_ALLOW_PRIVATE",
        "partner_timeout_seconds": "DFC_HUB_PARTNER_TIMEOUT_SECONDS",
        "partner_concurrency": "DFC_HUB_PARTNER_CONCURRENCY",
        "person_retention_days": "DFC_HUB_PERSON_RETENTION_DAYS",
    }

    @classmethod
    def load(cls, overrides: Mapping | None = None, environ: Mapping | None = None) -> "Settings":
        """Defaults, then the environment, then `overrides` (field names)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(cls.ENV[f.name])
            if raw not in (None, ""):
                values[f.name] = {"int": int, "float": float, "bool": _flag}.get(f.type, str)(raw)
        values.update(overrides or {})
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        settings = cls(**values)
        if not (math.isfinite(settings.store_timeout_seconds) and settings.store_timeout_seconds > 0):
            raise ValueError("DFC_HUB_STORE_TIMEOUT_SECONDS must be a number of seconds above 0")
        return dataclasses.replace(settings, public_base_url=settings.public_base_url.rstrip("/"))


def _flag(raw: str) -> bool:
    """`true`/`false` (and 1/0, yes/no), as an environment variable spells a switch."""
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not true or false")
