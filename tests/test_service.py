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


def test_every_request_logs_one_line_with_method_path_status_and_duration(live_server):
    base = live_server()
    requests.get(f"{base}/api/dfc/enterprises", timeout=10)
    requests.get(f"{base}/no/such/page", timeout=10)
    requests.post(f"{base}/api/admin/tokens", json={}, timeout=10)                    # no token: 401
    requests.put(f"{base}/api/dfc/enterprises/x%0aGET%20/forged", data="{", timeout=10)   # a newline in the path
    requests.get(f"{base}/health", timeout=10)
    logged = []
    deadline = time.monotonic() + 10      # a line is written once the answer is sent: wait for it
    while ("GET", "/health", "200") not in logged and time.monotonic() < deadline:
        time.sleep(0.05)
        logged = [m.groups() for m in re.finditer(r"^\S+ (\S+) (\S+) (\d{3}) \d+\.\dms$",
                                                  live_server.output(base), re.M)]
    assert logged[-5:] == [("GET", "/api/dfc/enterprises", "200"), ("GET", "/no/such/page", "404"),
                           ("POST", "/api/admin/tokens", "401"),
                           ("PUT", "/api/dfc/enterprises/x%0AGET%20/forged", "404"), ("GET", "/health", "200")]


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
