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
    assert _offending(_modules("api"), ("pyoxigraph", "app.store")) == {}


def test_the_domain_never_imports_flask():
    assert _offending(_modules("domain"), ("flask", "werkzeug")) == {}


def test_nothing_below_the_views_imports_flask():
    below = [p for p in _modules() if "api" not in p.relative_to(APP).parts[:1]]
    assert _offending(below, ("flask", "werkzeug")) == {}


WRITES = re.compile(r"\.(write_lock|replace_graphs|bulk_load|add_quads)\(|store\.update\(|\._update\(")


@pytest.mark.parametrize("folder", ["api", "domain", "analytics", "validation", "rdf", ""])
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


# --- the floor plan: rooms, circles, sizes, and where I/O happens ----------------------------------

def _module_of(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Module → the modules of app/ it imports (a `from package import module` names the module)."""
    modules = {_module_of(p): p for p in _modules()}
    graph = {}
    for name, path in modules.items():
        found = {m for m in _imports(path) if m in modules and m != name}
        # `from app.rdf import vocabulary` imports the module, not what the package's face holds.
        graph[name] = {m for m in found if not any(o.startswith(m + ".") for o in found)}
    return graph


def _room(module: str) -> str:
    """The room a module stands in: a top-level module, or a folder directly under app/."""
    return ".".join(module.split(".")[:2])


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one node (Tarjan), sorted."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_import_circle_between_files():
    assert _circles(_graph()) == []


def test_no_import_circle_between_the_rooms_of_app():
    """A top-level module or a folder of app/ is one room; the rooms import one way only."""
    rooms: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        rooms.setdefault(_room(module), set()).update(_room(m) for m in imported if _room(m) != _room(module))
    rooms.pop("app", None)      # the package's face (its __init__) names the version only
    assert _circles(rooms) == []


def test_no_folder_holds_more_than_twenty_modules_and_few_are_loose():
    crowded = {str(d.relative_to(APP.parent)): n for d in [APP, *(p for p in APP.rglob("*") if p.is_dir())]
               if (n := len(list(d.glob("*.py")))) > 20}
    assert crowded == {}
    assert len(list(APP.glob("*.py"))) <= 5, sorted(p.name for p in APP.glob("*.py"))


# The network: the libraries that send or resolve, and what of ours does (the one adapter, the
# clients built on it). Importing an error class or a reply's type from them is no I/O.
NETWORK = ("requests", "urllib3", "socket", "http.client", "urllib.request", "ssl")
CALLERS = {"app.outbound", "app.outbound.Outbound", "app.outbound.check_url", "app.outbound.Guard",
           "app.partners.client.PartnerClient", "app.events.sender", "app.events.sender.WebhookSender"}


def _calls_the_network(path: Path, source: str | None = None) -> list[str]:
    found = _imports(path, source)
    bare = {m for m in found if m == "app.outbound" and not any(o.startswith("app.outbound.") for o in found)}
    return sorted({m for m in found if m.split(".")[0] in NETWORK or m.startswith(tuple(n + "." for n in NETWORK))}
                  | (found & (CALLERS - {"app.outbound"})) | bare)


def test_rules_never_reach_the_network():
    assert {str(p.relative_to(APP.parent)): bad for p in _modules("domain") if (bad := _calls_the_network(p))} == {}


def test_no_module_both_writes_the_store_and_calls_the_network():
    """I/O at the edges: a service that writes is given the network (a client, a guard), never imports it."""
    both = {str(p.relative_to(APP.parent)): bad for p in _modules()
            if "store.transaction(" in p.read_text(encoding="utf-8") and (bad := _calls_the_network(p))}
    assert both == {}


def test_the_network_check_sees_a_caller():
    service = APP / "orders" / "example.py"
    assert _calls_the_network(APP / "outbound" / "__init__.py")
    assert _calls_the_network(service, "from app.outbound import check_url") == ["app.outbound.check_url"]
    assert _calls_the_network(service, "from app import outbound") == ["app.outbound"]
    assert _calls_the_network(service, "import requests") == ["requests"]
    assert _calls_the_network(service, "from app.outbound import UnsafeURL") == []


def test_the_floor_plan_checks_see_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _room("app.orders.book") == "app.orders" and _room("app.cli") == "app.cli"
