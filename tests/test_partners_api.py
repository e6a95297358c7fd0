"""A hub's partner platforms over the API: configured by the hub, the token never shown again."""
from __future__ import annotations

import pytest
from conftest import BASE, admin, make_app, token_for

HUB = "/api/dfc/enterprises/hub-a/partners/far"
FAR = "http://127.0.0.1:9/api/dfc/enterprises/far-farm"
BODY = {"enterprise": FAR, "catalog": FAR + "/catalog", "orders": FAR + "/orders", "token": "s3cret-t0ken"}


@pytest.fixture
def client():
    return make_app(webhook_allow_private=True).test_client()


def test_a_partner_is_created_replaced_read_and_removed_without_its_token_ever_shown(client):
    hub = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    assert client.put(HUB, json=BODY, headers=hub).status_code == 201
    assert client.put(HUB, json={k: v for k, v in BODY.items() if k != "token"}, headers=hub).status_code == 200
    for accept in ("application/ld+json", "text/turtle", "application/n-triples"):
        r = client.get(HUB, headers={**hub, "Accept": accept})
        assert r.status_code == 200 and FAR in r.get_data(as_text=True)
        assert "s3cret" not in r.get_data(as_text=True)
    analyst = token_for(client, "https://analysts.example/ana", ["Analytics"])
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"},
                   headers={**analyst, "Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and "s3cret" not in r.get_data(as_text=True)
    assert client.delete(HUB, headers=hub).status_code == 204
    assert client.get(HUB, headers=hub).status_code == 404


def test_only_the_hub_configures_its_partners(client):
    other = token_for(client, f"{BASE}/api/dfc/enterprises/hub-b")
    assert client.put(HUB, json=BODY, headers=other).status_code == 403
    assert client.put(HUB, json=BODY).status_code == 401


@pytest.mark.parametrize("change,where", [
    ({"catalog": "file:///etc/passwd"}, "catalog"),
    ({"orders": "ftp://far.example/orders"}, "orders"),
    ({"enterprise": BASE + "/api/dfc/enterprises/jean-farm"}, "enterprise"),
    ({"catalog": "http://127.0.0.1:10/api/dfc/enterprises/far-farm/catalog"}, "catalog"),   # off the producer's origin
    ({"token": ""}, "token"),
    ({"token": "a\r\nX-Injected: 1"}, "token"),
    ({"token": "tok€"}, "token"),                   # an HTTP header cannot carry it: every call failed (500)
    ({"token": "токен"}, "token"),
    ({"token": "a\u200bb"}, "token"),
    ({"token": "two words"}, "token"),
    ({"token": None, "auth": {"kind": "bearer", "token": "tok€"}}, "/auth/token"),
    ({"extra": 1}, "/extra"),
    ({"enterprise": "http://127.0.0.1:9/api/dfc/enterprises/far farm"}, "enterprise"),   # no IRI: was a 500
    ({"enterprise": "http://127.0.0.1:9/api/dfc/enterprises/%zz"}, "enterprise"),
])
def test_a_bad_partner_is_a_422_naming_the_field_and_stores_nothing(client, change, where):
    store = client.application.extensions["dfc_hub"].store
    written = store.generation
    r = client.put(HUB, json={k: v for k, v in {**BODY, **change}.items() if v is not None}, headers=admin())
    assert r.status_code == 422, r.get_data(as_text=True)
    problem = r.get_json()
    assert where in (problem.get("field"), problem.get("pointer"))
    assert store.generation == written


def test_loopback_urls_are_refused_unless_the_deployment_allows_them():
    client = make_app().test_client()
    r = client.put(HUB, json=BODY, headers=admin())
    assert r.status_code == 422 and r.get_json()["field"] == "enterprise"


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
                                  b"\xff\xfe", b"{"], ids=["deep array", "deep object", "not UTF-8", "cut short"])
def test_a_partner_body_that_is_no_usable_json_is_a_400_and_stores_nothing(client, body):
    store = client.application.extensions["dfc_hub"].store
    written = store.generation
    r = client.put(HUB, data=body, headers={**admin(), "Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert store.generation == written
