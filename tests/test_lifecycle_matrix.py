"""Every (status, target, role) of the lifecycle, generated from its one declaration (lifecycle.TABLE).

For each status an order can be in (a cancellation request once per status it can come from),
each of the twelve targets and each role, a fresh order is brought there by moves the table
allows, then the role asks for the target: what the table allows answers 200 with the new status,
anything else 409 naming the statuses this role may move the order to now. Moves that only
shipping makes are asked for by name too (409), and shipping itself is checked per status.
"""
from __future__ import annotations

import pytest

from app.domain import lifecycle
from app.domain.statuses import CANCELATION_REQUESTED, STATUSES, name
from conftest import make_app, token_for
from support.lifecycle import Api, Orders, order_node, view
from support.orders import API, HUB_A, add_item

ORIGINS = [source for source, target, role, how in lifecycle.TABLE if target == CANCELATION_REQUESTED]
STARTS = [(s, None) for s in STATUSES if s != CANCELATION_REQUESTED] + [(CANCELATION_REQUESTED, o) for o in ORIGINS]
ROLES = (lifecycle.CONSUMER, lifecycle.SUPPLIER)


@pytest.fixture(scope="module")
def parties():
    app = make_app(demo=True)
    client = app.test_client()
    offer = add_item(client, "jean-farm", "matrix-beans", 1_000_000)
    return Orders(Api(client), "jean-farm", HUB_A, offer, token_for(client, HUB_A),
                  token_for(client, f"{API}/jean-farm"))


def _id(value):
    return name(value) if not isinstance(value, str) else value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", STATUSES, ids=_id)
@pytest.mark.parametrize("start, origin", STARTS, ids=lambda v: _id(v) if v is not None else "-")
def test_each_move_is_allowed_exactly_as_the_table_says(parties, start, origin, target, role):
    path = parties.reach(start, origin)
    allowed = lifecycle.allowed(start, {role}, origin)
    code, body = parties.move(path, target, role, reason="matrix")
    if target in allowed:
        assert code == 200, body
        seen = view(body)
        assert seen["status"] == name(target)
        assert seen["history"][-1][:2] == (name(start), name(target))
    else:
        assert code == 409, body
        assert body["allowed"] == [name(s) for s in allowed]
        assert body["currentStatus"] == name(start)
        assert view(parties.read(path))["status"] == name(start)    # nothing changed


@pytest.mark.parametrize("start, origin", STARTS, ids=lambda v: _id(v) if v is not None else "-")
def test_shipping_is_the_suppliers_and_only_from_the_statuses_the_table_names(parties, start, origin):
    path = parties.reach(start, origin)
    shippable = lifecycle.allowed(start, {lifecycle.SUPPLIER}, origin, how=(lifecycle.BY_SHIPPING,))
    code, body = parties.ship_next(path, role=lifecycle.CONSUMER) if _pending(parties, path) else (403, None)
    assert code == 403, body
    if not _pending(parties, path):
        return          # everything shipped (or nothing to ship): covered by the moves above
    code, body = parties.ship_next(path)
    if shippable:
        assert code == 200 and view(body)["status"] in {name(s) for s in shippable}, body
    else:
        assert code == 409, body


def _pending(parties, path) -> bool:
    code, body = parties.api.send("GET", path + "/deliveries", parties.tokens[lifecycle.SUPPLIER])
    nodes = body.get("@graph", [body]) if body else []
    return any(n.get("@type") == "hub:Delivery" and not n.get("hub:shippedAt") for n in nodes)


def test_the_matrix_covers_every_row_of_the_table():
    covered = {(s, t, r) for s, _ in STARTS for t in STATUSES for r in ROLES}
    assert {(s, t, r) for s, t, r, how in lifecycle.TABLE} <= covered
    assert len(STARTS) * len(STATUSES) * len(ROLES) >= 12 * 12 * 2
