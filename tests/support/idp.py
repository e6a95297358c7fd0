"""Run the OpenID Connect provider of tests/support/oidc-idp (npm oidc-provider) on 127.0.0.1.

    with identity_provider(tmp_path, ttl=2, clients=[...], agents={client_id: agent IRI}) as idp:
        idp.token_url, idp.issuer, idp.public_key_pem()     # what the hub and the partner are given
        idp.refresh_token("hub-a", "hub-a-account")          # what a person's sign-in would give
        idp.presented()                                      # every refresh token shown at /token

`make idp` (run by `make test`) installs it; without node or its packages, `skip_reason()` says why.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization

from support.oxigraph_server import free_port

HERE = Path(__file__).parent / "oidc-idp"


def skip_reason() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed: the OpenID Connect provider (npm oidc-provider) cannot run"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return "oidc-provider is not installed: run `make idp` (needs npm)"
    return None


class IdentityProvider:
    def __init__(self, port: int, proc: subprocess.Popen, log: Path):
        self.issuer = f"http://127.0.0.1:{port}"
        self.token_url = self.issuer + "/token"
        self.proc, self.log = proc, log

    def public_key_pem(self) -> str:
        """The provider's signing key, read from its JWKS (as a partner trusting it would)."""
        keys = requests.get(self.issuer + "/jwks", timeout=5).json()["keys"]
        key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(keys[0]))
        return key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def refresh_token(self, client_id: str, account: str) -> str:
        r = requests.post(self.issuer + "/test/refresh-token", json={"client_id": client_id, "account": account},
                          timeout=5)
        r.raise_for_status()
        return r.json()["refresh_token"]

    def presented(self) -> list[dict]:
        """Each refresh token presented at the token endpoint, in order, with the answer's status."""
        return requests.get(self.issuer + "/test/presented", timeout=5).json()

    def revoke(self, token: str, client_id: str, secret: str) -> None:
        """Revoke a token at the provider's RFC 7009 endpoint, as its operator would."""
        r = requests.post(self.issuer + "/token/revocation", data={"token": token}, auth=(client_id, secret),
                          timeout=5)
        assert r.status_code == 200, r.text


@contextlib.contextmanager
def identity_provider(folder: Path, ttl: int, clients: list[dict], agents: dict[str, str]):
    port = free_port()
    config = folder / "idp.json"
    config.write_text(json.dumps({"port": port, "ttl": ttl, "clients": clients, "agents": agents}))
    log = folder / "idp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["node", str(HERE / "idp.mjs"), str(config)], cwd=HERE,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        idp = IdentityProvider(port, proc, log)
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the OpenID Connect provider exited: {log.read_text()}")
            try:
                requests.get(idp.issuer + "/.well-known/openid-configuration", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the OpenID Connect provider did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield idp
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
