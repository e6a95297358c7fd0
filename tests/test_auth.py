"""Bearer tokens: admin, issued opaque tokens, RS256 JWTs from locally configured issuers."""
from __future__ import annotations

import json
import time

import jwt
import pytest
from conftest import BASE, admin, jsonld, make_app, token_for
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JEAN = f"{BASE}/api/dfc/enterprises/jean-farm"
ISSUER = "https://login.example.test/realms/dfc"
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
    trusted, _ = keys
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({ISSUER: _pem(trusted)}))
    return make_app(jwt_issuers=str(issuers)).test_client()


def signed(key, **claims):
    claims = {"iss": ISSUER, "exp": int(time.time()) + 600, **claims}
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="RS256")}


def test_reads_of_catalogue_data_need_no_token(client):
    assert client.get("/api/dfc/enterprises/jean-farm/catalog").status_code == 200


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


def test_only_the_admin_issues_tokens(client):
    jean = token_for(client, JEAN)
    r = client.post("/api/admin/tokens", json={"agent": JEAN}, headers=jean)
    assert r.status_code == 403
    assert client.post("/api/admin/tokens", json={"agent": JEAN}).status_code == 401
    bad = client.post("/api/admin/tokens", json={"agent": JEAN, "scopes": ["Everything"]}, headers=admin())
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
