"""An erasure's cost as the store grows, beside a checkout's, same run.

    .venv/bin/python bench/erasure.py [--sizes 500,2000] [--repeat 15]

For each size N, a fresh in-memory app with the demo data takes N customers' checkouts at
hub A (each sent with an Idempotency-Key, so N answers are kept for retries, as real clients
leave them), then times `--repeat` more checkouts and `--repeat` erasures (DELETE …/persons/{id})
through the HTTP layer. An erasure holds the write lock while it looks for every copy: the
graphs naming the person (an index lookup) and the stored answers whose body names them (a
scan of every stored answer), so its time grows with N where a checkout's does not; printed are
the medians and their ratio. Each erasure is checked: no literal of the person anywhere after.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import make_app, token_for  # noqa: E402
from support.leaks import Person, checkout_by, stored  # noqa: E402
from support.orders import HUB_A, add_item, main_node  # noqa: E402


def customer(n: int) -> Person:
    return Person(f"Firstname{n:06d}", f"Family{n:06d}", f"c{n:06d}@example.org", f"+33 6 00 {n:06d}",
                  f"{n} rue du Banc", f"Ville{n:06d}", f"F-{n:06d}")


def checkout(client, token, offer: str, n: int) -> tuple[str, float]:
    began = time.perf_counter()
    r = checkout_by(client, token, customer(n), (offer, 1), **{"Idempotency-Key": f"bench-{n}"})
    took = time.perf_counter() - began
    assert r.status_code == 201, r.get_data(as_text=True)
    return main_node(r.get_json())["dfc-b:orderedBy"], took


def run(size: int, repeat: int) -> tuple[float, float, bool]:
    """(median checkout ms, median erasure ms, every erasure complete) at `size` customers."""
    client = make_app().test_client()
    token = token_for(client, HUB_A)
    offer = add_item(client, "jean-farm", "bench-carrots", None)      # unlimited: no checkout is refused
    for n in range(size):
        checkout(client, token, offer, n)
    timed = [checkout(client, token, offer, size + n) for n in range(repeat)]
    store = client.application.extensions["dfc_hub"].store
    erasures, clean = [], True
    for n, (person, _) in enumerate(timed):
        began = time.perf_counter()
        r = client.delete(f"/api/dfc/enterprises/hub-a/persons/{person.rsplit('/', 1)[1]}", headers=token)
        erasures.append(time.perf_counter() - began)
        clean &= r.status_code == 204 and not stored(store, customer(size + n))
    return statistics.median(t for _, t in timed) * 1000, statistics.median(erasures) * 1000, clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"{'customers':>10} {'checkout ms':>12} {'erasure ms':>11} {'ratio':>6}  complete")
    for size in (int(s) for s in args.sizes.split(",")):
        check, erase, clean = run(size, args.repeat)
        print(f"{size:>10} {check:>12.2f} {erase:>11.2f} {erase / check:>6.1f}  {'yes' if clean else 'NO'}")


if __name__ == "__main__":
    main()
