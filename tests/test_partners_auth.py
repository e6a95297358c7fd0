"""A partner's `auth` over the API: checked when given, kept apart, never shown, kept when left out."""
from __future__ import annotations

import concurrent.futures

import pytest
import requests
from conftest import BASE, admin, make_app, token_for
from support.threaded_server import serving
from support.trickler import trickling

from app.domain import documents as docs
from app.partners import credentials as creds
from app.partners import desk
from app.partners.tokens import _kept

HUB = "/api/dfc/enterprises/hub-a/partners/far"
FAR = "http://127.0.0.1:9/api/dfc/enterprises/far-farm"
URLS = {"enterprise": FAR, "catalog": FAR + "/catalog", "orders": FAR + "/orders"}
CLIENT = {"kind": "client_credentials", "token_url": "http://127.0.0.1:9/token", "client_id": "hub-a",
          "client_secret": "cl1ent-s3cret", "scope": "WriteOrders"}
REFRESH = {"kind": "refresh_token", "token_url": "http://127.0.0.1:9/token", "client_id": "hub-a",
           "refresh_token": "r3fresh-t0ken"}


@pytest.fixture
def client():
    return make_app(webhook_allow_private=True).test_client()


def _kept_credentials(client):
    store = client.application.extensions["dfc_hub"].store
    node = desk.iri(docs.Namespace(BASE, "hub-a"), "far")
    return creds.read(store.graph(desk.token_graph(node)), node)


@pytest.mark.parametrize("auth", [CLIENT, REFRESH, {**CLIENT, "token_endpoint_auth_method": "client_secret_post"},
                                  {"kind": "bearer", "token": "b3arer-t0ken"}])
