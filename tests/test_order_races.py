"""Reservations cannot oversell: buyers racing checkouts for the same few items.

Eight or nine threads race for three items with little stock (support/order_storm.py):
wholesale buyers place Held orders of 1–3 lines straight with the farm, a hub's checkout
places customer orders that the server consolidates into the hub's one wholesale order; all
change quantities, complete, cancel and delete what they placed. With the supplier lifecycle,
the wholesale buyers also plan deliveries and place drafts (PUT Complete or POST …/status),
cancel placed orders or ask to, while two of the threads are the farm: confirming, producing,
shipping deliveries, cancelling and answering cancellation requests on the same orders. The
storm runs against one server process on an on-disk store, three processes sharing one
`oxigraph serve`, and the app in-process. Afterwards the store is read directly
(support/order_audit.py) and must show:

- every item: held and committed equal to the sums of the orders' usage (committed: what is
  not shipped of orders still committing), onHand the stock less every shipped delivery,
  stockLimitation = onHand − held − committed, nothing negative;
- exactly the orders the buyers were last told exist, in the state they were told (every 2xx
  is backed by a reservation, no 409 left anything behind; a placed order: its lines, and
  Complete or Cancelled), and one wholesale order for the hub's session whose lines add up
  its customers' orders;
- every wholesale order's history a chain of moves the lifecycle allows, holding every move
  and shipment acknowledged;
- every answer a 2xx, a 409 shortage naming a line that asked more than was available, or a
  409 for a move the order's status no longer allows (it moved on meanwhile). Never a 5xx,
  but for the remote store's 503 store-unavailable (the store too slow to answer on an
  overloaded machine, nothing written), which the checks above then hold to that word.
"""
from __future__ import annotations

import contextlib
import threading
import uuid

from decimal import Decimal

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from app.domain.clock import SystemClock
from app.namespaces import DFC_B, HUB
from conftest import ADMIN, make_app
from support.order_audit import (read_at, answer_problems, ledger_problems, lifecycle_problems, model_problems,
                                 read_store, tally)
from support.lifecycle_storm import Trader, json_request, make_traders, supplier_token
from support.order_storm import (CONTEXT, ITEMS, ORDERS, PUBLIC, FlaskClient, HttpClient, Watcher,
                                 item_iri, jsonld_request, make_buyers, offer_iri, run_storm,
                                 setup_catalogue)
from support.oxigraph_server import running_oxigraph

# The servers' storms open their sale sessions around the wall clock as the in-process storm
# marked `calendar` does: that one is rerun with the calendar moved, these are not.
STORM_DATES = pytest.mark.dateless("the in-process storm checks the same session dates with the calendar moved")


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


def assert_exact(buyers, snapshot, unavailable_ok: bool = False) -> None:
    """The storm's answers, the orders in the store and the ledgers all agree.

    `unavailable_ok`: a remote store may be too slow to answer when the machine is overloaded,
    and the server then says so (503 store-unavailable, nothing written). Such answers are
    allowed: the buyers' model keeps the order as it was, and every check below still holds
    that model and the ledgers exact against the store (were anything written, they would not).
    """
    assert [repr(b.error) for b in buyers if b.error] == []
    assert [b.lost for b in buyers if b.lost] == [], "a server dropped a connection"
    counts = tally(buyers)
    assert set(counts) <= {200, 201, 204, 409} | ({503} if unavailable_ok else set()), counts
    assert answer_problems(buyers, unavailable_ok) == []
    # Without both a success and a shortage the race proved nothing.
    assert counts.get(201, 0) > 0 and counts.get(409, 0) > 0, counts
    assert ledger_problems(snapshot) == []
    assert model_problems(snapshot, buyers) == []
    assert lifecycle_problems(snapshot, buyers) == []


