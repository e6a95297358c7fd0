"""Run a real `oxigraph serve` on a free local port for the remote-store tests.

    with running_oxigraph(tmp_path) as base_url:
        store = open_store(f"sparql:{base_url}")

The server stores its data under `tmp_path/oxigraph`; it is terminated (then killed if it
lingers) and waited for on exit, whatever happens inside the block.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

STARTUP_TIMEOUT = 15.0


def oxigraph_binary() -> str:
    """Return the `oxigraph` executable: beside this interpreter first, then on PATH."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise FileNotFoundError("no `oxigraph` executable (pip install oxigraph)")
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that the kernel gives no one else for the next minute.

    The process we start binds the port seconds later; a port merely found free could be handed
    meanwhile to anyone asking for port 0 (another pytest worker's free_port, a test's server)
    or taken by an outgoing connection, and that server would fail to start, or answer in its
    place. So the port is left in TIME_WAIT, by a connection to it that we close first: for
    those 60 s Linux hands it to no bind(0) nor connect(), while a server binding it with
    SO_REUSEADDR (waitress, werkzeug, Oxigraph and node all do) gets it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            accepted.close()        # our end closes first: the TIME_WAIT is kept on `port`
    return port


@contextlib.contextmanager
def running_oxigraph(tmp_path: Path | str, timeout_s: int = 12) -> Iterator[str]:
    """Start `oxigraph serve` on a free port, ending queries after `timeout_s` as README.md
    says to deploy it; yield its base URL; stop it on exit."""
    location = Path(tmp_path) / "oxigraph"
    location.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = Path(tmp_path) / "oxigraph.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
             "--timeout-s", str(timeout_s)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, base_url, log_path)
        yield base_url
    finally:
        _stop(proc)


def _wait_until_up(proc: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with requests.Session() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited with {proc.returncode}: "
                                   f"{log_path.read_text(errors='replace')[-2000:]}")
            try:
                r = http.post(f"{base_url}/query", data="ASK {}", timeout=1.0,
                              headers={"Content-Type": "application/sparql-query",
                                       "Accept": "application/sparql-results+json"})
                if r.status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"oxigraph serve did not answer on {base_url} within {STARTUP_TIMEOUT} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
