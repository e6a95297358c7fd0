"""What people probe first: /health, /version, `dfc-hub --version`, and the access log."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import requests
from support.oxigraph_server import running_oxigraph

DFC_HUB = str(Path(sys.executable).with_name("dfc-hub"))
VERSION = metadata.version("dfc-order-hub")


def test_version_over_http_and_on_the_command_line(client):
    assert client.get("/version").get_json() == {"name": "dfc-order-hub", "version": VERSION}
    out = subprocess.run([DFC_HUB, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and VERSION in out.stdout


def test_the_root_says_where_to_go(client):
    index = client.get("/").get_json()
    assert index["version"] == VERSION
    assert all(client.get(url.removeprefix("http://hub.test")).status_code in (200, 401)
               for url in index["links"].values())     # /sparql wants a token


def test_health_is_200_while_the_store_answers_and_503_once_it_does_not(live_server, tmp_path):
    with running_oxigraph(tmp_path) as sparql:
        base = live_server(DFC_HUB_STORE=f"sparql:{sparql}")
        up = requests.get(f"{base}/health", timeout=10)
        assert (up.status_code, up.json()["status"]) == (200, "ok")
    down = requests.get(f"{base}/health", timeout=30)     # the remote store is gone
    assert (down.status_code, down.json()["status"]) == (503, "unavailable")


def test_health_shows_the_background_workers_and_sigterm_stops_them_cleanly(live_server):
    base = live_server(DFC_HUB_CLOSE_EVERY_SECONDS="1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:      # each worker runs once at start
        workers = {w["name"]: w for w in requests.get(f"{base}/health", timeout=10).json()["workers"]}
        if all(w["runs"] for w in workers.values()):
            break
        time.sleep(0.1)
    assert set(workers) == {"session-closer", "person-eraser", "partner-sender", "hold-expirer", "webhook-dispatcher"}
    assert all(w["running"] and w["lastRun"] and w["lastError"] is None for w in workers.values())
    live_server.stop(base)                  # SIGTERM: the workers are joined, the store closed
    assert live_server.returncode(base) == 0, live_server.output(base)


def _access_lines(output: str) -> list[tuple]:
    return [m.groups() for m in re.finditer(r"^\S+ (\S+) (\S+) (\d{3}) \d+\.\dms$", output, re.M)]


def test_every_request_logs_one_line_with_method_path_status_and_duration(live_server):
    base = live_server()
    # (method, path sent, what is sent, the line expected); none is a path the startup probes use.
    sent = [("GET", "/version", {}, ("GET", "/version", "200")),
            ("GET", "/no/such/page", {}, ("GET", "/no/such/page", "404")),
            ("POST", "/api/admin/tokens", {"json": {}}, ("POST", "/api/admin/tokens", "401")),    # no token
            ("PUT", "/api/dfc/enterprises/x%0aGET%20/forged", {"data": "{"},                       # a newline in the path
             ("PUT", "/api/dfc/enterprises/x%0AGET%20/forged", "404")),
            ("GET", "/health", {}, ("GET", "/health", "200"))]
    for method, path, body, line in sent:
        requests.request(method, base + path, timeout=10, **body)
        # A line is written once the answer is sent, so the next request could be logged first:
        # wait for this one's line before sending the next.
        deadline = time.monotonic() + 10
        while line not in _access_lines(live_server.output(base)) and time.monotonic() < deadline:
            time.sleep(0.05)
    expected = [line for *_, line in sent]
    assert [line for line in _access_lines(live_server.output(base)) if line in expected] == expected


def test_a_request_that_fails_inside_the_app_is_logged_as_500(caplog):
    from conftest import make_app

    app = make_app(demo=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    with caplog.at_level("INFO", logger="app.access"):
        with app.test_client().get("/boom") as answer:     # the line is written when it closes
            assert answer.status_code == 500
    assert [r.getMessage().rsplit(" ", 1)[0] for r in caplog.records if r.name == "app.access"] == ["GET /boom 500"]
