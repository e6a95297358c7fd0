"""Checkouts with a line at a partner whose identity provider issues access tokens of a few seconds.

    .venv/bin/python bench/partner_oidc.py [--seconds 60] [--ttl 3] [--kind refresh_token]

The issue 26 "done when": a real OpenID Connect provider (npm oidc-provider, tests/support/idp.py)
issues 3-s access tokens; Jean's platform (a server of ours) accepts only its JWTs; the hub signs
in with a refresh token (or client credentials) and checks out one line at Jean's, one checkout
after another, for a minute. Printed: checkouts and how many were 201, the refresh tokens spent
(each must be spent once), the access tokens Jean's platform saw, the median and worst checkout.
Exit status 1 if any checkout is not a 201 or a refresh token was presented twice.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.idp import skip_reason  # noqa: E402
from support.oidc_world import oidc_world  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ttl", type=int, default=3)
    parser.add_argument("--kind", choices=["refresh_token", "client_credentials"], default="refresh_token")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)     # one access-log line per call is noise here
    if skip_reason():
        print(f"skipped: {skip_reason()}")
        return 0
    with tempfile.TemporaryDirectory() as folder, oidc_world(Path(folder), ttl=args.ttl) as w:
        auth = w.refresh_token_auth()[0] if args.kind == "refresh_token" else w.client_credentials()
        assert w.configure(auth).status_code == 201 and w.sync().status_code == 200
        statuses, times = [], []
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            statuses.append(w.checkout().status_code)
            times.append(time.perf_counter() - start)
        presented = w.idp.presented()
        spent = [p["refresh_token"] for p in presented]
        access = len(set(w.gate.tokens()))
    ok = statuses.count(201)
    once = len(spent) == len(set(spent)) and all(p["status"] == 200 for p in presented)
    print(f"{args.seconds:g} s, {args.ttl}-s access tokens, {args.kind}")
    print(f"checkouts: {len(statuses)}, 201: {ok}")
    print(f"refresh tokens spent: {len(spent)}, each once: {'yes' if once else 'no'}")
    print(f"access tokens the partner saw: {access}")
    print(f"checkout median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms")
    return 0 if ok == len(statuses) and once else 1


if __name__ == "__main__":
    sys.exit(main())
