"""The reference data is described for a newcomer: every file of it is listed, with its public
original, and `make reference-data` (never `make test`) fetches what can be fetched."""
from __future__ import annotations

import re
from pathlib import Path

from support.reference_data import entries

ROOT = Path(__file__).resolve().parents[1]


def test_every_listed_file_names_how_it_was_made_and_a_public_original_at_a_commit():
    listed = entries()
    assert len(listed) > 80 and len({p for p, _, _ in listed}) == len(listed)
    for path, how, url in listed:
        assert how in ("verbatim", "extracted"), path
        host = "raw.githubusercontent.com" if how == "verbatim" else "github.com"
        assert re.fullmatch(rf"https://{re.escape(host)}/[\w.-]+/[\w.-]+/(blob/)?[0-9a-f]{{40}}/\S+", url), (path, url)


def test_the_manifest_lists_exactly_the_reference_data(shared):
    held = {str(p.relative_to(shared)) for folder in ("dfc", "conformance") for p in (shared / folder).rglob("*")
            if p.is_file() and p.name != "SOURCES.md"}
    assert held == {path for path, _, _ in entries()}


def test_the_tests_never_fetch_it_and_the_readme_says_where_it_comes_from():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_target = re.search(r"^test:(.*?)\n\n", makefile, re.S | re.M).group(1)
    assert "reference-data" not in test_target and "\nreference-data:" in makefile
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Reference data" in readme and "tests/reference-data.tsv" in readme
