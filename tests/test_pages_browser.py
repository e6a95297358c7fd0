"""The pages (API.md "Pages") in a real browser, JavaScript off: the Jean scenario walked by its people.

Jean's farm has 10 kg of carrots; Ali checks out 2 kg at Hub A (through the API, as a shop
would). Jean signs in and reads the board: on hand 10, held 2, available 8, Hub A holding 2.
Hub A opens its session board (2 ordered) and closes the session with its button, confirming
it; the API then shows the wholesale order Complete. Jean confirms it on the order's page.
Another enterprise's token gets 403 pages; a form sent without its CSRF token changes nothing.
axe-core (tests/support/axe, `make axe`) checks every page opened for serious and critical
violations. With PAGES_SCREENSHOTS set (`make screenshots`), each page is saved there for
docs/pages.md.
"""
from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
import requests

from app.cli import FIXTURES
from app.domain.clock import ManualClock
from app.runtime.loading import load_files
from conftest import ADMIN, DEMO_MONDAY, make_app
from support.browser import NEEDS_CHROMIUM, axe_checker, browser, click_and_wait  # noqa: F401 - fixtures
from support.threaded_server import serving

pytestmark = [NEEDS_CHROMIUM, pytest.mark.calendar]

CTX = "https://www.datafoodconsortium.org"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
SHOTS = os.environ.get("PAGES_SCREENSHOTS")


@pytest.fixture
def server(tmp_path):
    """The demo data on a real server on 127.0.0.1, its clock on the Monday of session week-48."""
    clock = ManualClock(DEMO_MONDAY)

    def app(base):
        made = make_app(demo=False, clock=clock, store=f"oxigraph:{tmp_path / 'store'}", public_base_url=base)
        load_files(made.extensions["dfc_hub"].store, sorted((FIXTURES / "demo").glob("*.json")), base + "/api/dfc/")
        return made

    with serving(app) as base:
        yield base


