"""docs/clients.md: every snippet works against a live server, in the order of the page."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ADMIN
from support import markdown_shell

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "clients.md").read_text(encoding="utf-8")
PYTHON = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_the_page_has_a_snippet_for_each_client():
    code = "\n".join(PYTHON.findall(PAGE))
    assert markdown_shell.blocks(PAGE) and all(f"import {lib}" in code or f"from {lib}" in code
                                               for lib in ("requests", "rdflib", "SPARQLWrapper"))


@pytest.mark.skipif(shutil.which("curl") is None, reason="the curl snippets need curl")
def test_every_snippet_runs_against_a_live_server(live_server, tmp_path):
    base = live_server()
    script = "\n".join(markdown_shell.blocks(PAGE))
    seen, result = markdown_shell.run(script, base, ROOT, tmp_path, {"TOKEN": ADMIN})
    expected = markdown_shell.announced(script)
    assert not markdown_shell.mismatches(expected, seen), markdown_shell.mismatches(expected, seen)
    assert result.returncode == 0, result.stderr[-3000:]
    for snippet in PYTHON.findall(PAGE):
        ran = subprocess.run([sys.executable, "-c", snippet.replace(markdown_shell.DOC_BASE, base)], cwd=tmp_path,
                             env={"TOKEN": ADMIN, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, f"{snippet}\n{ran.stderr[-3000:]}"
