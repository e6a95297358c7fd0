"""The layers import only what lies below them (docs/architecture.md), read from the source itself.

HTTP → app/api (parse, call a service, render) → app/domain (rules, units of work) → app/store.
The views never import the store nor pyoxigraph; the domain never imports Flask; nothing but
app/api (the app factory, app/api/factory.py, among them) imports Flask; and only the store layer
takes the write lock or writes: everything else writes through `store.transaction()`.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"


def _modules(folder: str = "") -> list[Path]:
    return sorted((APP / folder).rglob("*.py"))


def _imports(path: Path, source: str | None = None) -> set[str]:
    """Every module a file of app/ imports, at any depth (imports inside functions count too),
    relative imports (`from ..store import x`) named absolutely (`app.store`, `app.store.x`)."""
    package = path.relative_to(APP.parent).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8") if source is None else source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = ".".join([*package[:len(package) + 1 - node.level], *filter(None, [node.module])]) \
                if node.level else node.module
            found |= {module, *(f"{module}.{a.name}" for a in node.names)}
    return found


def _offending(paths, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for path in paths:
        bad = sorted(m for m in _imports(path) if m.split(".")[0] in forbidden or m.startswith(forbidden))
        if bad:
            out[str(path.relative_to(APP.parent))] = bad
    return out


def test_views_import_neither_the_store_nor_pyoxigraph():
    # The pages (app/pages) are views too: HTML forms over the same services.
    assert _offending(_modules("api") + _modules("pages"), ("pyoxigraph", "app.store")) == {}


def test_the_domain_never_imports_flask():
    assert _offending(_modules("domain"), ("flask", "werkzeug")) == {}


def test_nothing_below_the_views_imports_flask():
    below = [p for p in _modules() if p.relative_to(APP).parts[0] not in ("api", "pages")]
    assert _offending(below, ("flask", "werkzeug")) == {}


WRITES = re.compile(r"\.(write_lock|replace_graphs|bulk_load|add_quads)\(|store\.update\(|\._update\(")


@pytest.mark.parametrize("folder", ["api", "pages", "domain", "analytics", "validation", "rdf", ""])
def test_only_the_store_layer_locks_or_writes(folder):
    """Every write goes through a unit of work (`with store.transaction() as tx`)."""
    paths = _modules(folder) if folder else [p for p in APP.glob("*.py")]
    found = {str(p.relative_to(APP.parent)): WRITES.findall(p.read_text(encoding="utf-8"))
             for p in paths if "store" not in p.relative_to(APP).parts[:1]}
    assert {p: w for p, w in found.items() if w} == {}


def test_the_checks_see_a_violation():
    """The checks above read real imports: a file that breaks a rule is caught."""
    assert "flask" in _imports(APP / "api" / "resources.py")
    view = APP / "api" / "example.py"       # relative imports are read as the absolute ones they are
    assert {"app.store", "app.store.open_store"} <= _imports(view, "from ..store import open_store")
    assert "app.store" in _imports(view, "from .. import store")
    assert "app.api.render" in _imports(view, "from .render import x")
    assert _offending([APP / "store" / "base.py"], ("pyoxigraph",)) != {}
    assert WRITES.search("with self.store.write_lock():") and WRITES.search("store.update(q)") \
        and WRITES.search("self._store.update(q)")
