"""A week of sales through the real HTTP API, for the SPARQL endpoint and the analytics queries.

Jean's farm (demo data) sells carrots (1 kg each) through Hub A (week-48, Mon–Fri) and Hub B
(Tue–Thu), and, added here, bags of beans (500 g each) through Hub B:

    Mon  Ali buys 1 kg of carrots at A
    Tue  Paul 5 kg at A; Zoé 2 kg at A, then cancelled
    Wed  David 3 kg of carrots and 4 bags of beans at B
    Thu  Hub B closes its session (its wholesale order with Jean becomes Complete)

Customers carry names and e-mail addresses, so that a leak would show.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator

import requests

from app.cli import FIXTURES
from app.runtime.loading import load_files

CTX = "https://www.datafoodconsortium.org"
UTC = dt.timezone.utc
MONDAY = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)
CUSTOMERS = {"Ali": "ali.secret@example.org", "Paul": "paul.secret@example.org",
             "Zoé": "zoe.secret@example.org", "David": "david.secret@example.org"}


@dataclasses.dataclass
class Scenario:
    base: str
    http: requests.Session
    admin: dict
    tokens: dict
    orders: dict            # customer name → the IRI of their order

    @property
    def api(self) -> str:
        return f"{self.base}/api/dfc/enterprises"


def load_demo(store, base: str) -> None:
    """Load the demo data with IRIs under the served app's own base URL."""
    load_files(store, sorted((FIXTURES / "demo").glob("*.json")), base + "/api/dfc/")


def play(base: str, clock, admin_token: str) -> Scenario:
    """Run the week above against a server whose clock is `clock`; leave it Thursday evening."""
    http = requests.Session()
    admin = {"Authorization": f"Bearer {admin_token}"}
    api = f"{base}/api/dfc/enterprises"
    tokens = {}
    for eid in ("jean-farm", "hub-a", "hub-b"):
        r = http.post(f"{base}/api/admin/tokens", json={"agent": f"{api}/{eid}", "scopes": []}, headers=admin)
        assert r.status_code == 201, r.text
        tokens[eid] = {"Authorization": f"Bearer {r.json()['token']}"}
    s = Scenario(base, http, admin, tokens, {})
    _add_beans(s)
    clock.set(MONDAY)
    s.orders["Ali"] = checkout(s, "hub-a", "Ali", [("jean-carrots", 1)])
    clock.set(MONDAY + dt.timedelta(days=1))
    s.orders["Paul"] = checkout(s, "hub-a", "Paul", [("jean-carrots", 5)])
    s.orders["Zoé"] = checkout(s, "hub-a", "Zoé", [("jean-carrots", 2)])
    cancel(s, "hub-a", s.orders["Zoé"])
    clock.set(MONDAY + dt.timedelta(days=2))
    s.orders["David"] = checkout(s, "hub-b", "David", [("jean-carrots", 3), ("jean-beans", 4)])
    clock.set(MONDAY + dt.timedelta(days=3, hours=9, minutes=30))
    r = http.post(f"{api}/hub-b/sale_sessions/week-48/close", headers=tokens["hub-b"])
    assert r.status_code == 200, r.text
    return s


def checkout(s: Scenario, hub: str, name: str, lines) -> str:
    """A customer's Held checkout at a hub; return the order's IRI."""
    doc = {"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:c", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{s.api}/{hub}/sale_sessions/week-48",
         "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": q,
                            "dfc-b:concerns": f"{s.api}/{hub}/offers/{offer}"} for offer, q in lines]},
        {"@id": "_:c", "@type": "dfc-b:Person", "dfc-b:firstName": name, "dfc-b:email": CUSTOMERS[name]}]}
    r = s.http.post(f"{s.api}/{hub}/orders", json=doc, headers={**s.tokens[hub], "Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    return r.headers["Location"]


def cancel(s: Scenario, hub: str, order: str) -> None:
    """The customer cancels: the hub PUTs the order back as dfc-v:Cancelled."""
    doc = s.http.get(order, headers=s.tokens[hub]).json()
    for node in doc.get("@graph", [doc]):
        if node.get("@type") == "dfc-b:Order":
            node["dfc-b:hasOrderStatus"] = "dfc-v:Cancelled"
    r = s.http.put(order, json=doc, headers={**s.tokens[hub], "Content-Type": "application/ld+json"})
    assert r.status_code == 200, r.text


def _add_beans(s: Scenario) -> None:
    jean, hub_b = f"{s.api}/jean-farm", f"{s.api}/hub-b"
    catalog = {"@context": CTX, "@graph": [
        {"@id": f"{jean}/supplied_products/beans", "@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Green beans, 500 g bag",
         "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 500, "dfc-b:hasUnit": "dfc-m:Gram"}},
        {"@id": f"{jean}/catalog_items/beans", "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": 10,
         "dfc-b:references": f"{jean}/supplied_products/beans", "dfc-b:offeredThrough": f"{jean}/offers/beans"},
        {"@id": f"{jean}/offers/beans", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{jean}/catalog_items/beans",
         "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 1.5, "dfc-b:hasUnit": "dfc-m:Euro"}}]}
    resell = {"@context": CTX, "@graph": [
        {"@id": f"{hub_b}/catalog_items/jean-beans", "@type": "dfc-b:CatalogItem",
         "dfc-b:references": f"{jean}/supplied_products/beans", "dfc-b:offeredThrough": f"{hub_b}/offers/jean-beans"},
        {"@id": f"{hub_b}/offers/jean-beans", "@type": "dfc-b:Offer", "dfc-b:offeredItem": f"{hub_b}/catalog_items/jean-beans",
         "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2.2, "dfc-b:hasUnit": "dfc-m:Euro"}}]}
    for eid, doc in (("jean-farm", catalog), ("hub-b", resell)):
        r = s.http.post(f"{s.api}/{eid}/catalog", json=doc, headers={**s.admin, "Content-Type": "application/ld+json"})
        assert r.status_code == 200, r.text


@contextlib.contextmanager
def served(backend: str, tmp_path, make_app, admin_token: str, server_timeout: int = 60,
           **settings) -> Iterator[tuple[Scenario, object]]:
    """Serve an app on `backend` ("embedded" or "remote": a real `oxigraph serve`, ending queries
    after `server_timeout` seconds) over HTTP, play the week on it; yield (scenario, app)."""
    from app.domain.clock import ManualClock
    from support.oxigraph_server import running_oxigraph
    from support.threaded_server import serving

    clock = ManualClock(MONDAY)
    with contextlib.ExitStack() as stack:
        if backend == "remote":
            settings["store"] = "sparql:" + stack.enter_context(running_oxigraph(tmp_path, server_timeout))
        apps = []

        def build(base):
            app = make_app(demo=False, clock=clock, public_base_url=base, **settings)
            load_demo(app.extensions["dfc_hub"].store, base)
            apps.append(app)
            return app

        base = stack.enter_context(serving(build))
        yield play(base, clock, admin_token), apps[0]
