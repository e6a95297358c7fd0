"""A server killed (SIGKILL) in the middle of a checkout storm loses no acknowledged reservation.

Buyers race as in test_order_races.py, every write with its own Idempotency-Key; once enough
requests are answered a server process gets SIGKILL: no handler, no flush, no close. Then:

- the store holds every acknowledged order as last acknowledged and no refused one; an order
  whose answer was lost is either as before or as after that request; the ledgers add up;
- a server restarted on the store serves it; each lost request retried with its key either
  replays the first answer (it was made) or is made now, never twice; every acknowledged
  request sent again replays its answer and changes nothing. Afterwards the store is exactly
  what the buyers were told.
"""
from __future__ import annotations

import threading

import pytest
from conftest import ADMIN
from support.order_audit import (read_at, crash_problems, ledger_problems, model_problems, tally)
from support.order_storm import (HttpClient, make_buyers, reading_problems, run_storm,
                                 setup_catalogue)
from support.oxigraph_server import running_oxigraph

# The storm's session dates are test_order_races.py's; its in-process storm is rerun with the
# calendar moved. A kill, a restart and a replay are decided by no date.
pytestmark = pytest.mark.dateless("the in-process storm checks the same session dates with the calendar moved")


SUCCESS = {"place": 201, "change": 200, "complete": 200, "cancelled": 200, "delete": 204}




def storm_with_kill(buyers, steps: int, kill, after: int) -> None:
    """Run the buyers; once `after` requests are answered, `kill()`; wait for them all."""
    answered, lock, enough = [0], threading.Lock(), threading.Event()

    def on_answer(request):
        # Any answer counts: once the stock is committed, 201s can stop coming for good.
        with lock:
            answered[0] += 1
            if answered[0] >= after:
                enough.set()

    def kill_when_enough():
        assert enough.wait(120), f"only {answered[0]} requests answered in 120 s"
        kill()

    run_storm(buyers, steps, on_answer=on_answer, while_running=kill_when_enough)
    assert [repr(b.error) for b in buyers if b.error] == []
    counts = tally(buyers)
    assert set(counts) <= {200, 201, 204, 409, None}, counts
    assert counts.get(201, 0) >= 10 and counts.get(409, 0) > 0, counts


def retry_lost(buyers, client, after_kill) -> list[str]:
    """Send each lost request again with its key; list the answers a replay forbids."""
    problems = []
    for b in buyers:
        lost, b.lost = b.lost, None
        if lost is None:
            continue
        # Made before the kill if the store holds its outcome (before and after always
        # differ: a change changes something, a delete removes).
        made = after_kill.orders.get(lost.order) == lost.after
        reply = client.send(lost.method, lost.url, lost.body, lost.headers)
        refused = reply.status == 409 and (reply.body or {}).get("shortages")
        if reply.status != SUCCESS[lost.op] and (made or not refused):
            problems.append(f"retried {lost.op} of {lost.order} (made before the kill: {made}) "
                            f"answered {reply.status}: {reply.body}")
        if reply.status == 201 and reply.location != lost.order:
            problems.append(f"retried POST of {lost.order} answered Location {reply.location}")
        b.settle(lost, reply)
    return problems


def replay_acknowledged(buyers, client) -> list[str]:
    """Send every acknowledged write again with its key; list answers that are not replays."""
    problems = []
    for b in buyers:
        for r in [r for r in b.requests if r.succeeded()]:
            reply = client.send(r.method, r.url, r.body, r.headers)
            if (reply.status, reply.location) != (r.status, r.location):
                problems.append(f"{r.op} of {r.order} answered {r.status} {r.location}, "
                                f"sent again {reply.status} {reply.location}: {reply.body}")
    return problems


def recover(buyers, start, spec: str, after_kill) -> None:
    """On a restarted server: ledgers read right, lost requests retried, acknowledged replayed."""
    again = start(store=spec)
    client = HttpClient(again.url)
    assert reading_problems(client) == []
    # The retries authenticate with the buyers' tokens: the tokens survived the kill too.
    assert retry_lost(buyers, client, after_kill) == []
    assert replay_acknowledged(buyers, client) == []
    again.stop()


@pytest.mark.slow
def test_a_server_killed_mid_storm_keeps_every_acknowledged_reservation(hubs, tmp_path):
    spec = f"oxigraph:{tmp_path / 'store'}"
    hub = hubs(store=spec)
    tokens = setup_catalogue(HttpClient(hub.url), ADMIN)
    # Buyers choose their orders' IRIs, so an order whose answer is lost can be looked for.
    buyers = make_buyers(8, lambda i: HttpClient(hub.url, timeout=30), tokens, seed=5,
                         minted_share=0, idempotent=True)
    # Far more steps than the kill leaves time for: each buyer runs until an answer is lost.
    storm_with_kill(buyers, 100_000, hub.kill, after=150)
    assert all(b.lost is not None for b in buyers), "a buyer finished before the kill"

    after_kill = read_at(spec)       # opening the directory recovers it
    assert ledger_problems(after_kill) == []
    assert crash_problems(after_kill, buyers) == []

    recover(buyers, hubs, spec, after_kill)
    final = read_at(spec)
    assert ledger_problems(final) == []
    assert model_problems(final, buyers) == []


@pytest.mark.slow
def test_a_process_killed_while_others_share_the_remote_store_blocks_none(hubs, tmp_path):
    with running_oxigraph(tmp_path) as sparql:
        spec = f"sparql:{sparql}"
        # The lock kept in the store outlives a killed holder by its TTL: a short one here, so
        # that the survivors' requests wait seconds, not the default half minute.
        servers = [hubs(store=spec, wait=False, DFC_HUB_LOCK_TTL_SECONDS="3") for _ in range(3)]
        for server in servers:
            server.wait_until_up()
        tokens = setup_catalogue(HttpClient(servers[0].url), ADMIN)
        buyers = make_buyers(9, lambda i: HttpClient(servers[i % 3].url, timeout=30), tokens,
                             seed=6, minted_share=0, idempotent=True)
        # The killed process may die holding the write lock (the lock file on this machine and
        # the token in the store): the others must carry on, every one of their requests answered.
        storm_with_kill(buyers, 40, servers[0].kill, after=100)
        assert all(b.lost is not None for b in buyers[0::3]), "the kill came after the storm"
        assert [b.lost for i, b in enumerate(buyers) if i % 3 and b.lost] == []
        survivors = [r for i, b in enumerate(buyers) if i % 3 for r in b.requests]
        assert len(survivors) == 6 * 40

        after_kill = read_at(spec)
        assert ledger_problems(after_kill) == []
        assert crash_problems(after_kill, buyers) == []

        recover(buyers, hubs, spec, after_kill)
        for server in servers[1:]:
            server.stop()
        final = read_at(spec)
        assert ledger_problems(final) == []
        assert model_problems(final, buyers) == []
