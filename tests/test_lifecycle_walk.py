"""Orders walked through every path of the lifecycle over real HTTP, by their two parties.

A real `dfc-hub serve --demo` (its clock set, so no date expires). Hub A (the consumer) buys
carrots directly from Jean's farm (the supplier), no sale session; each has its own token.
Every path from a draft to a final status is walked; after each step the test checks what both
parties read: the status, the DFC statuses it means, the history (one step more, by whom), and
Jean's carrot ledger, against a model kept here from the quantities alone.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from app.domain.statuses import DFC
from conftest import ADMIN, DEMO_MONDAY
from support.lifecycle import Api, Orders, view

pytestmark = pytest.mark.calendar

C, S, SHIP = "consumer", "supplier", "ship"
PATHS = {
    "to shipped, through a failed transfer": [("placed", C), ("transfer_failed", S), ("transferred", S),
                                              ("confirmed", S), ("producing", S), (SHIP, S), (SHIP, S)],
    "cancelled while a draft": [("canceled_by_consumer", C)],
    "cancelled once placed": [("placed", C), ("canceled_by_consumer", C)],
    "a cancellation refused, then agreed": [("placed", C), ("confirmed", S), ("cancelation_requested", C),
                                            ("confirmed", S), ("cancelation_requested", C),
                                            ("canceled_by_consumer", S)],
    "cancelled by the supplier": [("placed", C), ("transferred", S), ("canceled_by_supplier", S)],
    "the remainder cancelled after a partial shipment": [("placed", C), ("confirmed", S), (SHIP, S),
                                                          ("partially_shipped_remainder_canceled", S)],
    "a draft the supplier turns down": [("canceled_by_supplier", S)],
}
DFC_NAMES = {s.value.rsplit("#", 1)[1]: tuple("dfc-v:" + x.value.rsplit("#", 1)[1] for x in pair)
             for s, pair in DFC.items()}
HELD, COMMITTING = {"draft"}, {"placed", "transferred", "transfer_failed", "confirmed", "producing",
                               "partially_shipped", "cancelation_requested"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import running_servers
    with running_servers(tmp_path_factory.mktemp("walk")) as start:
        yield start(DFC_HUB_CLOCK_START=DEMO_MONDAY.isoformat())


def _token(base, agent) -> dict:
    r = requests.post(f"{base}/api/admin/tokens", json={"agent": agent, "scopes": []},
                      headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _ledger(base) -> tuple:
    item = requests.get(f"{base}/api/dfc/enterprises/jean-farm/catalog_items/carrots", timeout=30).json()
    return tuple(Decimal(str(item[k])) for k in ("hub:onHand", "hub:held", "hub:committed", "dfc-b:stockLimitation"))


@pytest.mark.parametrize("path_name", list(PATHS))
def test_an_order_walks_a_path_and_both_parties_read_each_step(server, path_name):
    api = f"{server}/api/dfc/enterprises"
    consumer, supplier = _token(server, f"{api}/hub-a"), _token(server, f"{api}/jean-farm")
    orders = Orders(Api(server), "jean-farm", f"{api}/hub-a", f"{api}/jean-farm/offers/carrots", consumer, supplier)
    on_hand, held, committed, _ = _ledger(server)
    start = (on_hand, held, committed)
    path = orders.create(quantity=2, split=(1, 1))      # two deliveries of 1 kg each
    status, shipped, steps = "draft", 0, 1

    def expect():
        h = 2 if status in HELD else 0
        c = 2 - shipped if status in COMMITTING else 0
        return (start[0] - shipped, start[1] + h, start[2] + c, start[0] - shipped - start[1] - h - start[2] - c)

    assert _ledger(server) == expect()
    for target, role in PATHS[path_name]:
        if target == SHIP:
            code, body = orders.ship_next(path)
            shipped += 1
            status = "shipped" if shipped == 2 else "partially_shipped"
        else:
            code, body = orders.move(path, target, role, reason=f"step to {target}")
            status = target
        assert code == 200, body
        steps += 1
        for reader in (C, S):           # both parties read the same order
            seen = view(orders.read(path, role=reader))
            assert seen["status"] == status
            assert seen["dfc"] == DFC_NAMES[status]
            assert len(seen["history"]) == steps
            assert seen["history"][-1][1:] == (status, f"{api}/{'hub-a' if role == C else 'jean-farm'}")
        assert _ledger(server) == expect(), (path_name, target)
    # Final: nothing moves it any more, for either party.
    for role in (C, S):
        code, body = orders.move(path, "placed", role)
        assert code == 409 and body["allowed"] == [], body
