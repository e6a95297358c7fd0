"""The README walks a newcomer through the server: every `sh` block works, in order, as written."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ADMIN
from support import markdown_shell

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_file_the_readme_sends_exists():
    script = "\n".join(markdown_shell.blocks(README))
    sent = re.findall(r"@([\w./-]+\.(?:json|rq|ttl))", script)
    assert sent and all((ROOT / name).is_file() for name in sent), sent


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's commands need curl")
def test_the_readme_commands_answer_what_the_readme_announces(live_server, tmp_path):
    base = live_server()
    script = "\n".join(markdown_shell.blocks(README))
    expected = markdown_shell.announced(script)
    assert len(expected) > 10       # the walk-through is there, and announces its statuses
    seen, result = markdown_shell.run(script, base, ROOT, tmp_path, {"TOKEN": ADMIN})
    assert not markdown_shell.mismatches(expected, seen), markdown_shell.mismatches(expected, seen)
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_readme_checkout_uses_hasquantity_not_the_deprecated_literal():
    script = "\n".join(markdown_shell.blocks(README))
    # An order line's quantity is a QuantitativeValue; a delivery line's is a number (API.md).
    assert '"dfc-b:hasQuantity"' in script
    assert not re.search(r'"dfc-b:OrderLine",\s*"dfc-b:quantity"', script)