def _token(base: str, eid: str) -> str:
    r = requests.post(f"{base}/api/admin/tokens", json={"agent": f"{base}/api/dfc/enterprises/{eid}", "scopes": []},
                      headers=ADMIN_H, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def _checkout(base: str, token: str, kg: int) -> None:
    """Ali's checkout at Hub A, as a shop sends it."""
    api = f"{base}/api/dfc/enterprises"
    doc = {"@context": CTX, "@graph": [
        {"@id": "#", "@type": "dfc-b:Order", "dfc-b:orderedBy": "_:ali", "dfc-b:hasOrderStatus": "dfc-v:Held",
         "dfc-b:belongsTo": f"{api}/hub-a/sale_sessions/week-48",
         "dfc-b:hasPart": [{"@type": "dfc-b:OrderLine", "dfc-b:quantity": kg,
                            "dfc-b:concerns": f"{api}/hub-a/offers/jean-carrots"}]},
        {"@id": "_:ali", "@type": "dfc-b:Person", "dfc-b:firstName": "Ali"}]}
    r = requests.post(f"{api}/hub-a/orders", json=doc, timeout=30,
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text


def _wholesale(base: str, token: str) -> dict:
    r = requests.get(f"{base}/api/dfc/enterprises/hub-a/sale_sessions/week-48/wholesale_orders", timeout=30,
                     headers={"Authorization": f"Bearer {token}", "Accept": "application/ld+json"})
    assert r.status_code == 200, r.text
    body = r.json()
    [order] = [n for n in body.get("@graph", [body]) if n.get("@type") == "dfc-b:Order"]
    return order


class Walk:
    """The browser on the server: open pages, check each with axe-core, save it when asked."""

    def __init__(self, browser, base: str, axe):
        self.browser, self.base, self.axe, self.checked = browser, base, axe, []

    def by(self, css: str):
        from selenium.webdriver.common.by import By
        return self.browser.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list:
        from selenium.webdriver.common.by import By
        return self.browser.find_elements(By.CSS_SELECTOR, css)

    def open(self, path: str, shot: str | None = None) -> None:
        self.browser.get(self.base + path)
        self.check(shot)

    def click(self, button: str, then: str, shot: str | None = None) -> None:
        click_and_wait(self.browser, button, then)
        self.check(shot)

    def sign_in(self, token: str, shot: str | None = None) -> None:
        self.open("/", shot)
        self.by("#token").send_keys(token)
        self.click("sign-in", "main")

    def sign_out(self) -> None:
        self.click("sign-out", "token")

    def check(self, shot: str | None) -> None:
        """No serious or critical axe-core violation on the page shown now; its screenshot when asked."""
        if self.axe is not None:
            bad = self.axe(self.browser)
            assert not bad, (self.browser.current_url, bad)
            self.checked.append(self.browser.current_url)
        if shot and SHOTS:
            # The whole page, past the window's height (the headless window is no taller than its screen).
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            shot_png = self.browser.execute_cdp_cmd("Page.captureScreenshot",
                                                    {"format": "png", "captureBeyondViewport": True})
            (Path(SHOTS) / f"{shot}.png").write_bytes(base64.b64decode(shot_png["data"]))

    def fits_a_phone(self) -> bool:
        """Readable on a phone: at 390 pixels wide nothing but a table's own scrolling box is wider."""
        self.browser.set_window_size(390, 844)
        try:
            return self.browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        finally:
            self.browser.set_window_size(1000, 900)

    def figures(self, item: str) -> dict[str, str]:
        return {cell.get_attribute("data-figure"): cell.text for cell in self.all(f"#item-{item} td[data-figure]")}


def test_the_jean_scenario_through_the_pages(server, browser, axe_checker):
    base = server
    tokens = {eid: _token(base, eid) for eid in ("jean-farm", "hub-a", "hub-b")}
    _checkout(base, tokens["hub-a"], 2)
    browser.set_window_size(1000, 900)
    walk = Walk(browser, base, axe_checker)

    # Jean's board: the carrots' ledger, and who holds them.
    walk.sign_in(tokens["jean-farm"], "home")
    assert browser.current_url == base + "/pages/enterprises/jean-farm"
    walk.check("producer-board")
    figures = walk.figures("carrots")
    assert (figures["on hand"], figures["held"], figures["available"]) == ("10", "2", "8"), figures
    holders = {row.find_element("css selector", "th").text: row.text for row in walk.all("#item-carrots table.holders tbody tr")}
    assert "Hub A" in holders and " 2 " in holders["Hub A"] + " ", holders
    assert "available: 8" in walk.by("#chart-carrots figcaption").text          # the chart's text equivalent
    assert walk.fits_a_phone()
    walk.sign_out()

    # Hub A: its board, its session board, the close with its confirmation.
    walk.sign_in(tokens["hub-a"])
    assert browser.current_url == base + "/pages/enterprises/hub-a"
    walk.check("hub-board")
    walk.by("#sale-sessions a").click()
    walk.check("session-board")
    ordered = [c.text for c in walk.all("#summary td[data-column=ordered]")]
    assert ordered == ["2"], ordered
    assert walk.fits_a_phone()
    walk.click("close", "confirm-close", "close-confirmation")
    walk.click("confirm-close", "notice")
    assert walk.by("#session-state").text == "closed"
    assert _wholesale(base, tokens["hub-a"])["dfc-b:hasOrderStatus"] in ("dfc-v:Complete", {"@id": "dfc-v:Complete"})
    walk.sign_out()

    # Jean confirms the wholesale order on its page.
    walk.sign_in(tokens["jean-farm"])
    walk.by("#wholesale-orders a").click()
    walk.check("order")
    assert walk.by("#move-confirmed").text == "Confirm"
    assert walk.fits_a_phone()
    walk.click("move-confirmed", "notice", "order-confirmed")
    assert walk.by("#order-status").text == "confirmed"
    order = _wholesale(base, tokens["hub-a"])
    assert order["hub:status"] in ("hub:confirmed", {"@id": "hub:confirmed"}), order

    # A move the order no longer allows (shipped through the API meanwhile): the API's 409, on the page.
    [ship] = walk.all("button[id^=ship-]")
    path = browser.current_url[len(base):].replace("/pages/", "/api/dfc/")
    r = requests.post(f"{base}{path}/deliveries/{ship.get_attribute('id')[5:]}/ship", timeout=30,
                      headers={"Authorization": f"Bearer {tokens['jean-farm']}", "Accept": "application/ld+json"})
    assert r.status_code == 200, r.text
    walk.click("move-producing", "error", "order-refused")
    assert "cannot move to producing (it is final)" in walk.by("#error").text
    assert walk.by("#order-status").text == "shipped"
    assert len(walk.checked) >= 8 or axe_checker is None


def test_another_enterprises_token_gets_403_pages(server, browser, axe_checker):
    base = server
    walk = Walk(browser, base, axe_checker)
    walk.open("/pages/enterprises")
    assert [a.text for a in walk.all("#boards a")][:1] == ["Hub A"]
    walk.sign_in(_token(base, "hub-b"))
    for path in ("/pages/enterprises/jean-farm", "/pages/enterprises/hub-a/sale_sessions/week-48"):
        walk.open(path, "refused" if "jean" in path else None)
        assert "Forbidden" in browser.title and "may not read" in walk.by("#refusal").text
    walk.sign_out()
    walk.open("/pages/enterprises/jean-farm")
    assert walk.all("#token"), "not signed in: the sign-in form"


def test_a_form_without_its_csrf_token_changes_nothing(server, browser, axe_checker):
    """A forged form: the victim's cookie rides along (as if the site were not strict), the token does not."""
    base = server
    tokens = {eid: _token(base, eid) for eid in ("hub-a",)}
    _checkout(base, tokens["hub-a"], 2)
    http = requests.Session()
    page = http.get(base + "/", headers={"Accept": "text/html"}, timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = http.post(base + "/pages/sign-in", data={"token": tokens["hub-a"], "csrf_token": csrf}, timeout=30,
                  allow_redirects=False)
    assert r.status_code == 303
    close = base + "/pages/enterprises/hub-a/sale_sessions/week-48/close"
    for forged in ({"confirm": "yes"}, {"confirm": "yes", "csrf_token": "forged"}):
        r = http.post(close, data=forged, headers={"Accept": "text/html"}, timeout=30)
        assert r.status_code == 400 and "CSRF" in r.text, r.text[:500]
    assert _wholesale(base, tokens["hub-a"])["dfc-b:hasOrderStatus"] in ("dfc-v:Held", {"@id": "dfc-v:Held"})
    # In the browser, the same session board still offers its close: nothing happened.
    walk = Walk(browser, base, axe_checker)
    walk.sign_in(tokens["hub-a"])
    walk.open("/pages/enterprises/hub-a/sale_sessions/week-48")
    assert walk.by("#session-state").text == "open"


def test_the_accessibility_check_sees_a_violation(browser, axe_checker):
    """The check is no wall of silence: an image without a text alternative is a critical violation."""
    if axe_checker is None:
        pytest.skip("axe-core is not installed (`make axe` installs it with npm)")
    browser.get("data:text/html,<!doctype html><html lang=en><title>t</title><main><h1>t</h1><img src=x></main></html>")
    assert "image-alt" in {v["id"] for v in axe_checker(browser)}


def test_the_sparql_page_offers_the_analysts_queries_and_draws_a_chart(server, browser, axe_checker):
    base = server
    r = requests.post(f"{base}/api/admin/tokens", headers=ADMIN_H, timeout=30,
                      json={"agent": "https://analysts.example/ana", "scopes": ["Analytics"]})
    walk = Walk(browser, base, axe_checker)
    walk.open("/sparql")
    titles = [a.text for a in walk.all("#examples a")]
    assert "Reserved vs available per producer" in titles, titles
    walk.all("#examples a")[titles.index("Reserved vs available per producer")].click()
    assert "hub:onHand" in walk.by("#query").get_attribute("value")
    walk.by("#token").send_keys(r.json()["token"])
    walk.click("run", "results", "sparql-chart")
    chart = walk.by("#chart")
    assert chart.find_element("css selector", "svg") and "onHand by producer: jean-farm: 10" in chart.text, chart.text
