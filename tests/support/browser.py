"""A real browser for the server-rendered pages: Debian's Chromium, JavaScript off, through Selenium.

The driver is given by path, so Selenium never downloads one; `make test` installs both where
apt-get can. Tests import `browser` (a fixture), `NEEDS_CHROMIUM` and `click_and_wait`; pages
are checked for accessibility with `axe_checker` (a fixture) and `AXE` (axe-core, `make axe`).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.oxigraph_server import free_port

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed: `make test` installs them where it "
           "can run apt-get (as root); elsewhere run `apt-get install chromium chromium-driver` to run this test")


def _chromium(profile, javascript: bool):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    # Our free_port, not Selenium's: Selenium picks a port that was free a moment ago, and takes
    # whatever then answers on it for chromedriver (support/oxigraph_server.py free_port).
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, port=free_port()), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


@pytest.fixture
def browser(tmp_path):
    # No JavaScript at all: the pages must work as plain HTML forms.
    driver = _chromium(tmp_path / "profile", javascript=False)
    yield driver
    driver.quit()


@pytest.fixture
def axe_checker(tmp_path):
    """`check(browser) -> violations`: axe-core's serious and critical findings on the page `browser` shows.

    axe-core needs JavaScript and the pages' browser has none (with it off, axe's promises never
    settle), so a second Chromium, with JavaScript on, is handed the page as the first one shows
    it (the pages load no script and style themselves inline, so it renders the same) at the same
    size, and axe-core runs there. None when axe-core is not installed (`make axe`)."""
    if not AXE.exists():
        yield None
        return
    driver = _chromium(tmp_path / "axe-profile", javascript=True)
    source = AXE.read_text(encoding="utf-8")

    def check(shown) -> list[dict]:
        size = shown.get_window_size()
        driver.set_window_size(size["width"], size["height"])
        driver.get("about:blank")
        driver.execute_script("document.open(); document.write(arguments[0]); document.close();",
                              shown.execute_script("return document.documentElement.outerHTML"))
        driver.execute_script(source)
        found = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ("
            "{id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))")
        return [v for v in found if v["impact"] in ("serious", "critical")]

    yield check
    driver.quit()


def click_and_wait(browser, button_id: str, then_id: str) -> None:
    """Click a button and wait until the next page shows `then_id`.

    A click returns before the next page loads, so wait for the old page to go first. While it
    goes, Chromium may answer a question about it with a passing "unknown error" (seen on CI):
    such answers are asked again, not failures.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, button_id).click()
    wait = WebDriverWait(browser, 60, ignored_exceptions=(WebDriverException,))
    wait.until(ec.staleness_of(page))
    wait.until(ec.presence_of_element_located((By.ID, then_id)))