def test_each_kind_of_auth_is_kept_apart_and_never_shown(client, auth):
    hub = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    assert client.put(HUB, json={**URLS, "auth": auth}, headers=hub).status_code == 201
    analyst = token_for(client, "https://analysts.example/ana", ["Analytics"])
    texts = [client.get(HUB, headers={**hub, "Accept": accept}).get_data(as_text=True)
             for accept in ("application/ld+json", "text/turtle", "application/n-triples")]
    texts.append(client.get("/sparql", query_string={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"},
                            headers={**analyst, "Accept": "application/sparql-results+json"}).get_data(as_text=True))
    for secret in ("cl1ent-s3cret", "r3fresh-t0ken", "b3arer-t0ken"):
        assert not any(secret in t for t in texts)
    kept = _kept_credentials(client)
    assert kept.kind == auth["kind"] and kept.client_secret == auth.get("client_secret")
    assert kept.refresh_token == auth.get("refresh_token")


def test_a_put_without_auth_keeps_the_credentials_and_what_they_became(client):
    assert client.put(HUB, json={**URLS, "auth": REFRESH}, headers=admin()).status_code == 201
    assert client.put(HUB, json={**URLS, "catalog": FAR + "/catalog?all"}, headers=admin()).status_code == 200
    assert _kept_credentials(client).refresh_token == "r3fresh-t0ken"
    assert client.put(HUB, json={**URLS, "token": "plain"}, headers=admin()).status_code == 200
    assert _kept_credentials(client) == creds.Credentials("bearer", token="plain", origins=frozenset({"http://127.0.0.1:9"}))


@pytest.mark.parametrize("body,where", [
    ({"auth": {"kind": "password", "username": "x"}}, "/auth/kind"),
    ({"auth": "s3cret"}, "/auth"),
    ({"auth": {**CLIENT, "extra": "1"}}, "/auth/extra"),
    ({"auth": {k: v for k, v in CLIENT.items() if k != "client_secret"}}, "/auth/client_secret"),
    ({"auth": {k: v for k, v in REFRESH.items() if k != "refresh_token"}}, "/auth/refresh_token"),
    ({"auth": {**CLIENT, "token_url": "file:///etc/passwd"}}, "auth/token_url"),
    ({"auth": {**CLIENT, "client_secret": "a\r\nX: 1"}}, "/auth/client_secret"),
    ({"auth": {**CLIENT, "scope": 7}}, "/auth/scope"),
    ({"auth": {**CLIENT, "token_endpoint_auth_method": "private_key_jwt"}}, "/auth/token_endpoint_auth_method"),
    ({"auth": {**REFRESH, "token_endpoint_auth_method": "client_secret_post"}}, "/auth/client_secret"),
    ({"auth": CLIENT, "token": "both"}, "auth"),
    ({}, "/token"),
])
def test_a_bad_auth_is_a_422_naming_where_and_stores_nothing(client, body, where):
    store = client.application.extensions["dfc_hub"].store
    written = store.generation
    r = client.put(HUB, json={**URLS, **body}, headers=admin())
    assert r.status_code == 422, r.get_data(as_text=True)
    problem = r.get_json()
    assert where in (problem.get("field"), problem.get("pointer")), problem
    assert store.generation == written


def test_a_token_response_is_kept_until_a_margin_before_it_expires_and_a_rotated_refresh_token_replaces_the_old():
    held = creds.Credentials("refresh_token", token_url="https://idp.example/token", client_id="hub",
                             refresh_token="old")
    kept = _kept(held, {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "refresh_token": "new"}, 1000.0)
    assert (kept.access_token, kept.refresh_token, kept.usable_until, kept.refreshes) == ("at", "new", 1240.0, 1)
    assert kept.usable(1239.0) == "at" and kept.usable(1240.0) is None
    same = _kept(held, {"access_token": "at", "token_type": "bearer", "expires_in": 2}, 1000.0)
    assert same.refresh_token == "old" and same.usable_until == 1001.0
    forever = _kept(held, {"access_token": "at", "token_type": "Bearer"}, 1000.0)
    assert forever.usable(10**12) == "at"        # no expires_in: used until the partner answers 401


def test_a_hostile_token_response_gives_no_usable_token_and_no_error():
    # A provider may answer a lifetime of 400 digits (OverflowError: once a 500) or an access
    # token no HTTP header can carry (each call with it failed, 500).
    held = creds.Credentials("client_credentials", token_url="https://idp.example/token", client_id="hub",
                             client_secret="s")
    huge = _kept(held, {"access_token": "at", "token_type": "Bearer", "expires_in": 10**400}, 0.0)
    assert huge.access_token == "at" and huge.usable_until is None
    for bad in ("tok€", "токен", "a b", ""):
        assert _kept(held, {"access_token": bad, "token_type": "Bearer"}, 0.0).access_token is None


@pytest.mark.parametrize("moved", ["catalog", "orders"])
def test_moving_a_url_of_an_oauth_partner_to_another_origin_needs_its_auth_again(client, moved):
    assert client.put(HUB, json={**URLS, "auth": CLIENT}, headers=admin()).status_code == 201
    elsewhere = {**URLS, moved: URLS[moved].replace("127.0.0.1:9", "127.0.0.1:10")}
    if moved == "catalog":
        elsewhere["enterprise"] = elsewhere["catalog"].removesuffix("/catalog")
    r = client.put(HUB, json=elsewhere, headers=admin())
    assert r.status_code == 422 and r.get_json()["required"] == ["auth"], r.get_data(as_text=True)
    assert client.put(HUB, json={**elsewhere, "auth": CLIENT}, headers=admin()).status_code == 200
    assert _kept_credentials(client).origins == {"http://127.0.0.1:9", "http://127.0.0.1:10"}


def test_a_token_url_moves_only_with_the_credentials(client):
    assert client.put(HUB, json={**URLS, "auth": REFRESH}, headers=admin()).status_code == 201
    moved = {k: v for k, v in REFRESH.items() if k != "refresh_token"}
    r = client.put(HUB, json={**URLS, "auth": {**moved, "token_url": "http://127.0.0.1:10/token"}}, headers=admin())
    assert r.status_code == 422 and r.get_json()["pointer"] == "/auth/refresh_token"
    assert _kept_credentials(client).token_url == REFRESH["token_url"]


def test_a_token_response_without_a_bearer_token_still_keeps_the_refresh_token_it_rotated_to():
    held = creds.Credentials("refresh_token", token_url="https://idp.example/token", client_id="hub",
                             refresh_token="old")
    kept = _kept(held, {"access_token": "at", "token_type": "DPoP", "expires_in": "60", "refresh_token": "new"}, 0.0)
    assert kept.access_token is None and kept.refresh_token == "new"
    assert _kept(held, {"access_token": "at", "token_type": "Bearer", "expires_in": "60"}, 0.0).usable_until == 45.0


def _token_answer(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


def _sync_with_token_endpoint(client, answer: bytes):
    """Configure the partner with a refresh_token auth whose endpoint answers `answer`, and sync
    (its catalogue at 127.0.0.1:9 is unreachable: the token request is what the sync exercises)."""
    with trickling(0, answer=_token_answer(answer)) as idp:
        auth = {**REFRESH, "token_url": f"{idp.url}/token"}
        assert client.put(HUB, json={**URLS, "auth": auth}, headers=admin()).status_code == 201
        r = client.post(f"{HUB}/sync", headers=admin())
        assert len(idp.requests) == 1
    return r


@pytest.mark.parametrize("answer", [
    b'{"access_token": "at", "token_type": "bearer", "expires_in": 1e400}',     # Authlib: int(inf)
    b'{"access_token": "at", "token_type": "bearer", "expires_in": [60]}',
    b'{"access_token": "at", "token_type": "bearer", "expires_at": [60]}',
    b'{"access_token": "at", "expires_at": "soon", "expires_in": {"s": 60}}',
    b"[" * 100_000 + b"]" * 100_000,                                            # json: RecursionError
], ids=["infinite lifetime", "lifetime a list", "expires_at a list", "both odd", "deep nesting"])
def test_a_token_endpoint_answering_garbage_is_a_502_or_503_never_a_500(client, answer):
    r = _sync_with_token_endpoint(client, answer)
    assert r.status_code in (502, 503), r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"


@pytest.mark.parametrize("lifetime", [b'"3600.5"', b'"soon"', b"1e400", b"[60]", b"-5"])
def test_a_refresh_token_rotated_in_an_answer_with_an_odd_lifetime_is_kept(client, lifetime):
    """The provider spent the old refresh token: losing the new one (Authlib's int() of the
    lifetime raised first) left the partner needing new credentials at the next refresh."""
    _sync_with_token_endpoint(client, b'{"access_token": "at", "token_type": "Bearer", "refresh_token": "r0tated", '
                                      b'"expires_in": ' + lifetime + b"}")
    kept = _kept_credentials(client)
    assert (kept.refresh_token, kept.access_token, kept.refreshes) == ("r0tated", "at", 1)


def test_a_token_endpoint_that_does_not_answer_holds_up_no_other_hubs_writes():
    """A renewal waits for the token endpoint (up to the partner deadline) inside its unit of
    work. It locked what every write naming no keys shares: one hub's stalled identity
    provider held up the partner settings, webhooks and tokens of every hub on the platform.
    It now locks the partner it renews for, and nothing else."""
    with trickling(3600) as idp, serving(lambda base: make_app(webhook_allow_private=True, public_base_url=base,
                                                             partner_timeout_seconds=120)) as base:
        api = f"{base}/api/dfc/enterprises"
        hub = f"{api}/hub-a/partners/far"
        auth = {**CLIENT, "token_url": f"{idp.url}/token"}
        assert requests.put(hub, json={**URLS, "auth": auth}, headers=admin()).status_code == 201
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            syncing = pool.submit(requests.post, f"{hub}/sync", headers=admin())
            idp.wait_for(1)                 # the renewal is under way, waiting for the provider
            writes = pool.submit(lambda: [
                requests.put(f"{api}/hub-b/partners/far", json={**URLS, "token": "t0ken"}, headers=admin()),
                requests.post(f"{api}/hub-b/webhooks", json={"url": f"{idp.url}/hook", "events": ["procurement.order_received"]},
                              headers=admin()),
                requests.post(f"{base}/api/admin/tokens", json={"agent": f"{api}/hub-b", "scopes": []}, headers=admin())])
            done, _ = concurrent.futures.wait([writes], timeout=60)      # a guard, not a measure
            idp.stop()                      # the provider breaks off: the sync ends
            assert done, "hub B's writes waited for hub A's token endpoint"
            assert [r.status_code for r in writes.result()] == [201, 201, 201]
            assert syncing.result().status_code in (502, 503)


# The secrets below as a provider may echo them: form-encoded as the body sent them, in base64
# alone or as the Basic header carried the client's (base64 of "hub-a:cl1ent/s3cret+").
SECRET = "cl1ent/s3cret+"
ECHOES = {"cl1ent%2Fs3cret%2B": "form-encoded", "Y2wxZW50L3MzY3JldCs=": "base64",
          "aHViLWE6Y2wxZW50JTJGczNjcmV0JTJC": "a Basic header's", "cjNmcmVzaC10MGtlbg==": "a refresh token in base64"}


@pytest.mark.parametrize("answer", [b'{"error": "r3fresh-t0ken"}', b'{"error": ["cl1ent/s3cret+"]}',
                                    b'{"error": "invalid_grant", "error_description": "r3fresh-t0ken is spent"}',
                                    *(b'{"error": "invalid_grant", "error_description": "got %s"}' % e.encode()
                                      for e in ECHOES),
                                    *(b'{"error": "%s"}' % e.encode() for e in ECHOES)])
def test_what_a_token_endpoint_echoes_of_the_credentials_is_never_shown(client, answer):
    """Its error description was blanked of our secrets; its error code, shown in the sync's
    answer, was not; nor were the secrets as the request had encoded them, which the partner's
    GET showed anyone who may read the enterprise."""
    with trickling(0, answer=_token_answer(answer).replace(b"200 OK", b"400 Bad Request")) as idp:
        auth = {**REFRESH, "client_secret": SECRET, "token_url": f"{idp.url}/token"}
        assert client.put(HUB, json={**URLS, "auth": auth}, headers=admin()).status_code == 201
        r = client.post(f"{HUB}/sync", headers=admin())
    assert r.status_code in (502, 503), r.get_data(as_text=True)
    shown = r.get_data(as_text=True) + client.get(HUB, headers=admin()).get_data(as_text=True)
    for secret in ("r3fresh-t0ken", SECRET, *ECHOES):
        assert secret not in shown, shown
