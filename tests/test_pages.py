"""The pages without a browser: what a hub's board says of its partners, and a section a token may not read."""
from __future__ import annotations

import re

import requests
from conftest import BASE, admin, jsonld, make_app, token_for
from support.orders import checkout
from support.threaded_server import serving

CTX = "https://www.datafoodconsortium.org"
HTML = {"Accept": "text/html"}


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_hubs_board_shows_its_partners_and_when_they_last_synced():
    """A partner platform (a second server on 127.0.0.1) synced once: its row counts the copies kept."""
    with serving(lambda base: make_app(demo=False, public_base_url=base)) as remote:
        far = f"{remote}/api/dfc/enterprises/far-farm"
        product = {"@context": CTX, "@id": f"{far}/supplied_products/kale", "@type": "dfc-b:SuppliedProduct",
                   "dfc-b:name": "Kale"}
        for doc in ({"@context": CTX, "@id": far, "@type": "dfc-b:Enterprise", "dfc-b:name": "Far farm"}, product):
            r = requests.put(doc["@id"], json=doc, headers={**admin(), "Content-Type": "application/ld+json"}, timeout=30)
            assert r.status_code in (200, 201), r.text
        given = requests.post(f"{remote}/api/admin/tokens", headers=admin(), timeout=30,
                              json={"agent": f"{BASE}/api/dfc/enterprises/hub-a", "scopes": []}).json()["token"]
        client = make_app(webhook_allow_private=True).test_client()
        hub = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
        body = {"enterprise": far, "catalog": f"{far}/catalog", "orders": f"{far}/orders", "token": given}
        assert client.put("/api/dfc/enterprises/hub-a/partners/far", json=body, headers=hub).status_code == 201
        page = _text(client.get("/pages/enterprises/hub-a", headers={**hub, **HTML}))
        assert "far " + far + " 0 never" in page, page
        assert client.post("/api/dfc/enterprises/hub-a/partners/far/sync", headers=hub).status_code == 200
        answer = client.get("/pages/enterprises/hub-a", headers={**hub, **HTML})
        assert answer.headers["Cache-Control"] == "no-store"
        row = re.search(r"far " + re.escape(far) + r" (\d+) (\S+)", _text(answer))
        assert row and int(row.group(1)) >= 1 and row.group(2).startswith("20"), _text(answer)
        assert given not in answer.get_data(as_text=True)


def test_a_part_of_the_board_the_token_may_not_read_says_why_and_the_rest_shows():
    """A token of Jean's with ReadProducts only: the stock shows, the orders are refused as the API refuses them."""
    client = make_app().test_client()
    products = token_for(client, f"{BASE}/api/dfc/enterprises/jean-farm", ["ReadProducts"])
    page = _text(client.get("/pages/enterprises/jean-farm", headers={**products, **HTML}))
    assert "on hand held committed available 10 0 0 10" in page, page
    assert "Not shown: the token lacks the ReadOrders or WriteOrders scope" in page


def test_a_program_that_is_refused_a_page_gets_the_apis_problem():
    client = make_app().test_client()
    r = client.get("/pages/enterprises/jean-farm", headers={"Accept": "application/json"})
    assert (r.status_code, r.mimetype) == (401, "application/problem+json")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def _policy(response) -> dict[str, set[str]]:
    """A Content-Security-Policy header as directive → its sources."""
    found = {}
    for part in response.headers.get("Content-Security-Policy", "").split(";"):
        if part.strip():
            name, *sources = part.split()
            found[name] = set(sources)
    return found


def test_no_page_may_be_framed_run_a_script_or_be_sniffed():
    """A hostile site may not frame a page to steer a click onto its buttons (clickjacking), and a
    page runs no script and posts no form elsewhere even if markup ever slipped through the escaping."""
    client = make_app().test_client()
    hub = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    for path in ("/", "/pages/enterprises", "/pages/enterprises/hub-a", "/pages/enterprises/hub-a/sale_sessions/week-48",
                 "/pages/enterprises/jean-farm", "/sparql", "/conformance"):
        r = client.get(path, headers={**hub, **HTML})
        assert r.mimetype == "text/html", path
        policy = _policy(r)
        assert policy.get("frame-ancestors") == {"'none'"} and r.headers.get("X-Frame-Options") == "DENY", path
        assert policy.get("default-src") == {"'none'"} and "script-src" not in policy, path
        assert policy.get("form-action") == {"'self'", BASE} and policy.get("base-uri") == {"'none'"}, path
        assert r.headers.get("X-Content-Type-Options") == "nosniff", path
    refused = client.get("/pages/enterprises/hub-a", headers={"Accept": "application/json"})
    assert refused.mimetype == "application/problem+json" and refused.headers["X-Content-Type-Options"] == "nosniff"


