"""The /sparql query page in a real browser with JavaScript off: a token once, queries, tables."""
from __future__ import annotations

import pytest
import requests
from conftest import ADMIN
from support.browser import NEEDS_CHROMIUM, browser, click_and_wait  # noqa: F401 - a fixture

# Queries of the demo's offers and a token kept for the page's session: no date is read or compared.
pytestmark = [NEEDS_CHROMIUM, pytest.mark.dateless("no answer here holds or depends on a date")]
DFC_B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"


def run(browser, query: str, fmt: str = "table", token: str | None = None) -> None:
    """Fill the form, submit it, and wait for the answer page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    if token is not None:
        browser.find_element(By.ID, "token").send_keys(token)
    box = browser.find_element(By.ID, "query")
    box.clear()
    box.send_keys(query)
    Select(browser.find_element(By.ID, "format")).select_by_value(fmt)
    click_and_wait(browser, "run", "query")


def test_a_token_once_then_queries_as_tables(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base = live_server()
    token = requests.post(base + "/api/admin/tokens", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10,
                          json={"agent": "https://analysts.example/ana", "scopes": ["Analytics"]}).json()["token"]
    browser.get(base + "/sparql")
    assert "SPARQL query" in browser.title

    run(browser, f"SELECT ?offer WHERE {{ ?offer a <{DFC_B}Offer> }} ORDER BY ?offer", token=token)
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#results tbody td")]
    assert cells == sorted(f"{base}/api/dfc/enterprises/{e}/offers/{o}" for e, o in
                           (("jean-farm", "carrots"), ("hub-a", "jean-carrots"), ("hub-b", "jean-carrots")))
    assert browser.find_elements(By.ID, "token") == []          # kept for the session: not asked again

    run(browser, f"CONSTRUCT {{ ?o a <{DFC_B}Offer> }} WHERE {{ ?o a <{DFC_B}Offer> }}")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results th")]
    assert headers == ["subject", "predicate", "object"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 3

    run(browser, f"ASK {{ ?o a <{DFC_B}Offer> }}")
    assert browser.find_element(By.CSS_SELECTOR, "#results tbody td").text == "true"
    browser.save_screenshot(str(tmp_path / "sparql.png"))

    click_and_wait(browser, "forget", "query")
    assert browser.find_element(By.ID, "token")                 # forgotten: asked again


def test_a_bad_token_or_a_bad_query_is_said_on_the_page(live_server, browser):
    from selenium.webdriver.common.by import By

    base = live_server()
    browser.get(base + "/sparql")
    run(browser, "ASK { ?s ?p ?o }", token="not-a-token")
    assert "Unauthorized" in browser.find_element(By.ID, "error").text
    run(browser, "DELETE WHERE { ?s ?p ?o }", token=ADMIN)
    assert "read-only" in browser.find_element(By.ID, "error").text
