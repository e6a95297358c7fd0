"""Shared fixtures: a fresh demo app and its client, a read-only one shared by readers, a real server."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.api.factory import create_app
from app.cli import FIXTURES
from app.domain.clock import ManualClock
from app.runtime.loading import load_files
from support.oxigraph_server import free_port
from support.read_only import ReadOnlyApp

SHARED = Path(__file__).resolve().parents[2] / "shared"
CONFORMANCE = SHARED / "conformance" / "real"
ADMIN = "test-admin-token"
BASE = "http://hub.test"
JSONLD = "application/ld+json"


# Tests that start a server, a CLI or the scheduler read the wall clock: `make test` runs them
# again with the calendar moved years ahead (marker `calendar`; modules that build dates add it),
# unless marked `dateless("why")`: their servers read the clock for seconds only (timeouts,
# retries, lock TTLs), or their dates are the ones a test marked `calendar` already moves.
CALENDAR_FIXTURES = {"live_server", "hubs"}


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=f"the reference data {SHARED} is not beside the checkout")
    for item in items:
        if "shared" in item.fixturenames and not SHARED.is_dir():
            item.add_marker(skip)
        dateless = item.get_closest_marker("dateless")
        if dateless is not None and (not dateless.args or item.get_closest_marker("calendar")):
            raise pytest.UsageError(f"{item.nodeid}: `dateless` needs the reason the date cannot change "
                                    "the verdict, and contradicts `calendar`")
        if CALENDAR_FIXTURES & set(item.fixturenames) and dateless is None:
            item.add_marker(pytest.mark.calendar)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The reference data beside the checkout; a test that asks for it skips where it is absent."""
    return SHARED


def _demo_monday():
    """Ten o'clock on the day the demo's first sale session opens (read from the fixture)."""
    doc = json.loads((FIXTURES / "demo" / "jean-scenario.json").read_text(encoding="utf-8"))
    starts = [n["dfc-b:startDate"] for n in doc["@graph"] if n.get("@type") == "dfc-b:SaleSession"]
    first = dt.datetime.fromisoformat(min(starts).replace("Z", "+00:00"))
    return first.replace(hour=10, minute=0)


# The demo fixture's sale sessions have fixed dates: in-process apps read a clock set in that week,
# never the wall clock, so no test changes its verdict as the calendar moves on.
DEMO_MONDAY = _demo_monday()


def make_app(demo: bool = True, clock=None, **overrides):
    """A fresh app on an in-memory store (demo data unless `demo=False`), its clock at DEMO_MONDAY."""
    clock = clock or ManualClock(DEMO_MONDAY)
    app = create_app({"store": "memory:", "admin_token": ADMIN, "public_base_url": BASE, **overrides}, clock)
    if demo:
        hub = app.extensions["dfc_hub"]
        load_files(hub.store, sorted((FIXTURES / "demo").glob("*.json")), BASE + "/api/dfc/")
    return app


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def bare_app():
    return make_app(demo=False)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def demo_app():
    """One demo app for the whole session (per xdist worker); its store refuses writes."""
    clock = ManualClock(DEMO_MONDAY)
    return ReadOnlyApp(make_app(clock=clock), clock, admin())


@pytest.fixture
def read_client(demo_app):
    """A client of the shared demo app for a test that only reads; it fails the test if it wrote."""
    # Saves loading the demo for every test; `token_for` works on it (a token once a session).
    yield demo_app.client()
    demo_app.check()


@pytest.fixture
def read_store(demo_app, read_client):
    """The shared demo app's store, for a test that reads it directly (it refuses writes)."""
    return demo_app.store


def client_of(request):
    """The client a test asked for, `read_client` or else `client`: for fixtures making its tokens."""
    return request.getfixturevalue("read_client" if "read_client" in request.fixturenames else "client")


@pytest.fixture
def store(app):
    return app.extensions["dfc_hub"].store


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def admin() -> dict:
    return {"Authorization": f"Bearer {ADMIN}"}


def token_for(client, agent: str, scopes=()) -> dict:
    """Issue a token for an agent through the admin API; return the auth header."""
    shared = getattr(client, "shared_token", None)      # `read_client`'s: issued once, kept
    if shared is not None:
        return shared(agent, scopes)
    r = client.post("/api/admin/tokens", json={"agent": agent, "scopes": list(scopes)}, headers=admin())
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def jsonld(doc) -> dict:
    return {"data": json.dumps(doc), "content_type": JSONLD}


@pytest.fixture
def live_server(tmp_path):
    """Start the real `dfc-hub serve --demo` in a subprocess on a free port (see running_servers)."""
    with running_servers(tmp_path) as start:
        yield start


@contextlib.contextmanager
def running_servers(tmp_path):
    """What `live_server` yields, for fixtures of any scope.

    Yields `start(*args, **env) -> base URL` (args: more `serve` options, env: variables over
    the test's: its own store under tmp_path, the test admin token, PUBLIC_BASE_URL = the base
    URL); `start.output(base)` is what that server printed (stdout and stderr),
    `start.stop(base)` stops it. Leaving the block stops the rest.
    """
    servers = {}

    def start(*args, **env) -> str:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        environ = {**os.environ, "PUBLIC_BASE_URL": base, "DFC_HUB_ADMIN_TOKEN": ADMIN, "PYTHONUNBUFFERED": "1",
                   "DFC_HUB_STORE": f"oxigraph:{tmp_path / f'store-{port}'}", **env}
        exe = Path(sys.executable).with_name("dfc-hub")
        log = tmp_path / f"server-{port}.log"
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--demo", *args],
                                    env=environ, stdout=out, stderr=subprocess.STDOUT)
        servers[base] = (proc, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/api/dfc/enterprises", timeout=1)
                return base
            except requests.ConnectionError:
                if proc.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace"))
                time.sleep(0.1)
        raise RuntimeError("the server did not start in 30 s")

    def stop(base: str) -> None:
        proc, _ = servers[base]
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    start.output = lambda base: servers[base][1].read_text(errors="replace")
    start.stop = stop
    start.returncode = lambda base: servers[base][0].returncode
    try:
        yield start
    finally:
        for base in servers:
            stop(base)


@pytest.fixture
def hubs(tmp_path):
    """Start real `dfc-hub serve` processes on one PUBLIC_BASE_URL (tests/support/hub_server.py)."""
    from support.hub_server import hub_processes
    with hub_processes(tmp_path, ADMIN) as start:
        yield start
