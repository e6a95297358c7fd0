"""Webhooks under load: checkouts/s with 5 subscriptions active vs none, and the delivery lag.

    .venv/bin/python bench/events.py [--quick] [--orders N] [--rounds R] [--clients 16]

One real `dfc-hub serve` (waitress, on-disk Oxigraph and its own webhook dispatcher thread, or with
`--store sparql` a real `oxigraph serve` and the dispatcher in serve's child process) and a
healthy receiver on 127.0.0.1 in a process of its own. A buyer enterprise places wholesale
orders at a producer (2 lines each, items without inventory so none is refused), from 16
keep-alive clients. Two workloads, each run with no subscription and with 5 subscriptions of
the producer to `procurement.order_received`, the contenders taking turns round by round (the
subscriptions made before and removed after each of their turns, once every delivery came) so
that the machine's drift hits both alike:

  - checkouts: Held orders (a draft reserves, nothing is placed: no event), while one more
    client places a Complete order every 100 ms, each an event with 5 deliveries: what
    subscriptions cost the checkouts around them, and the delivery lag under the storm;
  - every checkout an event: each order is Complete at once (placed: order_received and a
    status change, recorded in its own update), so each makes 5 deliveries: the worst case.

Printed, per workload: checkouts/s of each contender (over the time its clients ran), their
ratio (the issue's goal: within 10 %), the server's CPU per checkout (deliveries included), the
delivery lag — from the moment an order's 201 reached its client to the moment the receiver
had the delivery — p50/p99/max, with the count delivered (all, or exit status 1), each round's
ratio, and what the whole machine spent per checkout (server, its children, the rest): on a
machine this bench fills, that bounds the ratio whatever the server does. Machines here are
noisy: only ratios within one run mean much, and the rounds show how far even those spread
(measured: one code's ratio 0.64-0.83 from run to run).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.oxigraph_server import free_port, running_oxigraph  # noqa: E402

ADMIN = "bench-admin"
CTX = "https://www.datafoodconsortium.org"
SELLER, BUYER = "bench-farm", "bench-shop"
SUBSCRIPTIONS, GOAL, GOAL_WORST = 5, 0.10, 0.8


class Client:
    """One keep-alive HTTP connection per thread to the server."""

    def __init__(self, port: int):
        self.port, self.local = port, threading.local()

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": f"Bearer {ADMIN}", "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/ld+json"
        conn.request(method, path, data, headers)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()


def set_up(client: Client, base: str, items: int) -> list[str]:
    """The producer, the buyer, and `items` catalogue items without inventory; return the offers."""
    for eid in (SELLER, BUYER):
        status, _, body = client.request("PUT", f"/api/dfc/enterprises/{eid}",
                                         {"@context": CTX, "@type": "dfc-b:Enterprise", "dfc-b:name": eid})
        assert status in (200, 201), body
    ns = f"{base}/api/dfc/enterprises/{SELLER}"
    graph, offers = [], []
    for n in range(items):
        product, item, offer = (f"{ns}/{kind}/i{n}" for kind in ("supplied_products", "catalog_items", "offers"))
        graph += [{"@id": product, "@type": "dfc-b:SuppliedProduct", "dfc-b:name": f"Product {n}"},
                  {"@id": item, "@type": "dfc-b:CatalogItem", "dfc-b:references": product, "dfc-b:offeredThrough": offer},
                  {"@id": offer, "@type": "dfc-b:Offer", "dfc-b:offeredItem": item,
                   "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 1.5, "dfc-b:hasUnit": "dfc-m:Euro"}}]
        offers.append(offer)
    status, _, body = client.request("POST", f"/api/dfc/enterprises/{SELLER}/catalog", {"@context": CTX, "@graph": graph})
    assert status == 200, body
    return offers


def checkout_body(base: str, offers: list[str], n: int, status: str) -> dict:
    return {"@context": CTX, "@id": "#", "@type": "dfc-b:Order", "dfc-b:hasOrderStatus": status,
            "dfc-b:orderedBy": f"{base}/api/dfc/enterprises/{BUYER}",
            "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": 1 + (n + k) % 3,
                               "dfc-b:concerns": offers[(n * 7 + k) % len(offers)]} for k in range(2)]}


def place(client: Client, base: str, offers: list[str], n: int, status: str, answered: dict) -> None:
    code, headers, body = client.request("POST", f"/api/dfc/enterprises/{SELLER}/orders",
                                         checkout_body(base, offers, n, status))
    if code != 201:
        raise SystemExit(f"an order was refused: {code} {body[:300]!r}")
    answered[headers["Location"]] = time.time()


def storm(client: Client, base: str, offers: list[str], numbers: range, clients: int, status: str,
          answered: dict, trickle: float = 0.0) -> float:
    """Place orders `numbers` from `clients` threads; with `trickle`, one more thread places a Complete
    order every `trickle` seconds meanwhile. Record each answer's time; return the clients' seconds."""
    todo, lock, done = iter(numbers), threading.Lock(), threading.Event()

    def worker():
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            place(client, base, offers, n, status, answered)

    def trickler():
        n = 10**7 + numbers.start
        while not done.wait(trickle):
            place(client, base, offers, n, "dfc-v:Complete", answered)
            n += 1

    side = threading.Thread(target=trickler) if trickle else None
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    if side:
        side.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - began
    done.set()
    if side:
        side.join()
    return took


def receive(port: int, out: str) -> None:
    """The receiver, in a process of its own: one line per delivery, `time order-IRI webhook-id`."""
    import http.server

    lock, sink = threading.Lock(), open(out, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            at = time.time()
            order = json.loads(body)["data"]["order"]
            with lock:
                sink.write(f"{at} {order} {self.headers['webhook-id']}\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


class Receiver:
    """The receiver process, and what it has written."""

    def __init__(self, tmp: str):
        self.port, self.path = free_port(), Path(tmp) / "received.txt"
        self.path.touch()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.proc = subprocess.Popen([sys.executable, __file__, "--receive", str(self.port), str(self.path)])

    def lines(self) -> list[tuple[float, str]]:
        out = []
        for line in self.path.read_text().splitlines():
            at, order, _ = line.split(" ")
            out.append((float(at), order))
        return out

    def wait_for(self, count: int, timeout: float) -> list[tuple[float, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.lines()
            if len(got) >= count:
                return got
            time.sleep(0.1)
        return self.lines()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def machine_busy() -> float:
    """CPU seconds every core of the machine has spent busy so far (/proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu(pid: int) -> float:
    """CPU seconds of a process's children now running (serve's webhook sender or dispatcher)."""
    total, kids = 0.0, set()
    for task in Path(f"/proc/{pid}/task").iterdir():      # a child is listed under the thread that started it
        with contextlib.suppress(OSError):
            kids.update((task / "children").read_text().split())
    for child in kids:
        with contextlib.suppress(OSError, IndexError):
            total += cpu_seconds(int(child))
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=300, help="checkouts per contender per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--quick", action="store_true", help="a few checkouts, to check the bench runs")
    ap.add_argument("--store", choices=("oxigraph", "sparql"), default="oxigraph",
                    help="the server's store: on disk (deliveries from its thread), or a real `oxigraph "
                         "serve` (deliveries from its child process; the API's CPU alone is counted)")
    ap.add_argument("--receive", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.receive:
        receive(int(args.receive[0]), args.receive[1])
        return 0
    if args.quick:
        args.orders, args.rounds = 24, 1
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        receiver = Receiver(tmp)
        store = f"oxigraph:{tmp}/store" if args.store == "oxigraph" \
            else f"sparql:{stack.enter_context(running_oxigraph(tmp))}"
        print(f"store: {store}")
        env = {**os.environ, "PUBLIC_BASE_URL": base, "DFC_HUB_ADMIN_TOKEN": ADMIN,
               "DFC_HUB_STORE": store, "DFC_HUB_CLOSE_EVERY_SECONDS": "0",
               "DFC_HUB_WEBHOOK_ALLOW_PRIVATE": "true"}
        log = open(Path(tmp) / "server.log", "wb")
        proc = subprocess.Popen([str(Path(sys.executable).with_name("dfc-hub")), "serve", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            return run(args, base, port, receiver, proc, Path(tmp) / "server.log")
        except BaseException:
            for name in ("server.log", "oxigraph.log"):      # what the servers said, before tmp goes
                if (Path(tmp) / name).exists():
                    print(f"--- {name}, last lines:\n{(Path(tmp) / name).read_text(errors='replace')[-3000:]}")
            raise
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            log.close()
            receiver.stop()


def run(args, base: str, port: int, receiver: Receiver, proc, log_path: Path) -> int:
    client = Client(port)
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"dfc-hub serve exited:\n{log_path.read_text()[-2000:]}")
        try:
            client.request("GET", "/api/dfc/enterprises")
            break
        except OSError:
            client.local.conn = None
            time.sleep(0.1)
    offers = set_up(client, base, 20)
    storm(client, base, offers, range(0, 32), args.clients, "dfc-v:Complete", {})       # warm-up
    workloads = {"checkouts": ("dfc-v:Held", 0.1), "every checkout an event": ("dfc-v:Complete", 0.0)}
    ok, numbers = True, iter(range(1000, 10**7, args.orders))
    print(f"{args.clients} clients, {args.rounds} round(s) of {args.orders} orders per contender")
    for name, (status, trickle) in workloads.items():
        seconds, cpu, lags, expected = {"none": 0.0, "five": 0.0}, {"none": 0.0, "five": 0.0}, [], 0
        children, machine = {"none": 0.0, "five": 0.0}, {"none": 0.0, "five": 0.0}
        rounds = []                       # each round's ratio: how much the run's ratio can be trusted
        for _ in range(args.rounds):
            spent = dict(seconds)
            for contender in ("none", "five"):
                subs = subscribe(client, receiver) if contender == "five" else []
                seen, answered, before = len(receiver.lines()), {}, cpu_seconds(proc.pid)
                kids, busy = children_cpu(proc.pid), machine_busy()
                n = next(numbers)
                seconds[contender] += storm(client, base, offers, range(n, n + args.orders), args.clients,
                                            status, answered, trickle)
                if subs:
                    # Each Complete order is one order_received: the storm's, or the trickle's only.
                    events = len(answered) if status == "dfc-v:Complete" else len(answered) - args.orders
                    expected += SUBSCRIPTIONS * events
                    got = receiver.wait_for(seen + SUBSCRIPTIONS * events, timeout=300)[seen:]
                    lags += [at - answered[order] for at, order in got if order in answered]
                    for wid in subs:
                        r = client.request("DELETE", f"/api/dfc/enterprises/{SELLER}/webhooks/{wid}"); assert r[0] == 204, r
                cpu[contender] += cpu_seconds(proc.pid) - before
                children[contender] += max(0.0, children_cpu(proc.pid) - kids)
                machine[contender] += machine_busy() - busy
            rounds.append((seconds["none"] - spent["none"]) / (seconds["five"] - spent["five"]))
        ok = report(name, args, seconds, cpu, lags, expected) and ok
        print(f"  ratio round by round: {', '.join(f'{r:.2f}' for r in rounds)}")
        total = args.rounds * args.orders
        for k, label in (("none", "no subscription"), ("five", "5 subscriptions")):
            print(f"  the machine's {os.cpu_count()} cores, {label}: {machine[k] / total * 1000:5.1f} ms busy a checkout "
                  f"(server {cpu[k] / total * 1000:.1f}, its children {children[k] / total * 1000:.1f}, "
                  f"the rest: clients, receiver, store server)")
    return 0 if ok else 1


def subscribe(client: Client, receiver: Receiver) -> list[str]:
    subs = []
    for k in range(SUBSCRIPTIONS):
        status, _, body = client.request("POST", f"/api/dfc/enterprises/{SELLER}/webhooks",
                                         {"url": f"{receiver.url}/{k}", "events": ["procurement.order_received"]})
        assert status == 201, body
        subs.append(json.loads(body)["id"])
    return subs


def report(name: str, args, seconds: dict, cpu: dict, lags: list[float], expected: int) -> bool:
    total = args.rounds * args.orders
    rate = {k: total / v for k, v in seconds.items()}
    ratio = rate["five"] / rate["none"]
    print(f"{name}:")
    print(f"  no subscription:        {rate['none']:8.1f} checkouts/s   server CPU {cpu['none'] / total * 1000:6.1f} ms a checkout")
    print(f"  5 subscriptions active: {rate['five']:8.1f} checkouts/s   server CPU {cpu['five'] / total * 1000:6.1f} ms a checkout")
    goal = GOAL_WORST if name == "every checkout an event" else 1 - GOAL     # issue 25: the worst case ≥ 0.8
    print(f"  ratio 5 subs / none:    {ratio:8.2f}  (goal: ≥ {goal:.2f}: {'met' if ratio >= goal else 'not met'})")
    print(f"  delivery lag, 201 to receipt, {len(lags)} of {expected} deliveries: p50 {pct(lags, 0.5) * 1000:.1f} ms"
          f"   p99 {pct(lags, 0.99) * 1000:.1f} ms   max {max(lags, default=float('nan')) * 1000:.1f} ms")
    return len(lags) == expected


if __name__ == "__main__":
    sys.exit(main())
