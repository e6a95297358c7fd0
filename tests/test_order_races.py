"""Reservations cannot oversell: buyers racing checkouts for the same few items.

Eight or nine threads race for three items with little stock (support/order_storm.py):
wholesale buyers place Held orders of 1–3 lines straight with the farm, a hub's checkout
places customer orders that the server consolidates into the hub's one wholesale order; all
change quantities, complete, cancel and delete what they placed. The storm runs against one
server process on an on-disk store, three processes sharing one `oxigraph serve`, and the
app in-process. Afterwards the store is read directly (support/order_audit.py) and must show:

- every item: available ≥ 0, onHand unchanged, held and committed equal to the sum of the
  lines that reserve it, stockLimitation = onHand − held − committed;
- exactly the orders the buyers were last told exist, in the state they were told (every 2xx
  is backed by a reservation, no 409 left anything behind), and one wholesale order for the
  hub's session whose lines add up its customers' orders;
- every answer a 2xx or a 409 shortage naming a line that asked more than was available.
"""
from __future__ import annotations

import contextlib
import threading
import uuid

import pytest
from app.domain.clock import SystemClock
from conftest import ADMIN, make_app
from support.order_audit import (read_at, answer_problems, ledger_problems, model_problems, read_store,
                                 tally)
from support.order_storm import (CONTEXT, ORDERS, PUBLIC, FlaskClient, HttpClient, Watcher,
                                 item_iri, jsonld_request, make_buyers, offer_iri, run_storm,
                                 setup_catalogue)
from support.oxigraph_server import running_oxigraph


@contextlib.contextmanager
def in_process(spec: str):
    """The app in this process on `spec`, with the storm's catalogue: (app, store, tokens)."""
    # The storm opens its sale sessions around the wall clock, as the servers it also races do.
    app = make_app(demo=False, store=spec, public_base_url=PUBLIC, clock=SystemClock())
    store = app.extensions["dfc_hub"].store
    try:
        yield app, store, setup_catalogue(FlaskClient(app), ADMIN)
    finally:
        store.close()


def assert_exact(buyers, snapshot) -> None:
    """The storm's answers, the orders in the store and the ledgers all agree."""
    assert [repr(b.error) for b in buyers if b.error] == []
    assert [b.lost for b in buyers if b.lost] == [], "a server dropped a connection"
    counts = tally(buyers)
    assert set(counts) <= {200, 201, 204, 409}, counts
    assert answer_problems(buyers) == []
    # Without both a success and a shortage the race proved nothing.
    assert counts.get(201, 0) > 0 and counts.get(409, 0) > 0, counts
    assert ledger_problems(snapshot) == []
    assert model_problems(snapshot, buyers) == []


def start_three(hubs, spec: str, env_for=lambda i: {}) -> list:
    servers = [hubs(store=spec, wait=False, **env_for(i)) for i in range(3)]
    for server in servers:      # started together: the imports overlap
        server.wait_until_up()
    return servers


def race_three_processes(hubs, spec: str, env_for=lambda i: {}) -> None:
    """Nine buyers, three per process, on a shared remote store; assert all adds up."""
    servers = start_three(hubs, spec, env_for)
    tokens = setup_catalogue(HttpClient(servers[0].url), ADMIN)
    # Buyer i talks to server i % 3; the hub's checkouts (buyers 3 and 7) use two processes.
    buyers = make_buyers(9, lambda i: HttpClient(servers[i % 3].url), tokens, seed=2)
    with Watcher(HttpClient(servers[1].url)) as watcher:
        run_storm(buyers, steps=30)
    for server in servers:
        server.stop()
    served = {i % 3 for i, b in enumerate(buyers) if any(r.status == 201 for r in b.requests)}
    assert served == {0, 1, 2}, "not every process placed orders: they did not compete"
    assert_exact(buyers, read_at(spec))
    assert watcher.readings > 0 and watcher.problems == []


@pytest.mark.slow
def test_threads_racing_one_server_on_an_on_disk_store_never_oversell(hubs, tmp_path):
    spec = f"oxigraph:{tmp_path / 'store'}"
    hub = hubs(store=spec)
    tokens = setup_catalogue(HttpClient(hub.url), ADMIN)
    buyers = make_buyers(8, lambda i: HttpClient(hub.url), tokens, seed=1)
    with Watcher(HttpClient(hub.url)) as watcher:
        run_storm(buyers, steps=40)
    hub.stop()      # the directory is one process's: stop the server to read it
    assert_exact(buyers, read_at(spec))
    assert watcher.readings > 0 and watcher.problems == []


@pytest.mark.slow
def test_processes_sharing_a_remote_store_never_oversell(hubs, tmp_path):
    with running_oxigraph(tmp_path) as sparql:
        race_three_processes(hubs, f"sparql:{sparql}")


