"""Run real `dfc-hub serve` processes for the race and durability tests.

    with hub_processes(tmp_path) as start:
        hub = start(store=f"oxigraph:{tmp_path / 'store'}")
        requests.get(hub.url + "/api/dfc/enterprises")
        hub.kill()                      # SIGKILL, as a crash would

Every process serves IRIs under one fixed PUBLIC_BASE_URL whatever its port, so several
processes sharing a store mint the same IRIs and a restarted one serves the old ones. Output
goes to a log file (a pipe nobody reads would block a busy server); every process is stopped
and waited for on exit, whatever happens inside the block.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from support.oxigraph_server import free_port

PUBLIC = "http://hub.test"
STARTUP_TIMEOUT = 60.0      # three processes importing pyshacl on two cores take a while


class HubProcess:
    """One `dfc-hub serve` process on a free port of 127.0.0.1."""

    def __init__(self, env: dict, log_path: Path, threads: int = 8):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        exe = Path(sys.executable).with_name("dfc-hub")
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--threads", str(threads)],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dfc-hub serve exited with {self.proc.returncode}: {self.log()}")
            try:
                requests.get(self.url + "/api/dfc/enterprises", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"dfc-hub serve did not answer on {self.url} within {STARTUP_TIMEOUT} s")

    def kill(self) -> None:
        """SIGKILL: no handler, no flush, no close — what a crash or the OOM killer does."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def hub_processes(tmp_path: Path, admin_token: str) -> Iterator[Callable[..., HubProcess]]:
    """Yield `start(store=SPEC, **env)`, which starts a hub and waits until it answers."""
    started: list[HubProcess] = []

    def start(store: str, wait: bool = True, **env) -> HubProcess:
        environ = {**os.environ, "PUBLIC_BASE_URL": PUBLIC, "DFC_HUB_ADMIN_TOKEN": admin_token,
                   "DFC_HUB_STORE": store, "DFC_HUB_CLOSE_EVERY_SECONDS": "0", **env}
        hub = HubProcess(environ, Path(tmp_path) / f"hub-{len(started)}.log")
        started.append(hub)
        if wait:
            hub.wait_until_up()
        return hub

    try:
        yield start
    finally:
        for hub in started:
            hub.stop()
