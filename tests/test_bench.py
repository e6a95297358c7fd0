"""`make bench` keeps working: the benchmarks that check their own results run, at small sizes.

The benchmarks call the app's internals (planners, the order book, the store's lock), which a
change may move; nothing else runs them, so without this a broken one is found at the next
measurement. Only the figures' soundness is checked here, never the timings.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench(name: str, *args: str) -> str:
    run = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout


def test_order_lines_bench_ends_with_every_answer_expected_and_the_ledger_back():
    assert "worst growth of the per-line time" in bench("order_lines.py", "--sizes", "10,20", "--repeat", "1")


def test_close_bench_closes_alike_before_and_after():
    assert "same result: yes" in bench("close.py", "--orders", "20", "--items", "5")


def test_consolidation_bench_moves_held_to_committed():
    out = bench("consolidation.py", "--sizes", "1000", "--repeat", "1")
    row = next(line for line in out.splitlines() if line.split()[:1] == ["1000"])
    assert row.split()[-1] == "yes", out


def test_partners_bench_sells_what_the_partner_then_holds():
    assert "the partner holds what was sold: yes" in bench("partners.py", "--checkouts", "10", "--rounds", "2")


def test_partner_oidc_bench_checks_out_across_expiries_spending_each_refresh_token_once():
    out = bench("partner_oidc.py", "--seconds", "3", "--ttl", "2")
    assert "skipped" in out or "each once: yes" in out, out


def test_erasure_bench_erases_every_customer_completely():
    out = bench("erasure.py", "--sizes", "20", "--repeat", "3")
    row = next(line for line in out.splitlines() if line.split()[:1] == ["20"])
    assert row.split()[-1] == "yes", out


def test_events_bench_delivers_every_webhook():
    out = bench("events.py", "--quick")
    assert "checkouts:" in out and "every checkout an event:" in out
    assert all(line.split(" of ")[0].split()[-1] == line.split(" of ")[1].split()[0]
               for line in out.splitlines() if "deliveries:" in line), out


def test_prices_bench_prices_every_line_at_the_contract():
    out = bench("prices.py", "--sizes", "10,20", "--repeat", "1", "--items", "5")
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["10"], ["20"])]
    assert len(rows) == 2 and all(row[-1] == "yes" for row in rows), out


def test_lifecycle_bench_ships_every_order_and_the_ledgers_follow():
    out = bench("lifecycle.py", "--orders", "16", "--rounds", "1", "--clients", "4")
    assert "every answer as expected" in out and "transitions/s ÷ checkouts/s" in out, out
