"""Store fixtures and helpers the store-level test modules share (they import them by name)."""
from __future__ import annotations

import pytest

from app.store import open_store
from support.oxigraph_server import running_oxigraph


@pytest.fixture(scope="module")
def oxigraph_url(tmp_path_factory):
    """One real `oxigraph serve` for the module that imports this fixture; its tests empty it."""
    with running_oxigraph(tmp_path_factory.mktemp("oxigraph-serve")) as url:
        yield url


@pytest.fixture(params=["memory", "sparql"])
def store(request):
    """An empty store, in memory and on that `oxigraph serve`."""
    s = open_store("memory:" if request.param == "memory" else f"sparql:{request.getfixturevalue('oxigraph_url')}")
    s.update("DROP ALL")
    yield s
    s.close()


def selects_asked(store):
    """`asked(call)`: how many SELECTs `store` is asked while `call()` runs (a memory's misses)."""
    def asked(call) -> int:
        select, count = store.select, []

        def counting(*args, **kwargs):
            count.append(1)
            return select(*args, **kwargs)
        store.select = counting
        try:
            call()
        finally:
            store.select = select
        return len(count)
    return asked