def _form_token(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def test_signing_out_forgets_every_token_the_browser_kept_and_every_form_it_was_shown():
    """A shared computer, over real HTTP: the cookie is HttpOnly and strict; after "Sign out" the
    analyst's /sparql token is gone too, and no form token from before a sign-in or a sign-out is
    taken after it (a form shown to one agent never posts for the next)."""
    with serving(lambda base: make_app(public_base_url=base)) as base:
        def issued(agent, scopes=()):
            r = requests.post(f"{base}/api/admin/tokens", headers=admin(), timeout=30,
                              json={"agent": agent, "scopes": list(scopes)})
            return r.json()["token"]
        hub, analyst = issued(f"{base}/api/dfc/enterprises/hub-a"), issued("https://analysts.example/ana", ["Analytics"])
        browser = requests.Session()
        anonymous = _form_token(browser.get(base + "/", headers=HTML, timeout=30).text)
        r = browser.post(base + "/pages/sign-in", data={"token": hub, "csrf_token": anonymous}, timeout=30,
                         allow_redirects=False)
        assert r.status_code == 303
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
        signed_in = _form_token(browser.get(base + "/pages/enterprises/hub-a", headers=HTML, timeout=30).text)
        assert signed_in != anonymous
        r = browser.post(base + "/sparql", data={"token": analyst, "csrf_token": signed_in, "query": ""},
                         headers=HTML, timeout=30)
        assert "A token is kept" in r.text
        stale = browser.post(base + "/pages/sign-out", data={"csrf_token": anonymous}, headers=HTML, timeout=30,
                             allow_redirects=False)
        assert stale.status_code == 400 and "CSRF" in stale.text
        r = browser.post(base + "/pages/sign-out", data={"csrf_token": signed_in}, timeout=30, allow_redirects=False)
        assert r.status_code == 303
        assert "A token is kept" not in browser.get(base + "/sparql", headers=HTML, timeout=30).text
        again = browser.post(base + "/pages/sign-in", data={"token": hub, "csrf_token": signed_in}, headers=HTML,
                             timeout=30, allow_redirects=False)
        assert again.status_code == 400 and "CSRF" in again.text


def _rows(response, table: str) -> list[str]:
    """The body rows of the table with id `table`."""
    body = response.get_data(as_text=True)
    found = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', body, re.S)
    return re.findall(r"<tr>", found.group(1)) if found else []


def test_a_session_of_many_orders_is_shown_a_page_at_a_time():
    """A session's customer orders and a producer's wholesale orders come DFC_HUB_PAGE_SIZE to a
    page: thousands of orders make a page as long as a few do (here: 3 to a page, 7 orders)."""
    client = make_app(page_size=3).test_client()
    api = f"{BASE}/api/dfc/enterprises"
    hub, jean = token_for(client, f"{api}/hub-a"), token_for(client, f"{api}/jean-farm")
    for n in range(7):
        assert checkout(client, hub, "hub-a", name=f"Customer {n}").status_code == 201
        wholesale = {"@context": CTX, "@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": f"{api}/hub-a",
                     "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:hasPart": [
                         {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 0.1, "dfc-b:concerns": f"{api}/jean-farm/offers/carrots"}]}
        assert client.post("/api/dfc/enterprises/jean-farm/orders", headers=hub, **jsonld(wholesale)).status_code == 201
    session = "/pages/enterprises/hub-a/sale_sessions/week-48"
    seen = []
    for page, shown in ((1, 3), (2, 3), (3, 1)):
        r = client.get(f"{session}?page={page}", headers={**hub, **HTML})
        assert r.status_code == 200 and len(_rows(r, "customer-orders")) == shown, (page, _text(r))
        seen += re.findall(r'/orders/(\w+)">', r.get_data(as_text=True).split('id="customer-orders"')[1].split("</table>")[0])
        assert ("?page=%d" % (page + 1) in r.get_data(as_text=True)) == (page < 3)
    assert len(set(seen)) == 7
    assert "Rows 1–3 of 7" in _text(client.get(session, headers={**hub, **HTML}))
    assert client.get(f"{session}?page=4", headers={**hub, **HTML}).status_code == 404
    assert client.get(f"{session}?page=x", headers={**hub, **HTML}).status_code == 400
    board = "/pages/enterprises/jean-farm"       # 8 wholesale orders: the 7, and the session's
    assert [len(_rows(client.get(f"{board}?page={p}", headers={**jean, **HTML}), "wholesale-orders"))
            for p in (1, 2, 3)] == [3, 3, 2]


def test_the_cookie_keeps_no_token_anyone_could_read_back():
    """The session cookie is signed, not encrypted by Flask: whoever sees it (a proxy's log, a
    copied profile) must not find the API tokens in it, only what opens these pages (and /sparql)."""
    apps = []
    with serving(lambda base: apps.append(make_app(public_base_url=base)) or apps[0]) as base:
        app = apps[0]
        def issued(agent, scopes=()):
            return requests.post(f"{base}/api/admin/tokens", headers=admin(), timeout=30,
                                 json={"agent": agent, "scopes": list(scopes)}).json()["token"]
        hub, analyst = issued(f"{base}/api/dfc/enterprises/hub-a"), issued("https://analysts.example/ana", ["Analytics"])
        browser = requests.Session()
        form = _form_token(browser.get(base + "/", headers=HTML, timeout=30).text)
        browser.post(base + "/pages/sign-in", data={"token": hub, "csrf_token": form}, timeout=30)
        form = _form_token(browser.get(base + "/sparql", headers=HTML, timeout=30).text)
        browser.post(base + "/sparql", data={"token": analyst, "csrf_token": form, "query": ""}, headers=HTML, timeout=30)
        kept = app.session_interface.get_signing_serializer(app).loads(browser.cookies["session"])
        assert set(kept) >= {"page_token", "sparql_token"}
        assert not any(secret in str(value) for value in kept.values() for secret in (hub, analyst)), kept
        home = browser.get(base + "/", headers=HTML, timeout=30).text
        assert f"Signed in as <code>{base}/api/dfc/enterprises/hub-a</code>" in home
        r = browser.post(base + "/sparql", headers=HTML, timeout=30,
                         data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "csrf_token": form})
        assert r.status_code == 200 and 'id="results"' in r.text


