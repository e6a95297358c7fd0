"""Lifecycle moves over HTTP beside held checkouts, in one run: transitions/s and ships/s against checkouts/s.

    .venv/bin/python bench/lifecycle.py [--quick] [--orders N] [--rounds R] [--clients 16] [--lines 3]

A real `dfc-hub serve` (waitress, on-disk Oxigraph) started as bench/checkout.py starts it, and
16 keep-alive clients. The workload is bench/checkout.py's (a producer's 20 catalogue items, N
held wholesale checkouts of `--lines` lines each), with stock for all of them: here nothing is
refused, so every figure is the cost of work done. Each order then goes the supplier lifecycle's
common way, every step a request of its own:

  - checkout: POST …/orders, a Held order (the buyer's draft; stock held) → 201;
  - transitions: POST …/orders/{oid}/status `placed` (the buyer; held → committed), then
    `confirmed` and `producing` (the farm) → 200 each;
  - ship: POST …/deliveries/{did}/ship of the one delivery made at `placed` (the farm; on hand
    and committed go down, the order is `shipped`) → 200.

The orders are cut in `--rounds` slices; each slice goes through every phase in turn (16 clients
taking the next order), so that drift in a shared machine's load hits all phases alike. A
warm-up slice of 32 orders goes first, uncounted. Rates are requests over the time spent on
them; CPU is the serving process's (/proc) per request. The goal: a transition costs no more
than a checkout, judged on the server's CPU per request (what a request costs, whatever else
the machine runs); the rates and their ratio are printed beside it. Afterwards
every answer must have been the one expected and every item's ledger read back (HTTP) must be
onHand = stock − Σ shipped, held = committed = 0, stockLimitation = onHand; else exit status 1.
Machines here are noisy: only ratios within one run mean anything.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from app.cli import DEFAULT_THREADS  # noqa: E402
from checkout import (JSONLD, HttpClient, ServeProcess, admin_headers, cpu_seconds,  # noqa: E402
                      ledger_via_api, make_workload, set_up)
from support.oxigraph_server import free_port  # noqa: E402

WARMUP = 32
PHASES = (("checkout", 201), ("placed", 200), ("confirmed", 200), ("producing", 200), ("ship", 200))
TRANSITIONS = ("placed", "confirmed", "producing")


@dataclasses.dataclass
class Phase:
    """One kind of request's figures, summed over the slices."""
    name: str
    expected: int
    count: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.count * 1000


