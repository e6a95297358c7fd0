"""Run a Markdown file's `sh` blocks as a reader pastes them, and compare each curl's status
with the one the text announces (`# → 201`)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
ANNOUNCED = re.compile(r"#\s*→\s*(\d{3})")
SEEN = re.compile(r"\[status (\d{3})\]")
DOC_BASE = "http://127.0.0.1:8000"


def blocks(markdown: str) -> list[str]:
    """The text of every `sh` block, in order."""
    return BLOCK.findall(markdown)


def announced(script: str) -> list[tuple[int, str]]:
    """The statuses the text announces, in order (one per curl call), each with its line."""
    return [(int(m[1]), line.strip()[-90:]) for line in script.splitlines() for m in [ANNOUNCED.search(line)] if m]


def mismatches(expected: list[tuple[int, str]], seen: list[int]) -> list[str]:
    """Say which calls answered another status than announced (or never ran)."""
    out = [f"announced {status}, got {got}: {line}"
           for (status, line), got in zip(expected, seen + [None] * len(expected)) if status != got]
    return out + [f"{len(seen) - len(expected)} curl call(s) announce no status"] * (len(seen) > len(expected))


def run(script: str, base: str, cwd: Path, tmp: Path, env: dict) -> tuple[list[int], subprocess.CompletedProcess]:
    """Run the script in one bash against `base`; return each curl call's status, in order.

    curl is wrapped so that each call writes its status on stderr; stdout stays the reader's
    (so `X=$(curl … | python3 …)` works as pasted). The base URL is replaced as the README
    tells a reader to.
    """
    real = shutil.which("curl")
    wrapper = tmp / "bin" / "curl"
    wrapper.parent.mkdir(exist_ok=True)
    wrapper.write_text(f"#!/bin/sh\nexec {real} -sS -w '%{{stderr}}[status %{{http_code}}]\\n' \"$@\"\n")
    wrapper.chmod(0o755)
    environ = {**os.environ, **env, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", "set -eu -o pipefail\n" + script.replace(DOC_BASE, base)],
                            cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)
    return [int(s) for s in SEEN.findall(result.stderr)], result
