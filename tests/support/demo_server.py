"""The demo hub served over real HTTP on 127.0.0.1, its clock on the demo's Monday (sessions open)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from app.cli import FIXTURES
from app.domain.clock import ManualClock
from app.runtime.loading import load_files
from conftest import DEMO_MONDAY, make_app
from support.threaded_server import serving


@contextlib.contextmanager
def demo_serving(**overrides) -> Iterator[str]:
    """Yield the base URL of a demo hub minting IRIs under that URL."""
    def build(base: str):
        app = make_app(demo=False, clock=ManualClock(DEMO_MONDAY), public_base_url=base, **overrides)
        load_files(app.extensions["dfc_hub"].store, sorted((FIXTURES / "demo").glob("*.json")), base + "/api/dfc/")
        return app
    with serving(build) as base:
        yield base