def assert_lifecycle_raced(actors, snapshot) -> None:
    """The storm made every kind of lifecycle write, and some found the order moved on."""
    done = {r.op.split(" ")[-1] for a in actors for r in a.requests
            if r.status == 200 or (r.op == "deliver" and r.status == 201)}
    assert {"placed", "deliver", "confirmed", "ship"} <= done, done
    assert {"canceled_by_consumer", "canceled_by_supplier"} & done, done
    # A cancellation request needs an order the farm has moved on and not finished when its
    # buyer looks: most storms make and answer some, not every one (the audit checks those made).
    asked = [r for a in actors if isinstance(a, Trader) for r in a.requests if r.op.startswith("move ")]
    assert asked, "no buyer cancelled or asked to cancel an order it had placed"
    refused = [r for a in actors for r in a.requests
               if r.status == 409 and (r.op == "ship" or r.op.startswith("move "))]
    assert refused, "no lifecycle write was refused: the threads did not race for the same orders"


def start_three(hubs, spec: str, env_for=lambda i: {}) -> list:
    servers = [hubs(store=spec, wait=False, **env_for(i)) for i in range(3)]
    for server in servers:      # started together: the imports overlap
        server.wait_until_up()
    return servers


def race_three_processes(hubs, spec: str, env_for=lambda i: {}, with_lifecycle: bool = True) -> None:
    """Nine threads, three per process, on a shared remote store; assert all adds up."""
    servers = start_three(hubs, spec, env_for)
    tokens = setup_catalogue(HttpClient(servers[0].url), ADMIN)
    if with_lifecycle:
        # Thread i talks to server i % 3: the hub's checkouts (3 and 7) use two processes, the
        # farm's suppliers (1 and 5) two, the wholesale buyers (0, 2, 4, 6, 8) all three.
        farm = supplier_token(HttpClient(servers[0].url), ADMIN)
        buyers = make_traders(9, lambda i: HttpClient(servers[i % 3].url), tokens, farm, seed=2)
    else:
        buyers = make_buyers(9, lambda i: HttpClient(servers[i % 3].url), tokens, seed=2)
    with Watcher(HttpClient(servers[1].url), unavailable_ok=True) as watcher:
        run_storm(buyers, steps=50 if with_lifecycle else 30)
    for server in servers:
        server.stop()
    served = {i % 3 for i, b in enumerate(buyers) if any(r.status == 201 for r in b.requests)}
    assert served == {0, 1, 2}, "not every process placed orders: they did not compete"
    snapshot = read_at(spec)
    assert_exact(buyers, snapshot, unavailable_ok=True)
    if with_lifecycle:
        assert_lifecycle_raced(buyers, snapshot)
    assert watcher.readings > 0 and watcher.problems == []


@pytest.mark.slow
@STORM_DATES
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
@STORM_DATES
def test_processes_sharing_a_remote_store_never_oversell(hubs, tmp_path):
    # Checkouts, transitions, deliveries, ships and cancellations from three processes.
    with running_oxigraph(tmp_path) as sparql:
        race_three_processes(hubs, f"sparql:{sparql}")


@pytest.mark.slow
@STORM_DATES
def test_processes_whose_remote_locks_lapse_all_the_time_never_oversell(hubs, tmp_path):
    # A lock TTL of 3 ms: holders lose their locks mid-write all the time (renewals come every
    # 0.75 ms, and the machine is busy), and other processes take them over. Each late commit
    # must then fail on its fence (503, nothing written) rather than land on what the new
    # holder read. Measured: 16-45 such refusals per storm, ledgers exact; the same storm with
    # the fences left out of the commits oversold (34 held + 24 committed of 40 on hand).
    with running_oxigraph(tmp_path) as sparql:
        race_three_processes(hubs, f"sparql:{sparql}", lambda i: {"DFC_HUB_LOCK_TTL_SECONDS": "0.003"},
                             with_lifecycle=False)


@pytest.mark.slow
@STORM_DATES
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
        # Checkouts only: the routes to the store are the point here.
        race_three_processes(hubs, f"sparql:{sparql}", env_for, with_lifecycle=False)


@pytest.mark.parametrize("backend", ["oxigraph", "memory"])
def test_threads_racing_the_app_in_process_never_oversell(backend, tmp_path):
    spec = f"oxigraph:{tmp_path / 'store'}" if backend == "oxigraph" else "memory:"
    with in_process(spec) as (app, store, tokens):
        buyers = make_buyers(8, lambda i: FlaskClient(app), tokens, seed=3)
        run_storm(buyers, steps=30)
        assert_exact(buyers, read_store(store))


