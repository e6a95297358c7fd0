"""Bearer tokens: admin, issued opaque tokens, RS256 JWTs from locally configured issuers."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from conftest import BASE, admin, jsonld, make_app, token_for
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
ISSUER = "https://login.example.test/realms/dfc"
OTHER_ISSUER = "https://other-platform.example.test"
HUB_B = f"{BASE}/api/dfc/enterprises/hub-b"
PATH = "/api/dfc/enterprises/jean-farm/supplied_products/kale"


def kale():
    return jsonld({"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:SuppliedProduct",
                   "dfc-b:name": "Kale"})


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def keys():
    return _key(), _key()


@pytest.fixture
def jwt_client(tmp_path, keys):
    trusted, other = keys
    issuers = tmp_path / "issuers.json"
    # The first issuer speaks for every enterprise of this server, the second for hub-b only.
    issuers.write_text(json.dumps({ISSUER: {"key": _pem(trusted), "agents": [f"{BASE}/api/dfc/enterprises/*"]},
                                   OTHER_ISSUER: {"key": _pem(other), "agents": [HUB_B]}}))
    return make_app(jwt_issuers=str(issuers)).test_client()


def signed(key, **claims):
    claims = {"iss": ISSUER, "exp": int(time.time()) + 600, **claims}
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="RS256")}


def test_reads_of_catalogue_data_need_no_token(read_client):
    assert read_client.get("/api/dfc/enterprises/jean-farm/catalog").status_code == 200


def test_writes_need_a_token_of_the_owner_with_the_right_scope(client):
    assert client.put(PATH, **kale()).status_code == 401
    hub_a = token_for(client, f"{BASE}/api/dfc/enterprises/hub-a")
    assert client.put(PATH, headers=hub_a, **kale()).status_code == 403
    reader = token_for(client, JEAN, ["ReadProducts"])
    assert client.put(PATH, headers=reader, **kale()).status_code == 403
    writer = token_for(client, JEAN, ["WriteProducts"])
    assert client.put(PATH, headers=writer, **kale()).status_code == 201
    unscoped = token_for(client, JEAN)
    assert client.delete(PATH, headers=unscoped).status_code == 204


def test_only_the_admin_issues_tokens(read_client):
    jean = token_for(read_client, JEAN)
    r = read_client.post("/api/admin/tokens", json={"agent": JEAN}, headers=jean)
    assert r.status_code == 403
    assert read_client.post("/api/admin/tokens", json={"agent": JEAN}).status_code == 401
    bad = read_client.post("/api/admin/tokens", json={"agent": JEAN, "scopes": ["Everything"]}, headers=admin())
    assert bad.status_code == 400 and "Everything" in bad.get_json()["detail"]


def test_a_jwt_from_a_trusted_issuer_acts_for_its_agent(jwt_client, keys):
    trusted, _ = keys
    assert jwt_client.put(PATH, headers=signed(trusted, sub=JEAN), **kale()).status_code == 201
    scoped = signed(trusted, sub=JEAN, scope="openid ReadProducts")
    assert jwt_client.put(PATH, headers=scoped, **kale()).status_code == 403
    foreign_only = signed(trusted, sub=JEAN, scope="openid profile")
    assert jwt_client.put(PATH, headers=foreign_only, **kale()).status_code == 403


@pytest.mark.parametrize("case", ["other key", "expired", "unknown issuer", "garbage", "hs256"])
def test_bad_jwts_are_401(jwt_client, keys, case):
    trusted, other = keys
    headers = {
        "other key": lambda: signed(other, sub=JEAN),
        "expired": lambda: signed(trusted, sub=JEAN, exp=int(time.time()) - 10),
        "unknown issuer": lambda: signed(trusted, sub=JEAN, iss="https://evil.test"),
        "garbage": lambda: {"Authorization": "Bearer a.b.c"},
        "hs256": lambda: {"Authorization": "Bearer " + jwt.encode(
            {"iss": ISSUER, "sub": JEAN, "exp": int(time.time()) + 60}, "secret-key-of-32-bytes-or-more!!",
            algorithm="HS256")},
    }[case]()
    r = jwt_client.put(PATH, headers=headers, **kale())
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert jwt_client.get(PATH).status_code == 404


# --- issue 9, findings 11 and 16: odd tokens are 401, never 500; issuers speak for their agents ---

def _unsigned(header: dict, claims: dict) -> dict:
    part = [base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode() for x in (header, claims)]
    return {"Authorization": "Bearer " + ".".join(part) + ".AAAA"}


@pytest.mark.parametrize("claims", [{"iss": ["x"]}, {"iss": {"a": 1}}, {"iss": 5}, {"iss": None}])
def test_a_jwt_shaped_token_with_odd_claims_is_401_even_with_no_issuers(read_client, claims):
    r = read_client.put(PATH, headers=_unsigned({"alg": "RS256"}, claims), **kale())
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    r = read_client.get("/api/dfc/enterprises/jean-farm/orders", headers=_unsigned({"alg": "RS256"}, claims))
    assert r.status_code == 401


@pytest.mark.parametrize("claims", [
    {"sub": JEAN, "scopes": 5}, {"sub": JEAN, "scopes": [5]}, {"sub": JEAN, "scope": ["WriteProducts"]},
    {"agent": [JEAN]}, {"agent": {"@id": JEAN}}, {"agent": JEAN + " x"}, {"agent": JEAN + "|x"},
    {"sub": 42}, {"sub": JEAN, "exp": "9999999999"}, {"sub": JEAN, "exp": [1]}, {"sub": JEAN, "exp": True},
    {"sub": JEAN, "exp": float("inf")}, {"sub": JEAN, "exp": None}, {"sub": JEAN, "nbf": "now"},
    {"sub": JEAN, "iat": [0]},
], ids=str)
def test_a_signed_jwt_with_odd_claims_is_401(jwt_client, keys, claims):
    trusted, _ = keys
    r = jwt_client.put(PATH, headers=signed(trusted, **claims), **kale())
    assert r.status_code == 401 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    assert jwt_client.get(PATH).status_code == 404


def test_a_jwt_expiring_beyond_the_horizon_is_401(jwt_client, keys):
    trusted, _ = keys
    years = signed(trusted, sub=JEAN, exp=int(time.time()) + 10 * 365 * 86400)
    r = jwt_client.put(PATH, headers=years, **kale())
    assert r.status_code == 401 and "DFC_HUB_JWT_MAX_LIFETIME_SECONDS" in r.get_json()["detail"]
    assert jwt_client.put(PATH, headers=signed(trusted, sub=JEAN, exp=int(time.time()) + 3600), **kale()).status_code == 201


def test_an_issuer_speaks_only_for_the_agents_it_is_bound_to(jwt_client, keys):
    _, other = keys
    r = jwt_client.put(PATH, headers=signed(other, iss=OTHER_ISSUER, sub=JEAN), **kale())
    assert r.status_code == 401 and "may not speak for" in r.get_json()["detail"]
    assert jwt_client.get(PATH).status_code == 404
    hub_b_kale = "/api/dfc/enterprises/hub-b/supplied_products/kale"
    ok = jwt_client.put(hub_b_kale, headers=signed(other, iss=OTHER_ISSUER, sub=HUB_B), **kale())
    assert ok.status_code == 201


@pytest.mark.parametrize("config", [{ISSUER: "-----BEGIN PUBLIC KEY-----"}, {ISSUER: {"key": "k"}},
                                    {ISSUER: {"key": "k", "agents": []}}, ["not", "an", "object"]])
def test_an_issuer_without_its_agents_stops_the_server_at_start(tmp_path, config):
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="DFC_HUB_JWT_ISSUERS"):
        make_app(jwt_issuers=str(issuers))


@pytest.mark.parametrize("agent", [f"{BASE}/a b", f"{BASE}/a|b", f"{BASE}/a>b", "not an iri", "urn:x y", 5, None])
def test_a_token_for_an_agent_that_is_no_iri_is_422(read_client, agent):
    r = read_client.post("/api/admin/tokens", json={"agent": agent}, headers=admin())
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.get_json()["pointer"] == "/agent"


@pytest.mark.parametrize("body, status, pointer", [
    ({"agent": f"{BASE}/" + "a" * 100_000}, 422, "/agent"),
    ({"agent": f"{BASE}/api/dfc/enterprises/hub-a", "scopes": ["ReadOrders"] * 100_000}, 400, "/scopes"),
    ({"agent": f"{BASE}/api/dfc/enterprises/hub-a", "scopes": [f"Scope{n}" for n in range(100_000)]}, 400, "/scopes"),
])
def test_a_token_request_is_bounded_and_its_refusal_short(read_client, body, status, pointer):
    """100,000 scopes were a 201 echoing them all (or a 400 naming each unknown one, 889 kB), and
    an agent IRI of 100,000 characters was taken."""
    r = read_client.post("/api/admin/tokens", json=body, headers=admin())
    assert r.status_code == status and r.get_json()["pointer"] == pointer, r.get_data(as_text=True)[:300]
    assert len(r.data) < 2000