@pytest.mark.slow
@pytest.mark.parametrize("route", ["own-tmp-directory", "other-url-spelling"])
def test_processes_reaching_one_remote_store_by_different_routes_never_oversell(hubs, tmp_path, route):
    # One container per app process (each its own /tmp), or one process configured with
    # `localhost` where the others say 127.0.0.1: still one store, so still no overselling.
    with running_oxigraph(tmp_path) as sparql:
        def env_for(i):
            if route == "own-tmp-directory":
                (tmp_path / f"tmp-{i}").mkdir()
                return {"TMPDIR": str(tmp_path / f"tmp-{i}")}
            return {"DFC_HUB_STORE": "sparql:" + sparql.replace("127.0.0.1", "localhost")} if i == 1 else {}
        race_three_processes(hubs, f"sparql:{sparql}", env_for)


@pytest.mark.parametrize("backend", ["oxigraph", "memory"])
def test_threads_racing_the_app_in_process_never_oversell(backend, tmp_path):
    spec = f"oxigraph:{tmp_path / 'store'}" if backend == "oxigraph" else "memory:"
    with in_process(spec) as (app, store, tokens):
        buyers = make_buyers(8, lambda i: FlaskClient(app), tokens, seed=3)
        run_storm(buyers, steps=30)
        assert_exact(buyers, read_store(store))


# --- racing edits of one order with If-Match: one wins, the others learn they were late --------

@pytest.mark.parametrize("etag_from", ["GET", "POST"])
def test_edits_racing_with_one_etag_leave_one_winner(tmp_path, etag_from):
    # The ETag may come from a GET or from the answer to the write that created the order
    # (RFC 9110: a 201's ETag is the new representation's); both must guard the next write.
    with in_process(f"oxigraph:{tmp_path / 'store'}") as (app, store, tokens):
        buyer = min(tokens)
        order = f"{ORDERS}/contested"

        def write(method, url, quantity, **headers):
            body, auth = jsonld_request({"@context": CONTEXT, "@graph": [{
                "@id": order, "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": "dfc-v:Held",
                "dfc-b:orderedBy": buyer, "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine",
                "dfc-b:quantity": quantity, "dfc-b:concerns": offer_iri("a")}]}]}, tokens[buyer])
            return FlaskClient(app).send(method, url, body, {**auth, **headers})

        created = write("POST", ORDERS, 1)
        assert created.status == 201
        etag = created.etag if etag_from == "POST" else FlaskClient(app).send(
            "GET", order, headers={"Authorization": f"Bearer {tokens[buyer]}"}).etag
        start, replies = threading.Barrier(8), {}

        def edit(quantity):
            start.wait(30)
            replies[quantity] = write("PUT", order, quantity, **{"If-Match": etag})

        threads = [threading.Thread(target=edit, args=(q,), daemon=True) for q in range(2, 10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status for r in replies.values())
        now = FlaskClient(app).send("GET", order, headers={"Authorization": f"Bearer {tokens[buyer]}"}).etag
        assert statuses == [200] + [412] * 7, \
            f"{statuses}: If-Match {etag} from the {etag_from}; the order's ETag is now {now}"
        winner = next(q for q, r in replies.items() if r.status == 200)
        snapshot = read_store(store)
        assert snapshot.orders[order].counts() == {item_iri("a"): winner}
        assert ledger_problems(snapshot) == []


# --- one checkout retried at once: the Idempotency-Key makes it one reservation -----------------

def same_key_race(clients, token: str, buyer: str) -> list:
    """Every client POSTs the same order with the same key at the same moment; the replies."""
    order = {"@context": CONTEXT, "@graph": [{
        "@id": "#", "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:orderedBy": buyer,
        "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 3, "dfc-b:concerns": offer_iri("a")}]}]}
    body, headers = jsonld_request(order, token)
    headers["Idempotency-Key"] = str(uuid.uuid4())
    start, replies = threading.Barrier(len(clients)), []

    def send(client):
        start.wait(30)
        replies.append(client.send("POST", ORDERS, body, headers))

    threads = [threading.Thread(target=send, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return replies


def assert_reserved_once(replies, count: int, snapshot) -> None:
    assert len(replies) == count
    assert {r.status for r in replies} == {201}, [(r.status, r.body) for r in replies]
    locations = {r.location for r in replies}
    assert len(locations) == 1, locations
    assert set(snapshot.orders) == locations
    assert snapshot.ledgers[item_iri("a")]["held"] == [3]
    assert ledger_problems(snapshot) == []


def test_one_checkout_sent_by_eight_threads_with_one_key_reserves_once(tmp_path):
    with in_process(f"oxigraph:{tmp_path / 'store'}") as (app, store, tokens):
        buyer = min(tokens)
        replies = same_key_race([FlaskClient(app) for _ in range(8)], tokens[buyer], buyer)
        assert_reserved_once(replies, 8, read_store(store))


@pytest.mark.slow
def test_one_checkout_sent_to_three_processes_with_one_key_reserves_once(hubs, tmp_path):
    with running_oxigraph(tmp_path) as sparql:
        servers = start_three(hubs, f"sparql:{sparql}")
        tokens = setup_catalogue(HttpClient(servers[0].url), ADMIN)
        buyer = min(tokens)
        replies = same_key_race([HttpClient(s.url) for s in servers for _ in range(3)], tokens[buyer], buyer)
        assert_reserved_once(replies, 9, read_at(f"sparql:{sparql}"))

