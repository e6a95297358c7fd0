"""Partner credentials as platforms issue them, against a real OpenID Connect provider (issue 26).

The provider is npm's oidc-provider (certified), run by node on 127.0.0.1 with access tokens
living 2 s; Jean's platform (a server of ours) accepts only the JWTs it signs, through
DFC_HUB_JWT_ISSUERS with the key read from its JWKS (tests/support/oidc_world.py). The minute
with 3-s tokens the issue's "done when" names is bench/partner_oidc.py.
"""
from __future__ import annotations

import concurrent.futures
import time

import pytest
import requests

from conftest import make_app
from support.hub_server import PUBLIC
from support.idp import identity_provider, skip_reason
from support.orders import MONDAY
from support.oidc_world import ADMIN_H, CLIENTS, SECRET, Gate, World, hub_selling_jean, jean_farm, oidc_world, \
    trust_file
from support.oxigraph_server import running_oxigraph
from support.threaded_server import serving

pytestmark = [pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason())),
              pytest.mark.dateless("tokens live seconds from now, by the provider's clock and ours alike; the "
                                   "sessions' dates are a manual clock's (DFC_HUB_CLOCK_START in the processes)")]


def keep_checking_out(w, seconds: float, pause: float = 0.2) -> list[requests.Response]:
    """Checkouts with a line at the partner, one after another, for `seconds` of the wall clock."""
    answers, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        answers.append(w.checkout())
        time.sleep(pause)
    return answers


