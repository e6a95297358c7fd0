"""Serve a Flask app over real HTTP on 127.0.0.1 from a thread of the test process.

For end-to-end tests that must also control the app's clock (a subprocess could not share it).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(make_app: Callable[[str], object]) -> Iterator[str]:
    """Serve `make_app(base_url)` (the app must know its own base URL to mint IRIs)."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    server.app = make_app(f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
