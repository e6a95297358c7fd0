"""Fetch the reference data (tests/reference-data.tsv) into the `shared/` folder beside the checkout.

Run by `make reference-data`, never by the tests (no test fetches anything). Only files copied
byte for byte (`verbatim`) can be fetched; those taken out of a page by hand (`extracted`) are
named with their page, to be rebuilt from it. Files already there are kept as they are. Says
what it fetched and what it could not; exits 1 when a listed file is still missing.
"""
from __future__ import annotations

import http.client
import sys
import urllib.request
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[1] / "reference-data.tsv"
TIMEOUT = 30


def entries() -> list[tuple[str, str, str]]:
    """(path in shared/, verbatim or extracted, public original) of every listed file."""
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]


def fetch(dest: Path) -> int:
    fetched, kept, missing = [], [], []
    for path, how, url in entries():
        target = dest / path
        if target.is_file() and target.stat().st_size:
            kept.append(path)
            continue
        if how != "verbatim":
            missing.append(f"{path}: extracted by hand from {url}")
            continue
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
                body = answer.read()
        except (OSError, http.client.HTTPException) as e:   # no network, a proxy, a 404: say which
            missing.append(f"{path}: {url} could not be fetched ({e})")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        fetched.append(path)
    print(f"reference data in {dest}: {len(fetched)} fetched, {len(kept)} already there, {len(missing)} missing")
    for line in missing:
        print("  missing:", line)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(fetch(Path(sys.argv[1] if len(sys.argv) > 1 else MANIFEST.parents[2] / "shared")))