def shown_anywhere(w, secrets: list[str], *answers: requests.Response) -> list[str]:
    """The secrets found in the partner's GET (JSON-LD, Turtle), the hub's /sparql, or the answers given."""
    texts = [a.text for a in answers]
    for accept in ("application/ld+json", "text/turtle"):
        texts.append(w.http.get(w.partner, headers={**ADMIN_H, "Accept": accept}).text)
    every = w.http.post(w.api.replace("/api/dfc/enterprises", "/sparql"), headers=ADMIN_H,
                        data={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"})
    assert every.status_code == 200 and "hub-a" in every.text, every.text[:300]
    texts.append(every.text)
    return [s for s in secrets if any(s in t for t in texts)]


def test_forwarding_keeps_working_across_several_expiries_each_refresh_token_spent_once(tmp_path, caplog):
    with oidc_world(tmp_path, ttl=2) as w:
        auth, first = w.refresh_token_auth()
        assert w.configure(auth).status_code == 201
        assert w.sync().status_code == 200
        answers = keep_checking_out(w, 10)
        assert [a.status_code for a in answers] == [201] * len(answers), next(a.text for a in answers
                                                                               if a.status_code != 201)
        presented = w.idp.presented()
        spent = [p["refresh_token"] for p in presented]
        assert spent[0] == first
        assert len(spent) == len(set(spent)) >= 4, "a refresh token was spent twice, or few expiries were seen"
        assert {p["status"] for p in presented} == {200}
        access = set(w.gate.tokens())
        assert len(access) >= 4            # the partner saw a new access token after each expiry
        assert shown_anywhere(w, [*spent, SECRET, *access], *answers) == []
        assert not [s for s in [*spent, SECRET, *access] if s in caplog.text]


@pytest.mark.parametrize("client_id, method", [("hub-a", None), ("hub-a-post", "client_secret_post")])
def test_client_credentials_are_sent_as_the_provider_expects_and_renewed(tmp_path, client_id, method):
    with oidc_world(tmp_path, ttl=2) as w:
        extra = {"token_endpoint_auth_method": method} if method else {}
        assert w.configure(w.client_credentials(client_id, **extra)).status_code == 201
        assert w.sync().status_code == 200
        answers = keep_checking_out(w, 4)
        assert {a.status_code for a in answers} == {201}, answers[-1].text
        assert len(set(w.gate.tokens())) >= 2


def test_a_revoked_access_token_is_retried_once_with_a_fresh_one(tmp_path):
    with oidc_world(tmp_path, ttl=60) as w:
        assert w.configure(w.client_credentials()).status_code == 201
        assert w.sync().status_code == 200
        assert w.checkout().status_code == 201
        revoked = w.gate.tokens()[-1]
        w.gate.revoked.add(revoked)
        before = len(w.gate.shown)
        r = w.checkout()
        assert r.status_code == 201, r.text
        shown = w.gate.tokens()[before:]
        assert shown[0] == revoked and len(shown) == 2 and shown[1] != revoked
        # A partner that refuses the fresh one too gets no third call.
        w.gate.refuse_all = True
        before = len(w.gate.shown)
        r = w.checkout()
        assert r.status_code == 502, r.text
        # Two sends (the order grown, then as it was again once the checkout is undone), each
        # tried twice: with the token in hand, then with a fresh one.
        shown = w.gate.tokens()[before:]
        assert len(shown) == 4 and shown[0] != shown[1] and shown[2] != shown[3], shown


def test_invalid_grant_marks_the_partner_and_its_checkouts_answer_503_until_new_credentials(tmp_path):
    with oidc_world(tmp_path, ttl=60) as w:
        auth, first = w.refresh_token_auth()
        assert w.configure(auth).status_code == 201
        assert w.sync().status_code == 200              # the first refresh token spent, its successor kept
        assert w.checkout().status_code == 201
        # Someone replays the spent one: the provider takes it as stolen and revokes the whole grant.
        replay = requests.post(w.idp.token_url, data={"grant_type": "refresh_token", "refresh_token": first},
                               auth=("hub-a", requests.utils.quote(SECRET, safe="")), timeout=5)
        assert replay.json()["error"] == "invalid_grant", replay.text
        w.gate.revoked.add(w.gate.tokens()[-1])         # and the partner no longer takes the access token
        r = w.checkout()
        assert r.status_code == 503, r.text
        problem = r.json()
        assert problem["partner"] == w.partner and problem["needsCredentials"] is True, problem
        assert "needs new credentials" in problem["detail"] and "invalid_grant" in problem["detail"]
        shown = w.http.get(w.partner, headers=ADMIN_H).json()
        assert "invalid_grant" in shown["hub:credentialsRefused"], shown
        asked = len(w.idp.presented())
        assert w.checkout().status_code == 503
        assert w.sync().status_code == 503
        assert len(w.idp.presented()) == asked          # nothing more is asked of the provider
        assert w.configure().status_code == 200         # the credentials kept: so is the mark
        assert "hub:credentialsRefused" in w.http.get(w.partner, headers=ADMIN_H).json()
        renewed, _ = w.refresh_token_auth()
        assert w.configure(renewed).status_code == 200
        assert "hub:credentialsRefused" not in w.http.get(w.partner, headers=ADMIN_H).json()
        assert w.checkout().status_code == 201
        spent = [p["refresh_token"] for p in w.idp.presented()]
        assert spent.count(first) == 2 and len(set(spent)) == len(spent) - 1   # ours: each once


@pytest.mark.slow
def test_two_processes_on_one_store_spend_each_refresh_token_once(hubs, tmp_path):
    agent = f"{PUBLIC}/api/dfc/enterprises/hub-a"
    with running_oxigraph(tmp_path) as sparql, \
            identity_provider(tmp_path, 2, CLIENTS, {c["client_id"]: agent for c in CLIENTS}) as idp:
        issuers = trust_file(tmp_path, idp, [agent])
        made = {}

        def jean_app(base):
            made["gate"] = Gate(make_app(demo=False, store=f"oxigraph:{tmp_path / 'jean'}", public_base_url=base,
                                         jwt_issuers=issuers))
            return made["gate"]
        with serving(jean_app) as jean_base:
            env = {"DFC_HUB_WEBHOOK_ALLOW_PRIVATE": "1", "DFC_HUB_CLOCK_START": MONDAY.isoformat()}
            servers = [hubs(store=f"sparql:{sparql}", wait=False, **env) for _ in range(2)]
            for server in servers:
                server.wait_until_up()
            worlds = [_process_world(idp, made["gate"], jean_base, server.url) for server in servers]
            jean_farm(worlds[0].http, worlds[0].jean)
            hub_selling_jean(worlds[0].http, f"{PUBLIC}/api/dfc/enterprises/hub-a", worlds[0].jean)
            auth, first = worlds[0].refresh_token_auth()
            assert worlds[0].configure(auth).status_code == 201
            assert worlds[1].sync().status_code == 200
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                # Each process checks out and syncs at once, for 8 s: their tokens expire together.
                runs = [pool.submit(keep_checking_out, w, 8, 0.05) for w in worlds] + \
                       [pool.submit(_keep_syncing, w, 8) for w in worlds]
                answers = [a for run in runs for a in run.result()]
        presented = idp.presented()
        spent = [p["refresh_token"] for p in presented]
        assert spent[0] == first and len(spent) == len(set(spent)) >= 3, presented
        assert {p["status"] for p in presented} == {200}
        assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers if a.status_code >= 300][:3]


def _process_world(idp, gate, jean_base, url):
    w = World(idp, gate, jean_base, PUBLIC)
    w.http.mount(PUBLIC, _Rewrite(url))
    return w


class _Rewrite(requests.adapters.HTTPAdapter):
    """Send requests for the processes' public IRIs (http://hub.test/…) to one process's port."""

    def __init__(self, url):
        super().__init__()
        self.url = url

    def send(self, request, **kwargs):
        request.url = self.url + request.url[len(PUBLIC):]
        return super().send(request, **kwargs)


def _keep_syncing(w, seconds: float) -> list[requests.Response]:
    answers, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        answers.append(w.sync())
        time.sleep(0.1)
    return answers


def test_a_bearer_auth_is_sent_as_a_token_alone_is(tmp_path):
    with oidc_world(tmp_path, ttl=60) as w:
        token = w.http.post(w.idp.token_url, data={"grant_type": "client_credentials", "scope": "WriteOrders"},
                            auth=("hub-a", requests.utils.quote(SECRET, safe="")), timeout=5).json()["access_token"]
        assert w.configure({"kind": "bearer", "token": token}).status_code == 201
        assert w.sync().status_code == 200
        assert w.checkout().status_code == 201
        assert w.gate.tokens()[-1] == token
