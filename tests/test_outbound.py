"""The check every URL a user configures passes before the server calls it (webhooks, partners)."""
import pytest

from app.config import Settings
from app.outbound import UnsafeURL, check_url


@pytest.mark.parametrize("url", [
    "ftp://example.org/hook", "file:///etc/passwd", "gopher://x", "http://", "not a url",
    "http://user:pw@example.org/", "http://example.org:99999/",
])
def test_a_url_that_is_not_plain_http_is_refused(url):
    with pytest.raises(UnsafeURL) as caught:
        check_url(url, allow_private=True)
    assert caught.value.status == 422 and caught.value.extra["field"] == "url"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/", "http://localhost/", "http://10.0.0.1/", "http://169.254.169.254/latest",
    "http://192.168.1.4/", "http://172.16.0.9/", "http://[::1]/", "http://[fe80::1]/",
    "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/",
])
def test_loopback_private_and_link_local_hosts_are_refused_unless_allowed(url):
    with pytest.raises(UnsafeURL, match="does not call|does not resolve"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url


def test_a_public_address_passes():
    assert check_url("https://93.184.215.14/hooks", allow_private=False) == "https://93.184.215.14/hooks"


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeURL, match="does not resolve"):
        check_url("http://no-such-host.invalid/", allow_private=False)


@pytest.mark.parametrize("raw, value", [("true", True), ("1", True), ("false", False), ("0", False)])
def test_the_allow_private_switch_reads_as_the_environment_spells_it(raw, value):
    settings = Settings.load(environ={"DFC_HUB_WEBHOOK_ALLOW_PRIVATE": raw})
    assert settings.webhook_allow_private is value


def test_a_switch_that_is_neither_true_nor_false_stops_the_server():
    with pytest.raises(ValueError, match="not true or false"):
        Settings.load(environ={"DFC_HUB_WEBHOOK_ALLOW_PRIVATE": "maybe"})
