"""Held checkouts: 16 HTTP clients, the same pipeline in-process, and a naive rdflib baseline, in one run.

    .venv/bin/python bench/checkout.py [--quick] [--checkouts N] [--rounds R] [--clients 16] [--lines 3]

One workload, written once as request bodies and replayed byte for byte by every contender:
a producer with 20 catalogue items (one Offer each) and N held wholesale checkouts of a buyer
enterprise, each of `--lines` lines on distinct items with quantities 1–3. Each item's stock
is 90 % of what the checkouts ask of it, so most checkouts are reserved (201) and the last ones
find items sold out (409 with shortages, nothing reserved).

  - HTTP: a real `dfc-hub serve` (waitress, on-disk Oxigraph), 16 keep-alive clients POSTing
    `/api/dfc/enterprises/{seller}/orders` with the buyer's token;
  - in-process: what the `place_order` route does, called directly from 16 threads on a Hub
    with an on-disk store (bearer token → agent, read_payload, SHACL, orders.from_payload,
    OrderBook.save): the pipeline without Flask, sockets or rendering the answer, so
    HTTP/in-process is the whole cost of serving it. The same through Flask's test client
    (routing and rendering, no sockets) is printed beside it, to split that cost;
  - naive: rdflib's in-memory Graph, rdflib's JSON-LD parser (our context inlined: rdflib would
    fetch it), one conditional `graph.update` per line (a refused line puts the checkout's
    earlier lines back), then the order's triples added; one thread: rdflib is not thread-safe;
  - floor: the physical floor of this design — each body parsed with `json` and applied as one
    conditional SPARQL update (every line's ledger, and the order) straight on an on-disk
    pyoxigraph store, from 16 threads, one writer at a time: no token, JSON-LD, SHACL or HTTP.
    The server's CPU per checkout is printed against it (issue 25: ≤ 3×).

Each contender is set up (through its API: enterprises, catalogue import, a token) and warmed
up once, then the checkouts run in `--rounds` slices, the contenders taking turns slice by
slice, so that drift in a shared machine's load hits all alike. Afterwards the ledgers are read
back (through HTTP for the server) and checked: for every item held = the quantities answered
201, held ≤ onHand, stockLimitation = onHand − held − committed ≥ 0, and one order stored per
201. Throughput is checkouts over the time spent running them; latency is per checkout as its
client saw it, queueing included (16 clients; the server's default threads, one per CPU, at least 2). CPU is the serving process's
(/proc). Machines here are noisy: only ratios within one run mean anything. Exit status 1 if any
run oversold or answered anything but 201 or 409-with-shortages.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import rdflib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app.api.factory import create_app  # noqa: E402
from app.domain import documents as docs  # noqa: E402
from app.cli import DEFAULT_THREADS  # noqa: E402
from app.domain import order_documents as orders  # noqa: E402
from app.domain.kinds import ORDERS  # noqa: E402
from app.errors import HubError  # noqa: E402
from app.namespaces import DFC_B, DFC_V, HUB, XSD  # noqa: E402
from app.rdf import read_payload  # noqa: E402
from support.oxigraph_server import free_port  # noqa: E402

CONTEXT_URL = "https://www.datafoodconsortium.org"
ADMIN = "bench-admin"
SELLER, BUYER = "bench-farm", "bench-shop"
JSONLD = "application/ld+json"
GOAL_VS_NAIVE, GOAL_VS_INPROCESS, GOAL_VS_FLOOR = 25.0, 0.5, 3.0


# --- the workload ------------------------------------------------------------------------------

@dataclasses.dataclass
class Workload:
    base: str                                   # PUBLIC_BASE_URL every body is written for
    items: list[str]                            # catalogue item IRIs; the last `lines` are warm-up
    offers: list[str]
    stock: list[int]
    warmup: list[list[tuple[int, int]]]         # checkouts as (item index, quantity) lines
    checkouts: list[list[tuple[int, int]]]
    catalog: bytes = b""
    warmup_bodies: list[bytes] = dataclasses.field(default_factory=list)
    bodies: list[bytes] = dataclasses.field(default_factory=list)

    @property
    def seller(self) -> str:
        return f"{self.base}/api/dfc/enterprises/{SELLER}"

    @property
    def buyer(self) -> str:
        return f"{self.base}/api/dfc/enterprises/{BUYER}"


def make_workload(base: str, n: int, n_items: int, lines: int, fill: float, seed: int) -> Workload:
    """N checkouts over n_items items, stock at `fill` of demand; `lines` warm-up items besides."""
    rnd = random.Random(seed)
    checkouts = [[(i, rnd.randint(1, 3)) for i in rnd.sample(range(n_items), lines)] for _ in range(n)]
    demand = [0] * n_items
    for checkout in checkouts:
        for i, q in checkout:
            demand[i] += q
    n_warm = 32
    warmup = [[(n_items + j, 1) for j in range(lines)] for _ in range(n_warm)]
    stock = [int(fill * d) for d in demand] + [n_warm] * lines
    ns = f"{base}/api/dfc/enterprises/{SELLER}"
    names = [f"item-{i:02d}" for i in range(n_items)] + [f"warm-{j}" for j in range(lines)]
    w = Workload(base, [f"{ns}/catalog_items/{x}" for x in names], [f"{ns}/offers/{x}" for x in names],
                 stock, warmup, checkouts)
    graph = []
    for name, item, offer, s in zip(names, w.items, w.offers, stock):
        product = f"{ns}/supplied_products/{name}"
        graph += [
            {"@id": product, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": f"Product {name}",
             "dfc-b:referencedBy": item},
            {"@id": item, "@type": "dfc-b:CatalogItem", "dfc-b:references": product,
             "dfc-b:sku": name.upper(), "dfc-b:stockLimitation": s, "dfc-b:offeredThrough": offer},
            {"@id": offer, "@type": "dfc-b:Offer", "dfc-b:offeredItem": item,
             "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 1.8, "dfc-b:hasUnit": "dfc-m:Euro"}},
        ]
    w.catalog = json.dumps({"@context": CONTEXT_URL, "@graph": graph}).encode()
    w.warmup_bodies = [order_body(w, c) for c in warmup]
    w.bodies = [order_body(w, c) for c in checkouts]
    return w


def order_body(w: Workload, lines: list[tuple[int, int]]) -> bytes:
    return json.dumps({"@context": CONTEXT_URL, "@graph": [{
        "@id": "#", "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": "dfc-v:Held",
        "dfc-b:orderedBy": w.buyer,
        "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": q, "dfc-b:concerns": w.offers[i]}
                          for i, q in lines]}]}).encode()


# --- running checkouts from C clients, and what came back -----------------------------------------

@dataclasses.dataclass
class Run:
    """One contender's figures, summed over the slices it ran."""
    label: str
    n: int
    statuses: list[int] = dataclasses.field(default_factory=list)     # per checkout, workload order
    latencies: list[float] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0                     # CPU seconds of whoever served the checkouts
    client_cpu: float | None = None      # CPU seconds of the HTTP clients (this process), if apart

    def __post_init__(self):
        self.statuses = self.statuses or [0] * self.n

    @property
    def accepted(self) -> int:
        return self.statuses.count(201)

    @property
    def refused(self) -> int:
        return self.statuses.count(409)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000