@pytest.mark.calendar       # the storm's sale session is opened around the wall clock
@pytest.mark.parametrize("backend", ["oxigraph", "memory"])
def test_threads_racing_checkouts_and_the_lifecycle_in_process_keep_every_ledger_exact(backend, tmp_path):
    # 8 threads: 4 wholesale buyers (also placing, planning deliveries, cancelling or asking
    # to), 2 hub checkouts, 2 of the farm moving and shipping the same orders.
    spec = f"oxigraph:{tmp_path / 'store'}" if backend == "oxigraph" else "memory:"
    with in_process(spec) as (app, store, tokens):
        farm = supplier_token(FlaskClient(app), ADMIN)
        actors = make_traders(8, lambda i: FlaskClient(app), tokens, farm, seed=3)
        with Watcher(FlaskClient(app), pause=0.05) as watcher:
            run_storm(actors, steps=60)
        snapshot = read_store(store)
        assert_exact(actors, snapshot)
        assert_lifecycle_raced(actors, snapshot)
        assert watcher.readings > 0 and watcher.problems == []
        # Ships lowered on hand: the audit's on-hand sums were put to the test.
        assert any(snapshot.ledgers[item]["onHand"] != [stock] for item, stock in ITEMS.items()), snapshot.ledgers


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
@STORM_DATES
def test_one_checkout_sent_to_three_processes_with_one_key_reserves_once(hubs, tmp_path):
    with running_oxigraph(tmp_path) as sparql:
        servers = start_three(hubs, f"sparql:{sparql}")
        tokens = setup_catalogue(HttpClient(servers[0].url), ADMIN)
        buyer = min(tokens)
        replies = same_key_race([HttpClient(s.url) for s in servers for _ in range(3)], tokens[buyer], buyer)
        assert_reserved_once(replies, 9, read_at(f"sparql:{sparql}"))


# --- the audit itself: a ship that forgot on hand would not pass --------------------------------

def test_the_audit_finds_a_ship_that_left_on_hand_as_it_was():
    with in_process("memory:") as (app, store, tokens):
        client, buyer = FlaskClient(app), min(tokens)
        farm = supplier_token(client, ADMIN)
        body, headers = jsonld_request({"@context": CONTEXT, "@graph": [{
            "@id": f"{ORDERS}/shipped", "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": "dfc-v:Complete",
            "dfc-b:orderedBy": buyer, "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 3,
                                                          "dfc-b:concerns": offer_iri("a")}]}]}, tokens[buyer])
        assert client.send("POST", ORDERS, body, headers).status == 201
        confirm = client.send("POST", f"{ORDERS}/shipped/status", *json_request({"status": "confirmed"}, farm))
        assert confirm.status == 200
        read = client.send("GET", f"{ORDERS}/shipped", headers={"Authorization": f"Bearer {farm}"})
        delivery = next(n["@id"] for n in read.body["@graph"] if n["@type"] == "hub:Delivery")
        assert client.send("POST", f"{delivery}/ship", headers={"Authorization": f"Bearer {farm}"}).status == 200
        assert ledger_problems(read_store(store)) == []
        # What a ship that lowered committed but forgot on hand leaves: on hand 40 again, and
        # available 3 more, so the ledger still adds up on its own.
        item = NamedNode(item_iri("a"))
        ledger = store.graph(item)
        values = {t.predicate: t.object for t in ledger}
        on_hand, available = NamedNode(HUB + "onHand"), NamedNode(DFC_B + "stockLimitation")
        assert Decimal(values[on_hand].value) == 37
        forgot = {on_hand: Decimal(40), available: Decimal(values[available].value) + 3}
        store.replace_graphs({item: [t for t in ledger if t.predicate not in forgot] + [
            Triple(item, p, Literal(str(v), datatype=values[p].datatype)) for p, v in forgot.items()]})
        assert ledger_problems(read_store(store)) == [
            f"{item.value}: onHand 40, but 40 stocked less 3 shipped is 37"]
