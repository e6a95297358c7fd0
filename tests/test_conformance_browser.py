"""The /conformance page in a real browser with JavaScript switched off: paste, submit, read the hints.

Drives Debian's Chromium (`chromium`, `chromium-driver`) through Selenium, with the driver given
by path so Selenium never downloads one. `make test` installs both where apt-get can.
"""
from __future__ import annotations

import json
import shutil

import pytest

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed: `make test` installs them where it "
           "can run apt-get (as root); elsewhere run `apt-get install chromium chromium-driver` to run this test")

SESSION = {"@context": "https://www.datafoodconsortium.org", "@id": "https://p.example/s",
           "@type": "dfc-b:SaleSession", "dfc-b:beginDate": "Thu Aug 22 2024 05:40:38 UTC"}
# The DFC connector's own SaleSession example: its dates are the placeholders "beginDate", "endDate".
PLACEHOLDERS = {"@context": "https://www.datafoodconsortium.org", "@id": "http://myplatform.com/saleSession1",
                "@type": "dfc-b:SaleSession", "dfc-b:beginDate": "beginDate", "dfc-b:endDate": "endDate",
                "dfc-b:lists": {"@id": "http://myplatform.com/offer1"}, "dfc-b:quantity": "5"}


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
    # No JavaScript at all: the page must work as a plain HTML form.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def submit_and_wait(browser) -> None:
    """Submit the form and wait for the report page: a click returns before the page loads."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    form_page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, "check").click()
    WebDriverWait(browser, 60).until(ec.staleness_of(form_page))
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "verdict")))


def test_pasting_a_payload_and_submitting_shows_the_report_with_hints(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = live_server()
    browser.get(base + "/conformance")
    assert "DFC conformance check" in browser.title
    browser.find_element(By.ID, "payload").send_keys(json.dumps(SESSION))
    Select(browser.find_element(By.ID, "profile")).select_by_value("sale_session")
    submit_and_wait(browser)

    verdict = browser.find_element(By.ID, "verdict").text
    assert "Conforms" in verdict and "profile sale_session" in verdict
    page = browser.find_element(By.ID, "report").text
    assert "https://p.example/s" in page
    assert "Did you mean dfc-b:startDate?" in page                 # beginDate, renamed
    assert '"2024-08-22T05:40:38Z"' in page                        # the JavaScript date, in ISO 8601
    browser.save_screenshot(str(tmp_path / "conformance.png"))


def test_uploading_a_file_shows_its_violations_first(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base = live_server()
    browser.get(base + "/conformance")
    path = tmp_path / "connector-ts_SaleSession.json"
    path.write_text(json.dumps(PLACEHOLDERS))
    browser.find_element(By.ID, "file").send_keys(str(path))
    submit_and_wait(browser)

    assert "Does not conform" in browser.find_element(By.ID, "verdict").text
    severities = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result .severity")]
    assert severities[0] == "Violation" and severities == sorted(severities, key=["Violation", "Warning", "Info"].index)
    assert "looks like a placeholder" in browser.find_element(By.ID, "report").text
