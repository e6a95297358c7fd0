"""A real browser for the server-rendered pages: Debian's Chromium, JavaScript off, through Selenium.

The driver is given by path, so Selenium never downloads one; `make test` installs both where
apt-get can. Tests import `browser` (a fixture), `NEEDS_CHROMIUM` and `click_and_wait`.
"""
from __future__ import annotations

import shutil

import pytest

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed: `make test` installs them where it "
           "can run apt-get (as root); elsewhere run `apt-get install chromium chromium-driver` to run this test")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    # No JavaScript at all: the pages must work as plain HTML forms.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
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
