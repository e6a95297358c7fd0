"""The /conformance page in a real browser with JavaScript switched off: paste, submit, read the hints."""
from __future__ import annotations

import json

import pytest

from support.browser import NEEDS_CHROMIUM, browser, click_and_wait  # noqa: F401 - a fixture

# The validator reads no clock: a payload's dates are checked and converted, never compared with today.
pytestmark = [NEEDS_CHROMIUM, pytest.mark.dateless("validation reads no clock")]

SESSION = {"@context": "https://www.datafoodconsortium.org", "@id": "https://p.example/s",
           "@type": "dfc-b:SaleSession", "dfc-b:beginDate": "Thu Aug 22 2024 05:40:38 UTC"}
# The DFC connector's own SaleSession example: its dates are the placeholders "beginDate", "endDate".
PLACEHOLDERS = {"@context": "https://www.datafoodconsortium.org", "@id": "http://myplatform.com/saleSession1",
                "@type": "dfc-b:SaleSession", "dfc-b:beginDate": "beginDate", "dfc-b:endDate": "endDate",
                "dfc-b:lists": {"@id": "http://myplatform.com/offer1"}, "dfc-b:quantity": "5"}


def submit_and_wait(browser) -> None:
    """Submit the form and wait for the report page."""
    click_and_wait(browser, "check", "verdict")


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