def drive(run: Run, call: Callable[[int], tuple[int, str]], indices: range, clients: int,
          cpu: Callable[[], float] | None = None) -> Run:
    """Run the checkouts `indices` from `clients` threads, each taking the next; call(i) → (status, text).

    `cpu` tells the CPU seconds of whoever serves the checkouts when it is not this process.
    """
    todo, take = iter(indices), threading.Lock()
    start = threading.Barrier(clients + 1)

    def client():
        start.wait()
        while True:
            with take:
                i = next(todo, None)
            if i is None:
                return
            t = time.perf_counter()
            try:
                status, text = call(i)
            except Exception as e:  # noqa: BLE001 — one failed checkout must not hide the others
                status, text = -1, f"{type(e).__name__}: {e}"
            run.latencies.append(time.perf_counter() - t)
            run.statuses[i] = status
            if status not in (201, 409) or (status == 409 and "shortages" not in text):
                run.errors.append(f"checkout {i}: {status} {text[:300]}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for th in threads:
        th.start()
    served0, own0 = (cpu or time.process_time)(), time.process_time()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    run.seconds += time.perf_counter() - t0
    run.cpu += (cpu or time.process_time)() - served0
    if cpu is not None:
        run.client_cpu = (run.client_cpu or 0.0) + time.process_time() - own0
    return run


class HttpClient:
    """Keep-alive HTTP/1.1, one connection per thread (http.client: the least client CPU per request)."""

    def __init__(self, port: int):
        self.port, self.local = port, threading.local()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data


class TestClient:
    """The same interface over Flask's test client: the app's routes, no sockets."""

    def __init__(self, app):
        self.app, self.local = app, threading.local()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = self.app.test_client()
        r = client.open(path, method=method, data=body, headers=headers or {})
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data()


def admin_headers(content_type: str | None = JSONLD) -> dict:
    h = {"Authorization": f"Bearer {ADMIN}"}
    return {**h, "Content-Type": content_type} if content_type else h


def set_up(client, w: Workload) -> str:
    """Create seller, buyer and catalogue through the API; return the buyer's token."""
    for eid, name in ((SELLER, "Bench Farm"), (BUYER, "Bench Shop")):
        body = json.dumps({"@context": CONTEXT_URL, "@type": "dfc-b:Enterprise", "dfc-b:name": name}).encode()
        status, _, text = client.request("PUT", f"/api/dfc/enterprises/{eid}", body, admin_headers())
        assert status in (200, 201), (status, text[:500])
    status, _, text = client.request("POST", f"/api/dfc/enterprises/{SELLER}/catalog", w.catalog, admin_headers())
    assert status in (200, 201), (status, text[:500])
    body = json.dumps({"agent": w.buyer, "scopes": []}).encode()
    status, _, text = client.request("POST", "/api/admin/tokens", body, admin_headers("application/json"))
    assert status == 201, (status, text[:500])
    return json.loads(text)["token"]


def post_checkout(client, token: str) -> Callable[[bytes], tuple[int, str]]:
    path = f"/api/dfc/enterprises/{SELLER}/orders"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": JSONLD}

    def call(body: bytes) -> tuple[int, str]:
        status, _, text = client.request("POST", path, body, headers)
        return status, text.decode("utf-8", "replace")
    return call


# --- zero oversell ---------------------------------------------------------------------------------

@dataclasses.dataclass
class ItemLedger:
    on_hand: float | None
    held: float | None
    committed: float | None
    available: float | None


def ledger_via_api(client, w: Workload, item: str) -> ItemLedger:
    status, _, text = client.request("GET", item[len(w.base):], None, {"Accept": "application/n-triples"})
    assert status == 200, (status, text[:300])
    wanted = (HUB + "onHand", HUB + "held", HUB + "committed", DFC_B + "stockLimitation")
    values = {q.predicate.value: float(q.object.value) for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
              if q.subject.value == item and q.predicate.value in wanted}
    return ItemLedger(*(values.get(p) for p in wanted))


def orders_stored_via_api(client) -> int:
    status, headers, text = client.request("GET", f"/api/dfc/enterprises/{SELLER}/orders?per_page=1", None,
                                           {**admin_headers(None), "Accept": "application/n-triples"})
    assert status == 200, (status, text[:300])
    return int(headers["x-total-count"])


def verdict(w: Workload, warmup: Run, run: Run, ledger: Callable[[str], ItemLedger],
            stored: int) -> tuple[bool, str]:
    """Check every item's ledger against the 201s and count the orders stored; say it in one line."""
    acked = [0] * len(w.items)
    for checkouts, r in ((w.warmup, warmup), (w.checkouts, run)):
        for lines, status in zip(checkouts, r.statuses):
            if status == 201:
                for i, q in lines:
                    acked[i] += q
    problems, sold_out, measured = [], 0, len(w.items) - len(w.warmup[0])
    if run.errors or warmup.errors or 0 in run.statuses:
        problems.append(f"{len(run.errors) + len(warmup.errors)} answers neither 201 nor 409 with shortages"
                        + (f", first: {(warmup.errors + run.errors)[0]}" if run.errors or warmup.errors else ""))
    for i, item in enumerate(w.items):
        lg, name = ledger(item), item.rsplit("/", 1)[-1]
        if lg.held is not None and lg.on_hand is not None and lg.held > lg.on_hand:
            problems.append(f"{name} OVERSOLD: held {lg.held:g} > onHand {lg.on_hand:g}")
        if lg.held != acked[i]:
            problems.append(f"{name}: held {lg.held} but the 201s acknowledged {acked[i]}")
        if lg.on_hand != w.stock[i]:
            problems.append(f"{name}: onHand {lg.on_hand}, stocked {w.stock[i]}")
        if None in (lg.available, lg.on_hand, lg.held) or lg.available < 0 \
                or lg.available != lg.on_hand - lg.held - (lg.committed or 0):
            problems.append(f"{name}: stockLimitation {lg.available} is not onHand {lg.on_hand} − held {lg.held}"
                            f" − committed {lg.committed} ≥ 0")
        if i < measured and lg.available is not None and lg.available < 3:
            sold_out += 1
    accepted = warmup.accepted + run.accepted
    if stored != accepted:
        problems.append(f"{stored} orders stored for {accepted} answers 201")
    if problems:
        return False, f"  {run.label}: FAILED — " + "; ".join(problems[:5])
    note = "" if sold_out and run.refused else "  (not a real test: nothing ran out; use more checkouts)"
    return True, (f"  {run.label}: zero oversell — every item held = Σ 201 quantities ≤ onHand, "
                  f"stockLimitation = onHand − held; {stored} orders stored for {accepted} × 201; "
                  f"{sold_out}/{measured} items sold out (< 3 left){note}")


# --- the contenders: start (set up, warm up), run slices, check, close -----------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _die_with_parent() -> None:
    """In the server's child process: Linux sends it SIGTERM if the bench is killed outright."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServeProcess:
    """A real `dfc-hub serve` on an on-disk store of its own under `tmp` (the benches over HTTP)."""

    def __init__(self, base: str, port: int, server_threads: int, tmp: str):
        env = {**os.environ, "PUBLIC_BASE_URL": base, "DFC_HUB_ADMIN_TOKEN": ADMIN,
               "DFC_HUB_STORE": f"oxigraph:{tmp}/http-store", "DFC_HUB_CLOSE_EVERY_SECONDS": "0"}
        self.log = Path(tmp) / "server.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).with_name("dfc-hub")), "serve", "--port", str(port),
                 "--threads", str(server_threads)], env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)  # noqa: PLW1509 — started before any thread of ours

    def wait_up(self, client) -> None:
        """Return once the server answers `client` (raise with its log if it exited)."""
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError(f"dfc-hub serve exited ({self.proc.returncode}):\n{self.log.read_text()[-2000:]}")
            try:
                client.request("GET", "/api/dfc/enterprises")
                return
            except OSError:
                client.local.conn = None
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class OverHttp:
    """A real `dfc-hub serve` subprocess and 16 keep-alive clients."""

    def __init__(self, w: Workload, port: int, clients: int, server_threads: int, tmp: str):
        self.w, self.clients, self.client = w, clients, HttpClient(port)
        self.run = Run(f"HTTP, {clients} clients", len(w.bodies))
        self.server = ServeProcess(w.base, port, server_threads, tmp)
        self.proc = self.server.proc

    def start(self) -> None:
        self.server.wait_up(self.client)
        self.post = post_checkout(self.client, set_up(self.client, self.w))
        self.warm = drive(Run("HTTP warm-up", len(self.w.warmup_bodies)), lambda i: self.post(self.w.warmup_bodies[i]),
                          range(len(self.w.warmup_bodies)), self.clients)

    def slice(self, indices: range) -> None:
        drive(self.run, lambda i: self.post(self.w.bodies[i]), indices, self.clients,
              cpu=lambda: cpu_seconds(self.proc.pid))

    def check(self) -> tuple[bool, str]:
        return verdict(self.w, self.warm, self.run, lambda item: ledger_via_api(self.client, self.w, item),
                       orders_stored_via_api(self.client))

    def close(self) -> None:
        self.server.close()


class InProcess:
    """The place_order route's work called directly from threads; set up through the Flask app."""

    def __init__(self, w: Workload, clients: int, path: str, through_flask: bool = False):
        self.w, self.clients, self.through_flask = w, clients, through_flask
        self.app = create_app({"public_base_url": w.base, "store": f"oxigraph:{path}", "admin_token": ADMIN,
                               "close_every_seconds": 0})
        self.api = TestClient(self.app)
        self.run = Run(f"Flask test client, {clients} threads" if through_flask
                       else f"in-process, {clients} threads", len(w.bodies))
        # CPU in the store's updates, and what the measured checkouts left stored (from `before`).
        self.store_cpu, self.statements, self.before = 0.0, 0, 0

    def start(self) -> None:
        token = set_up(self.api, self.w)
        self.checkout = post_checkout(self.api, token) if self.through_flask else self._pipeline(token)
        self.warm = drive(Run("warm-up", len(self.w.warmup_bodies)), lambda i: self.checkout(self.w.warmup_bodies[i]),
                          range(len(self.w.warmup_bodies)), self.clients)
        self._time_the_store()

    def _time_the_store(self) -> None:
        """Count the CPU each update spends in the store (pyoxigraph: parsing it, writing RocksDB),
        in the thread that runs it, and how many statements the measured checkouts leave stored."""
        store = self.app.extensions["dfc_hub"].store
        inner, lock, before = store._update, threading.Lock(), len(store.raw)

        def timed(update: str) -> None:
            start = time.thread_time()
            try:
                inner(update)
            finally:
                with lock:
                    self.store_cpu += time.thread_time() - start
        store._update = timed
        self.before = before

    def _pipeline(self, token: str) -> Callable[[bytes], tuple[int, str]]:
        hub = self.app.extensions["dfc_hub"]
        ns = docs.Namespace(self.w.base, SELLER)
        collection = ns.collection(ORDERS)

        def checkout(body: bytes) -> tuple[int, str]:
            try:
                agent = hub.auth.agent(token)
                payload = read_payload(body, JSONLD, collection, hub.settings.max_json_depth)
                hub.validator.require(payload.triples)
                incoming = orders.from_payload(payload.triples, None, ns, self.w.base, hub.pseudonyms.person)
                return hub.orders.save(ns, incoming, agent).status, ""
            except HubError as e:
                return e.status, json.dumps(e.problem(), default=str)
        return checkout

    def slice(self, indices: range) -> None:
        drive(self.run, lambda i: self.checkout(self.w.bodies[i]), indices, self.clients)

    def check(self) -> tuple[bool, str]:
        self.statements = len(self.app.extensions["dfc_hub"].store.raw) - self.before
        return verdict(self.w, self.warm, self.run, lambda item: ledger_via_api(self.api, self.w, item),
                       orders_stored_via_api(self.api))

    def close(self) -> None:
        self.app.extensions["dfc_hub"].close()


RESERVE = """PREFIX dfc-b: <%(b)s>
PREFIX hub: <%(hub)s>
DELETE { ?item dfc-b:stockLimitation ?available ; hub:held ?held }
INSERT { ?item dfc-b:stockLimitation ?left ; hub:held ?nowHeld }
WHERE {
  ?item dfc-b:offeredThrough <%(offer)s> ; dfc-b:stockLimitation ?available ; hub:held ?held .
  FILTER(?available >= %(q)s)
  BIND(?available - %(q)s AS ?left)
  BIND(?held + %(q)s AS ?nowHeld)
}"""
RELEASE = RESERVE.replace("FILTER(?available >= %(q)s)", "").replace("- %(q)s", "+ %(q)s") \
    .replace("?held + %(q)s", "?held - %(q)s")


class Naive:
    """rdflib Graph + rdflib's JSON-LD parser + one conditional graph.update per line, one thread."""

    def __init__(self, w: Workload):
        self.w = w
        self.run = Run("naive rdflib, 1 thread", len(w.bodies))
        self.context = json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
        self.B, self.H = rdflib.Namespace(DFC_B), rdflib.Namespace(HUB)
        self.graph = rdflib.Graph()
        self.serial = itertools.count()

    def start(self) -> None:
        doc = json.loads(self.w.catalog)
        self.graph.parse(data=json.dumps({**doc, "@context": self.context}), format="json-ld",
                         base=f"{self.w.seller}/catalog")
        for item in self.w.items:     # the ledger our import writes: all on hand, nothing held
            ref = rdflib.URIRef(item)
            self.graph.add((ref, self.H.onHand, self.graph.value(ref, self.B.stockLimitation)))
            self.graph.add((ref, self.H.held, rdflib.Literal(0)))
            self.graph.add((ref, self.H.committed, rdflib.Literal(0)))
        self.warm = drive(Run("warm-up", len(self.w.warmup_bodies)), lambda i: self.checkout(self.w.warmup_bodies[i]),
                          range(len(self.w.warmup_bodies)), 1)

    def checkout(self, body: bytes) -> tuple[int, str]:
        graph, B = self.graph, self.B
        doc = json.loads(body)
        order = rdflib.Graph().parse(data=json.dumps({**doc, "@context": self.context}), format="json-ld",
                                     base=f"{self.w.seller}/orders/naive-{next(self.serial)}")
        reserved = []
        for line in order.subjects(rdflib.RDF.type, B.OrderLine):
            offer, q = order.value(line, B.concerns), order.value(line, B.quantity).toPython()
            item = graph.value(None, B.offeredThrough, offer)
            if item is None:
                return 422, f"no catalogue item is offered through {offer}"
            before = graph.value(item, B.stockLimitation)
            graph.update(RESERVE % {"b": DFC_B, "hub": HUB, "offer": offer, "q": q})
            if graph.value(item, B.stockLimitation) == before:      # the FILTER refused it
                for offer, q in reserved:
                    graph.update(RELEASE % {"b": DFC_B, "hub": HUB, "offer": offer, "q": q})
                return 409, '{"shortages": []}'
            reserved.append((offer, q))
        graph.addN((s, p, o, graph) for s, p, o in order)
        return 201, ""

    def slice(self, indices: range) -> None:
        drive(self.run, lambda i: self.checkout(self.w.bodies[i]), indices, 1)

    def check(self) -> tuple[bool, str]:
        def ledger(item: str) -> ItemLedger:
            values = [self.graph.value(rdflib.URIRef(item), p)
                      for p in (self.H.onHand, self.H.held, self.H.committed, self.B.stockLimitation)]
            return ItemLedger(*(None if v is None else float(v.toPython()) for v in values))
        stored = len(set(self.graph.subjects(rdflib.RDF.type, self.B.Order)))
        return verdict(self.w, self.warm, self.run, ledger, stored)

    def close(self) -> None:
        pass


FLOOR_PREFIXES = f"PREFIX dfc-b: <{DFC_B}>\nPREFIX hub: <{HUB}>\n"


class Floor:
    """json.loads + one conditional SPARQL update per checkout straight on pyoxigraph: the design's floor.

    No token, no JSON-LD, no SHACL, no HTTP: each body's lines become one update that takes every
    line's quantity from its item's ledger and writes the order, or — when any line asks more than
    is left — matches nothing and writes nothing (409). One writer at a time, as the hub's own write
    lock; the parsing runs in `clients` threads around it.
    """

    def __init__(self, w: Workload, clients: int, path: str):
        self.w, self.clients = w, clients
        self.run = Run(f"floor (json + 1 update), {clients} th", len(w.bodies))
        self.store = ox.Store(path)
        self.lock, self.serial = threading.Lock(), itertools.count()
        self.offer_item = dict(zip(w.offers, w.items))

    def start(self) -> None:
        B, H, dec = DFC_B, HUB, lambda v: ox.Literal(str(v), datatype=ox.NamedNode(XSD + "decimal"))
        quads = []
        for item, offer, s in zip(self.w.items, self.w.offers, self.w.stock):
            i, g = ox.NamedNode(item), ox.NamedNode(item)
            quads += [ox.Quad(i, ox.NamedNode(B + "offeredThrough"), ox.NamedNode(offer), g),
                      ox.Quad(i, ox.NamedNode(B + "stockLimitation"), dec(s), g),
                      ox.Quad(i, ox.NamedNode(H + "onHand"), dec(s), g),
                      ox.Quad(i, ox.NamedNode(H + "held"), dec(0), g),
                      ox.Quad(i, ox.NamedNode(H + "committed"), dec(0), g)]
        self.store.extend(quads)
        self.warm = drive(Run("warm-up", len(self.w.warmup_bodies)), lambda i: self.checkout(self.w.warmup_bodies[i]),
                          range(len(self.w.warmup_bodies)), self.clients)
        self.before, self.statements = len(self.store), 0     # what the measured checkouts leave stored

    def checkout(self, body: bytes) -> tuple[int, str]:
        node = json.loads(body)["@graph"][0]
        order = f"{self.w.seller}/orders/floor-{next(self.serial)}"
        delete, insert, where = [], [], []
        written = [f"<{order}> a dfc-b:Order ; dfc-b:hasOrderStatus <{DFC_V}Held> ; "
                   f"dfc-b:orderedBy <{node['dfc-b:orderedBy']}> ."]
        for n, line in enumerate(node["dfc-b:hasPart"]):
            offer, q = line["dfc-b:concerns"], line["dfc-b:quantity"]
            item = self.offer_item.get(offer)
            if item is None:
                return 422, f"no catalogue item is offered through {offer}"
            delete.append(f"GRAPH <{item}> {{ <{item}> dfc-b:stockLimitation ?a{n} ; hub:held ?h{n} }}")
            insert.append(f"GRAPH <{item}> {{ <{item}> dfc-b:stockLimitation ?l{n} ; hub:held ?nh{n} }}")
            where.append(f"GRAPH <{item}> {{ <{item}> dfc-b:stockLimitation ?a{n} ; hub:held ?h{n} }} "
                         f"FILTER(?a{n} >= {q}) BIND(?a{n} - {q} AS ?l{n}) BIND(?h{n} + {q} AS ?nh{n})")
            written.append(f"<{order}> dfc-b:hasPart <{order}#line-{n}> . <{order}#line-{n}> a dfc-b:OrderLine ;"
                           f" dfc-b:quantity {q} ; dfc-b:concerns <{offer}> .")
        update = (FLOOR_PREFIXES + "DELETE { " + " ".join(delete) + " } INSERT { " + " ".join(insert)
                  + f" GRAPH <{order}> {{ " + " ".join(written) + " } } WHERE { " + " ".join(where) + " }")
        with self.lock:
            self.store.update(update)
            placed = self.store.query(f"ASK {{ GRAPH <{order}> {{ <{order}> ?p ?o }} }}")
        return (201, "") if bool(placed) else (409, '{"shortages": []}')

    def slice(self, indices: range) -> None:
        drive(self.run, lambda i: self.checkout(self.w.bodies[i]), indices, self.clients)

    def check(self) -> tuple[bool, str]:
        def ledger(item: str) -> ItemLedger:
            values = []
            for p in (HUB + "onHand", HUB + "held", HUB + "committed", DFC_B + "stockLimitation"):
                q = next(iter(self.store.quads_for_pattern(ox.NamedNode(item), ox.NamedNode(p), None)), None)
                values.append(None if q is None else float(q.object.value))
            return ItemLedger(*values)
        self.statements = len(self.store) - self.before
        stored = len(list(self.store.query(FLOOR_PREFIXES + "SELECT DISTINCT ?o { GRAPH ?o { ?o a dfc-b:Order } }")))
        return verdict(self.w, self.warm, self.run, ledger, stored)

    def close(self) -> None:
        del self.store


# --- the report ------------------------------------------------------------------------------------

def row(run: Run) -> str:
    n = len(run.latencies)
    cpu = f"{run.cpu / n * 1000:6.2f} ms ({run.cpu / run.seconds:.2f} cores)"
    if run.client_cpu is not None:
        cpu += f" + clients {run.client_cpu / n * 1000:.2f} ms"
    return (f"  {run.label:30s} {run.rate:8.1f} {run.pct(0.5):8.1f} {run.pct(0.99):8.1f}"
            f"   {run.accepted:5d} / {run.refused:<5d} {cpu}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 checkouts instead of 300 (about 40 s instead of 2 min)")
    parser.add_argument("--checkouts", type=int, help="checkouts per contender (default 300, --quick 100)")
    parser.add_argument("--rounds", type=int, default=3, help="slices the contenders take turns at")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients / in-process threads")
    parser.add_argument("--lines", type=int, default=3, help="order lines per checkout")
    parser.add_argument("--items", type=int, default=20, help="catalogue items the checkouts draw on")
    parser.add_argument("--server-threads", type=int, default=DEFAULT_THREADS,
                        help="waitress threads (default: dfc-hub serve's, the number of CPUs, at least 2)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    # `kill` (SIGTERM) unwinds like an error does, so the server subprocess is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = args.checkouts or (100 if args.quick else 300)
    port = free_port()
    w = make_workload(f"http://127.0.0.1:{port}", n, args.items, args.lines, 0.9, args.seed)
    print(f"{n} held checkouts of {args.lines} lines on {args.items} items, stock 90 % of demand, the same "
          f"request bodies for every contender, in {args.rounds} interleaved rounds; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-checkout-") as tmp, contextlib.ExitStack() as stack:
        contenders = []
        for make in (lambda: OverHttp(w, port, args.clients, args.server_threads, tmp),
                     lambda: InProcess(w, args.clients, f"{tmp}/direct-store"),
                     lambda: InProcess(w, args.clients, f"{tmp}/flask-store", through_flask=True),
                     lambda: Naive(w),
                     lambda: Floor(w, args.clients, f"{tmp}/floor-store")):
            contender = make()
            stack.callback(contender.close)          # the server is stopped whatever fails
            contender.start()
            contenders.append(contender)
        bounds = [n * r // args.rounds for r in range(args.rounds + 1)]
        for lo, hi in itertools.pairwise(bounds):
            for contender in contenders:
                contender.slice(range(lo, hi))
        checks = [c.check() for c in contenders]
    _, in_process, _, _, the_floor = contenders
    http_run, direct, flask_run, naive, floor = (c.run for c in contenders)

    print(f"{'':32s}checkouts/s   p50 ms   p99 ms   201 / 409    CPU per checkout (serving process)")
    for c in contenders:
        print(row(c.run))
    print(f"  (HTTP: dfc-hub serve, {args.server_threads} waitress threads, on-disk Oxigraph; in-process: "
          "token → agent, read_payload, SHACL, from_payload, OrderBook.save on an on-disk Hub)")
    print("ledgers read back after each run:")
    for _, line in checks:
        print(line)
    vs_naive, vs_direct = http_run.rate / naive.rate, http_run.rate / direct.rate
    clean = all(ok for ok, _ in checks)
    print("goals:")
    per_cpu = (naive.cpu / len(naive.latencies)) / (http_run.cpu / len(http_run.latencies))
    print(f"  HTTP / naive        {vs_naive:6.1f}x   goal ≥ {GOAL_VS_NAIVE:.0f}x    "
          f"{'met' if vs_naive >= GOAL_VS_NAIVE else 'NOT met'}   (per CPU second: {per_cpu:.1f}x)")
    print(f"  HTTP / in-process   {vs_direct * 100:5.0f} %   goal ≥ {GOAL_VS_INPROCESS * 100:.0f} %   "
          f"{'met' if vs_direct >= GOAL_VS_INPROCESS else 'NOT met'}   "
          f"(HTTP / Flask test client: {http_run.rate / flask_run.rate * 100:.0f} %)")
    per_checkout = lambda r: r.cpu / len(r.latencies)  # noqa: E731
    vs_floor = per_checkout(http_run) / per_checkout(floor)
    print(f"  CPU / floor         {vs_floor:6.1f}x   goal ≤ {GOAL_VS_FLOOR:.0f}x     "
          f"{'met' if vs_floor <= GOAL_VS_FLOOR else 'NOT met'}   (server CPU per checkout "
          f"{per_checkout(http_run) * 1000:.2f} ms, floor {per_checkout(floor) * 1000:.2f} ms; "
          f"in-process / floor {per_checkout(direct) / per_checkout(floor):.1f}x)")
    print(f"  zero oversell       {'met in every run' if clean else 'NOT met'}")
    # What the floor's ratio is made of: the part no code of ours runs, and the HTTP layer's.
    in_store = in_process.store_cpu / len(direct.latencies)
    per_order = lambda c, run: c.statements / max(run.accepted, 1)  # noqa: E731
    print(f"where the server's CPU goes, per checkout: the store's updates {in_store * 1000:.2f} ms "
          f"({per_order(in_process, direct):.0f} statements stored a placed order, "
          f"the floor stores {per_order(the_floor, floor):.0f}); the rest of the in-process run "
          f"{(per_checkout(direct) - in_store) * 1000:.2f} ms; HTTP and Flask add "
          f"{(per_checkout(http_run) - per_checkout(direct)) * 1000:.2f} ms")
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
