"""The README's receiver snippet verifies a real delivery of ours, and refuses a forged one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import admin, make_app
from standardwebhooks import WebhookVerificationError

from support.orders import CARROTS, order, place
from support.webhook_receiver import receiving

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
PYTHON = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _snippet() -> dict:
    [code] = [c for c in PYTHON.findall(README) if "standardwebhooks" in c]
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    return scope


def test_the_readme_receiver_accepts_our_delivery_and_refuses_a_forged_one():
    verified_event = _snippet()["verified_event"]
    app = make_app(webhook_allow_private=True, webhook_retry_schedule="0")
    client = app.test_client()
    with receiving() as receiver:
        r = client.post("/api/dfc/enterprises/jean-farm/webhooks", headers=admin(),
                        json={"url": receiver.url, "events": ["procurement.order_received"]})
        secret = r.get_json()["secret"]
        placed = place(client, admin(), order((CARROTS, 1), status="dfc-v:Complete")).headers["Location"]
        app.extensions["dfc_hub"].dispatcher.drain()
        [delivery] = receiver.wait_for(1)
    event = verified_event(delivery.body, delivery.headers, secret)
    assert event["type"] == "procurement.order_received" and event["data"]["order"] == placed
    forged = delivery.body.replace(b"placed", b"shipped")
    with pytest.raises(WebhookVerificationError):
        verified_event(forged, delivery.headers, secret)