def drive(phase: Phase | None, call: Callable[[int], tuple[int, str]], indices: range, clients: int,
          server_cpu: Callable[[], float]) -> None:
    """Run call(i) for every i of `indices` from `clients` threads, each taking the next; add to `phase`."""
    todo, take, errors = iter(indices), threading.Lock(), []
    start = threading.Barrier(clients + 1)
    expected = phase.expected if phase else None

    def client():
        start.wait()
        while True:
            with take:
                i = next(todo, None)
            if i is None:
                return
            try:
                status, text = call(i)
            except Exception as e:  # noqa: BLE001 — one failed request must not hide the others
                status, text = -1, f"{type(e).__name__}: {e}"
            if status != expected and expected is not None:
                errors.append(f"{phase.name} {i}: {status} {text[:300]}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for th in threads:
        th.start()
    cpu0 = server_cpu()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    if phase is not None:
        phase.seconds += time.perf_counter() - t0
        phase.cpu += server_cpu() - cpu0
        phase.count += len(indices)
        phase.errors += errors


class Server:
    """A real `dfc-hub serve` subprocess on an on-disk store, the workload's parties and their tokens."""

    def __init__(self, w, port: int, server_threads: int, tmp: str):
        self.w, self.client = w, HttpClient(port)
        self.server = ServeProcess(w.base, port, server_threads, tmp)
        self.proc = self.server.proc

    def start(self) -> None:
        self.server.wait_up(self.client)
        self.buyer = set_up(self.client, self.w)
        body = json.dumps({"agent": self.w.seller, "scopes": []}).encode()
        status, _, text = self.client.request("POST", "/api/admin/tokens", body, admin_headers("application/json"))
        assert status == 201, (status, text[:500])
        self.farm = json.loads(text)["token"]

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def close(self) -> None:
        self.server.close()


class Orders:
    """Each order's path on the server and its delivery, as the answers tell them."""

    def __init__(self, server: Server, bodies: list[bytes]):
        self.server, self.bodies = server, bodies
        self.paths: list[str | None] = [None] * len(bodies)
        self.deliveries: list[str | None] = [None] * len(bodies)
        base = server.w.base
        self.local = lambda iri: iri[len(base):] if iri.startswith(base) else iri

    def call(self, phase: str) -> Callable[[int], tuple[int, str]]:
        """The request of `phase` for order i, as a function of i."""
        s, w = self.server, self.server.w
        buyer = {"Authorization": f"Bearer {s.buyer}", "Accept": JSONLD}
        farm = {"Authorization": f"Bearer {s.farm}", "Accept": JSONLD}

        def checkout(i):
            status, headers, text = s.client.request("POST", f"/api/dfc/enterprises/{w.seller.rsplit('/', 1)[-1]}/orders",
                                                     self.bodies[i], {**buyer, "Content-Type": JSONLD})
            self.paths[i] = self.local(headers.get("location", ""))
            return status, text.decode("utf-8", "replace")

        def move(i):
            who = buyer if phase == "placed" else farm
            status, _, text = s.client.request("POST", f"{self.paths[i]}/status", json.dumps({"status": phase}).encode(),
                                               {**who, "Content-Type": "application/json"})
            if phase == "placed" and status == 200:
                graph = json.loads(text).get("@graph", [])
                self.deliveries[i] = next((self.local(n["@id"]) for n in graph if n.get("@type") == "hub:Delivery"), None)
            return status, text.decode("utf-8", "replace")

        def ship(i):
            status, _, text = s.client.request("POST", f"{self.deliveries[i]}/ship", None, farm)
            return status, text.decode("utf-8", "replace")
        return {"checkout": checkout, "ship": ship}.get(phase, move)


def check(server: Server, w, shipped: list[int]) -> list[str]:
    """Every item's ledger after every order shipped: on hand down by what shipped, nothing reserved."""
    problems = []
    for i, item in enumerate(w.items):
        lg = ledger_via_api(server.client, w, item)
        if (lg.on_hand, lg.held, lg.committed, lg.available) != (w.stock[i] - shipped[i], 0, 0, w.stock[i] - shipped[i]):
            problems.append(f"{item.rsplit('/', 1)[-1]}: onHand {lg.on_hand}, held {lg.held}, committed "
                            f"{lg.committed}, stockLimitation {lg.available}; stocked {w.stock[i]}, shipped {shipped[i]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 orders instead of 300")
    parser.add_argument("--orders", type=int, help="orders taken through the lifecycle (default 300, --quick 100)")
    parser.add_argument("--rounds", type=int, default=3, help="slices the phases take turns at")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--lines", type=int, default=3, help="order lines per checkout")
    parser.add_argument("--items", type=int, default=20, help="catalogue items the checkouts draw on")
    parser.add_argument("--server-threads", type=int, default=DEFAULT_THREADS,
                        help="waitress threads (default: dfc-hub serve's, the number of CPUs, at least 2)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # unwind: the server is stopped too
    n = args.orders or (100 if args.quick else 300)
    port = free_port()
    # Stock for every order (fill 1.0 of the warm-up and measured demand alike): nothing refused.
    w = make_workload(f"http://127.0.0.1:{port}", WARMUP + n, args.items, args.lines, 1.0, args.seed)
    print(f"{n} orders of {args.lines} lines on {args.items} items (after {WARMUP} warm-up), each: held checkout, "
          f"placed, confirmed, producing, shipped; {args.clients} clients, {args.rounds} interleaved rounds; "
          f"{os.cpu_count()} CPUs")
    phases = {name: Phase(name, expected) for name, expected in PHASES}
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp, contextlib.ExitStack() as stack:
        server = Server(w, port, args.server_threads, tmp)
        stack.callback(server.close)
        server.start()
        orders = Orders(server, w.bodies)
        warm = {name: Phase(f"warm-up {name}", expected) for name, expected in PHASES}
        bounds = [WARMUP + n * r // args.rounds for r in range(args.rounds + 1)]
        for (lo, hi), counted in zip(itertools.pairwise([0, *bounds]), [warm, *[phases] * args.rounds]):
            for name, _ in PHASES:
                drive(counted[name], orders.call(name), range(lo, hi), args.clients, server.cpu)
        shipped = [0] * len(w.items)
        for lines in w.checkouts:
            for i, q in lines:
                shipped[i] += q
        problems = [e for p in (*warm.values(), *phases.values()) for e in p.errors] + check(server, w, shipped)

    transitions = Phase("transition", 200, sum(phases[t].count for t in TRANSITIONS),
                        sum(phases[t].seconds for t in TRANSITIONS), sum(phases[t].cpu for t in TRANSITIONS))
    print(f"{'':24s}requests/s   server CPU per request")
    for p in (*phases.values(), transitions):
        label = "transitions (all three)" if p is transitions else p.name
        print(f"  {label:24s}{p.rate:8.1f}   {p.cpu_ms:6.2f} ms")
    checkout = phases["checkout"]
    vs_rate, vs_cpu = transitions.rate / checkout.rate, transitions.cpu_ms / checkout.cpu_ms
    ship_rate, ship_cpu = phases["ship"].rate / checkout.rate, phases["ship"].cpu_ms / checkout.cpu_ms
    print("ratios to the held checkout, same run:")
    print(f"  transitions/s ÷ checkouts/s   {vs_rate:5.2f}   CPU per transition ÷ per checkout {vs_cpu:5.2f}   "
          f"goal ≤ 1: {'met' if vs_cpu <= 1 else 'NOT met'}")
    print(f"  ships/s ÷ checkouts/s         {ship_rate:5.2f}   CPU per ship ÷ per checkout       {ship_cpu:5.2f}")
    if problems:
        print(f"FAILED: {len(problems)} problem(s); first: " + "; ".join(problems[:5]))
        sys.exit(1)
    print("every answer as expected; every item's ledger: onHand = stock − Σ shipped, held = committed = 0")


if __name__ == "__main__":
    main()
