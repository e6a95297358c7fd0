"""Checkouts at another producer while a session close places 1,000 orders: do they keep answering?

    .venv/bin/python bench/close_beside.py [--orders 1000] [--clients 4] [--one-lock]

One hub's sale session holds `--orders` Held wholesale orders of one line each at one producer
(`farm`), as a hub with `hub:PerCustomerOrder` makes them: one per customer order. While
`OrderBook.close_session` places them all, `--clients` threads keep placing checkouts (held
orders of 3 lines, the whole pipeline without HTTP: token, JSON-LD, SHACL, OrderBook.save) at
another producer (`bench-farm`) for another buyer. Printed: the close's duration, the slowest
checkout that overlapped it and their ratio (the goal: under a quarter), and the close's time
under each lock (its producers' and the session's named locks; the short commit lock).

Run twice: embedded (on-disk Oxigraph, one process), then two app processes on one
`oxigraph serve` (this one closes, a spawned one runs the checkouts). `--one-lock` makes every
unit of work take the one shared lock, as before locks per producer: the "before" figures.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import checkout as cb  # noqa: E402
import close as cl  # noqa: E402
from app.api.factory import create_app  # noqa: E402
from app.orders.book import OrderBook  # noqa: E402
from app.runtime import collector  # noqa: E402
from app.domain.clock import SystemClock  # noqa: E402
from app.store import base as store_base  # noqa: E402
from app.store.locks import STORE_KEY  # noqa: E402
from app.store.transaction import Transaction  # noqa: E402
from support.oxigraph_server import running_oxigraph  # noqa: E402

BASE = cl.BASE


def one_lock() -> None:
    """Every unit of work takes the one shared lock: the server before locks per producer."""
    store_base.normalised = lambda keys: (STORE_KEY,)
    Transaction.need = lambda self, keys: None          # the one lock covers everything


def checkouts_app(spec: str):
    """An app on `spec` with the other producer's catalogue and a buyer token; (app, checkout)."""
    app = create_app({"public_base_url": BASE, "store": spec, "admin_token": cb.ADMIN, "close_every_seconds": 0})
    w = cb.make_workload(BASE, 4000, 20, 3, 100.0, 7)
    runner = cb.InProcess.__new__(cb.InProcess)
    runner.w, runner.app = w, app
    token = cb.set_up(cb.TestClient(app), w)
    pipeline = runner._pipeline(token)
    for body in w.warmup_bodies[:8]:
        pipeline(body)
    collector.settle()          # the collector as `dfc-hub serve` runs it
    return app, w, pipeline


def run_checkouts(pipeline, w, clients: int, stop: threading.Event) -> list[tuple[float, float, int]]:
    """Checkouts from `clients` threads until `stop`: (start, end, status) each, wall clock."""
    out: list[tuple[float, float, int]] = []
    counter = iter(range(10**9))

    def client():
        while not stop.is_set():
            body = w.bodies[next(counter) % len(w.bodies)]
            start = time.time()
            status, _ = pipeline(body)
            out.append((start, time.time(), status))
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    return out, threads


class LockClock:
    """Time the closing thread spends holding its named locks, and the commit lock."""

    def __init__(self, store):
        self.named = self.commit = 0.0
        self.thread, self.depth = None, {"named": 0, "commit": 0}
        keys, write = store.key_locks, store.write_lock

        @contextlib.contextmanager
        def timed(attr, cm):
            if threading.current_thread() is not self.thread or self.depth[attr]:
                with cm:        # another thread's, or taken again inside (a write under the commit lock)
                    yield
                return
            with cm:
                start, self.depth[attr] = time.perf_counter(), 1
                try:
                    yield
                finally:
                    self.depth[attr] = 0
                    setattr(self, attr, getattr(self, attr) + time.perf_counter() - start)
        store.key_locks = lambda k: timed("named", keys(k))
        store.write_lock = lambda: timed("commit", write())


def close_and_watch(store, session, checkouts: list, now) -> dict:
    """Close the session (timed, with its locks) while `checkouts` fill up; the figures."""
    clock = LockClock(store)
    clock.thread = threading.current_thread()
    start = time.time()
    closed, placed = OrderBook(store, BASE, SystemClock()).close_session(session, now)
    end = time.time()
    assert closed and placed, "the close placed nothing"
    return {"start": start, "end": end, "named": clock.named, "commit": clock.commit, "placed": len(placed)}


def report(title: str, figures: dict, done: list) -> bool:
    during = [(s, e, st) for s, e, st in done if e >= figures["start"] and s <= figures["end"]]
    slowest = max((e - s for s, e, _ in during), default=float("nan"))
    duration = figures["end"] - figures["start"]
    bad = [st for _, _, st in done if st not in (201, 409)]
    print(f"{title}: close of {figures['placed']} orders {duration * 1000:.0f} ms "
          f"(named locks {figures['named'] * 1000:.0f} ms, commit lock {figures['commit'] * 1000:.0f} ms); "
          f"{len(during)} checkouts beside it, slowest {slowest * 1000:.0f} ms = "
          f"{slowest / duration:.2f} of the close (goal < 0.25){'; BAD ANSWERS ' + str(bad[:5]) if bad else ''}")
    return not bad


def embedded(args, now) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        app, w, pipeline = checkouts_app(f"oxigraph:{tmp}/store")
        store = app.extensions["dfc_hub"].store
        session = cl.build(store, "beside", args.orders, 20)
        stop = threading.Event()
        done, threads = run_checkouts(pipeline, w, args.clients, stop)
        while len(done) < args.clients * 2:         # every client answering before the close starts
            time.sleep(0.01)
        figures = close_and_watch(store, session, done, now)
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        app.extensions["dfc_hub"].close()
    return report("embedded (one process, on-disk Oxigraph)", figures, done)


def _checkout_process(spec: str, clients: int, before: bool, ready, stop, results) -> None:
    if before:
        one_lock()
    app, w, pipeline = checkouts_app(spec)
    halt = threading.Event()
    done, threads = run_checkouts(pipeline, w, clients, halt)
    while len(done) < clients * 2:
        time.sleep(0.01)
    ready.set()
    stop.wait()
    halt.set()
    for t in threads:
        t.join()
    results.put(list(done))
    app.extensions["dfc_hub"].close()


def remote(args, now) -> bool:
    with tempfile.TemporaryDirectory() as tmp, running_oxigraph(tmp) as url:
        spec = f"sparql:{url}"
        app = create_app({"public_base_url": BASE, "store": spec, "admin_token": cb.ADMIN, "close_every_seconds": 0})
        store = app.extensions["dfc_hub"].store
        session = cl.build(store, "beside", args.orders, 20)
        collector.settle()
        ctx = multiprocessing.get_context("spawn")
        ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
        other = ctx.Process(target=_checkout_process, args=(spec, args.clients, args.one_lock, ready, stop, results))
        other.start()
        assert ready.wait(300), "the checkout process did not start"
        figures = close_and_watch(store, session, [], now)
        time.sleep(0.2)
        stop.set()
        done = results.get(timeout=300)
        other.join(60)
        app.extensions["dfc_hub"].close()
    return report("remote (two app processes, one oxigraph serve)", figures, done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--one-lock", action="store_true", help="one lock for every write, as before")
    args = parser.parse_args()
    if args.one_lock:
        one_lock()
    now = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)
    print(f"{'one shared lock (before)' if args.one_lock else 'locks per producer'}, {args.clients} checkout clients")
    ok = embedded(args, now) & remote(args, now)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