def test_a_holders_table_names_the_largest_buyers_and_sums_the_rest(monkeypatch):
    """An item a hub sells to its own customers may be held by thousands: the table names the
    buyers holding the most (here 1) and counts the others in one row, summed."""
    from app.api.pages import boards
    monkeypatch.setattr(boards, "HOLDERS_SHOWN", 1)
    client = make_app().test_client()
    api = f"{BASE}/api/dfc/enterprises"
    jean = token_for(client, f"{api}/jean-farm")
    for buyer, quantity in (("hub-a", 3), ("hub-b", 2)):
        order = {"@context": CTX, "@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": f"{api}/{buyer}",
                 "dfc-b:hasOrderStatus": "dfc-v:Held", "dfc-b:hasPart": [
                     {"@type": "dfc-b:OrderLine", "dfc-b:quantity": quantity, "dfc-b:concerns": f"{api}/jean-farm/offers/carrots"}]}
        token = token_for(client, f"{api}/{buyer}")
        assert client.post("/api/dfc/enterprises/jean-farm/orders", headers=token, **jsonld(order)).status_code == 201
    body = client.get("/pages/enterprises/jean-farm", headers={**jean, **HTML}).get_data(as_text=True)
    rows = re.findall(r"<tr><th scope=\"row\">([^<]*)</th><td class=\"n\">([^<]*)</td>",
                      body.split('class="holders"')[1].split("</table>")[0])
    assert [(who.strip(), held) for who, held in rows] == [("Hub A", "3"), ("1 other buyer", "2")], rows
