"""One demo app shared by the tests that only read: it refuses every write, and says who tried."""
# A fresh app loads the demo for each test that asks for `app` or `client` (tests/conftest.py);
# most of those only read, and share this one instead (`read_client`). A write through it would
# leave its change for the next test: the store refuses it (the request fails), and the test
# fails at teardown naming the write, so that it goes back to `client`.
from __future__ import annotations

import contextlib
import traceback

import pytest

# Every way a store method writes (app/store/base.py and embedded.py); `generation`, which any
# write bumps, is checked too, for a write path this list does not know yet.
WRITES = ("_update", "add_quads", "bulk_load", "replace_graphs")


class WriteRefused(RuntimeError):
    """A test wrote to the shared read-only demo app."""


class ReadOnlyApp:
    """Wraps a demo app so that its store refuses writes; `check()` fails a test that tried one."""

    def __init__(self, app, clock, admin: dict):
        self.app, self.clock, self.admin = app, clock, admin
        self.store = app.extensions["dfc_hub"].store
        self.started_at = clock.now()
        self._tokens: dict[tuple, dict] = {}
        self._allowed = False
        self._attempts: list[str] = []
        for name in WRITES:
            setattr(self.store, name, self._refusing(getattr(self.store, name), name))
        self._generation = self.store.generation

    def _refusing(self, write, name: str):
        def guarded(*args, **kwargs):
            if not self._allowed:
                where = "".join(traceback.format_stack(limit=8)[:-1])
                self._attempts.append(f"store.{name} called from:\n{where}")
                raise WriteRefused(f"store.{name}: the shared demo app is read-only (use `client`)")
            return write(*args, **kwargs)
        return guarded

    @contextlib.contextmanager
    def writable(self):
        """Let writes through (issuing a token), then take what they changed as the new baseline."""
        self._allowed = True
        try:
            yield
        finally:
            self._allowed = False
            self._generation = self.store.generation

    def token(self, agent: str, scopes=()) -> dict:
        """An auth header for `agent`, issued once per session: a token changes no answer a test reads."""
        key = (agent, tuple(sorted(scopes)))
        if key not in self._tokens:
            with self.writable():
                r = self.app.test_client().post("/api/admin/tokens", json={"agent": agent, "scopes": list(scopes)},
                                                headers=self.admin)
            assert r.status_code == 201, r.get_data(as_text=True)
            self._tokens[key] = {"Authorization": f"Bearer {r.get_json()['token']}"}
        return dict(self._tokens[key])

    def client(self):
        """A test client of its own (cookies are per test) that issues tokens through `token`."""
        client = self.app.test_client()
        client.shared_token = self.token
        return client

    def check(self) -> None:
        """Fail the test that wrote (or moved the clock); put the clock back for the next one."""
        attempts, self._attempts = self._attempts, []
        moved = self.clock.now() != self.started_at
        self.clock.set(self.started_at)
        wrote = self.store.generation != self._generation
        self._generation = self.store.generation
        if attempts or wrote or moved:
            what = attempts[0] if attempts else "the store's generation moved" if wrote else "the clock was set"
            pytest.fail("wrote to the shared read-only demo app: a test that writes asks for `client` "
                        f"(a fresh app), not `read_client`. {what}", pytrace=False)
