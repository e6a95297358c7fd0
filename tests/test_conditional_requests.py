"""Conditional requests (RFC 9110 §13): If-None-Match on reads (304) and writes (412), and one ETag
per representation, which a write's If-Match may name whichever the client read."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import BASE, JSONLD, admin, client_of, jsonld, make_app, token_for
from app.domain import lifecycle
from support.lifecycle import Api, Orders
from support.orders import CARROTS, CARROTS_ITEM, CTX, HUB_A, HUB_B, JEAN, MONDAY, order, path_of, place

LEEKS = "/api/dfc/enterprises/jean-farm/supplied_products/leeks"
TURTLE = "text/turtle"
V2 = 'application/ld+json;profile="https://w3id.org/dfc/ontology/context/context_2.0.0.json"'


def leeks(name="Leeks"):
    return {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:SuppliedProduct",
            "dfc-b:name": name}


@pytest.fixture
def jean(request):
    return token_for(client_of(request), JEAN)


def test_a_read_whose_if_none_match_names_it_is_304_without_a_body(client):
    first = client.get(CARROTS_ITEM)
    tag = first.headers["ETag"]
    for method in (client.get, client.head):
        again = method(CARROTS_ITEM, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["ETag"] == tag and "Accept" in again.headers["Vary"]
    # Weak comparison, a list, and `*` (the representation exists) all name it.
    for header in (f"W/{tag}", f'"other", {tag}', "*"):
        assert client.get(CARROTS_ITEM, headers={"If-None-Match": header}).status_code == 304, header
    assert client.get(CARROTS_ITEM, headers={"If-None-Match": '"other"'}).status_code == 200


def test_each_representation_has_its_own_etag_and_304s_only_for_itself(client):
    tags = {media: client.get(CARROTS_ITEM, headers={"Accept": media}).headers["ETag"]
            for media in (JSONLD, TURTLE, "application/n-triples", V2)}
    assert len(set(tags.values())) == 4, tags
    # A cache holding the JSON-LD must not be told its copy is the Turtle.
    r = client.get(CARROTS_ITEM, headers={"Accept": TURTLE, "If-None-Match": tags[JSONLD]})
    assert r.status_code == 200 and r.mimetype == TURTLE and r.headers["ETag"] == tags[TURTLE]
    assert client.get(CARROTS_ITEM, headers={"Accept": TURTLE, "If-None-Match": tags[TURTLE]}).status_code == 304


def test_a_change_makes_the_old_tag_stale_for_a_read(client, jean):
    assert client.put(LEEKS, headers=jean, **jsonld(leeks())).status_code == 201
    old = client.get(LEEKS).headers["ETag"]
    assert client.put(LEEKS, headers={**jean, "If-Match": old}, **jsonld(leeks("Winter leeks"))).status_code == 200
    r = client.get(LEEKS, headers={"If-None-Match": old})
    assert r.status_code == 200 and r.headers["ETag"] != old and r.get_json()["dfc-b:name"] == "Winter leeks"


def test_if_none_match_star_on_a_put_creates_only(client, jean):
    made = client.put(LEEKS, headers={**jean, "If-None-Match": "*"}, **jsonld(leeks()))
    assert made.status_code == 201
    again = client.put(LEEKS, headers={**jean, "If-None-Match": "*"}, **jsonld(leeks("Someone else's leeks")))
    assert again.status_code == 412 and again.mimetype == "application/problem+json"
    assert again.get_json()["currentETag"] == made.headers["ETag"]
    assert client.get(LEEKS).get_json()["dfc-b:name"] == "Leeks"


def test_if_none_match_naming_the_current_version_refuses_a_write_and_an_older_one_does_not(client, jean):
    made = client.put(LEEKS, headers=jean, **jsonld(leeks()))
    tag = made.headers["ETag"]
    refused = client.put(LEEKS, headers={**jean, "If-None-Match": f"W/{tag}"}, **jsonld(leeks("B")))
    assert refused.status_code == 412 and client.get(LEEKS).get_json()["dfc-b:name"] == "Leeks"
    assert client.delete(LEEKS, headers={**jean, "If-None-Match": "*"}).status_code == 412
    assert client.put(LEEKS, headers={**jean, "If-None-Match": '"older"'}, **jsonld(leeks("C"))).status_code == 200
    assert client.get(LEEKS).get_json()["dfc-b:name"] == "C"


def test_if_match_may_name_the_version_in_any_representation_but_only_strongly(client, jean):
    client.put(LEEKS, headers=jean, **jsonld(leeks()))
    turtle_tag = client.get(LEEKS, headers={"Accept": TURTLE}).headers["ETag"]
    weak = client.put(LEEKS, headers={**jean, "If-Match": f"W/{turtle_tag}"}, **jsonld(leeks("B")))
    assert weak.status_code == 412          # RFC 9110 §13.1.1: If-Match compares strongly
    ok = client.put(LEEKS, headers={**jean, "If-Match": turtle_tag}, **jsonld(leeks("B")))
    assert ok.status_code == 200 and client.get(LEEKS).get_json()["dfc-b:name"] == "B"


@pytest.mark.parametrize("header", ['"', "W/", ",,,", "W/W/\"x\"", '"a"-"b"', "*, \"x\"", "x" * 8000, '""'])
def test_hostile_precondition_headers_get_an_answer_never_a_5xx(client, jean, header):
    client.put(LEEKS, headers=jean, **jsonld(leeks()))
    for name in ("If-None-Match", "If-Match"):
        read = client.get(LEEKS, headers={name: header})
        assert read.status_code in (200, 304), (name, header, read.status_code)
        write = client.put(LEEKS, headers={**jean, name: header}, **jsonld(leeks("B")))
        assert write.status_code in (200, 412), (name, header, write.status_code)


def test_an_orders_version_is_told_only_to_who_may_read_it(client):
    tokens = {who: token_for(client, iri) for who, iri in (("jean", JEAN), ("a", HUB_A), ("b", HUB_B))}
    made = place(client, tokens["a"], order((CARROTS, 1)))
    assert made.status_code == 201, made.get_data(as_text=True)
    path = path_of(made.headers["Location"])
    tag = made.headers["ETag"]
    for who in ("jean", "a"):
        assert client.get(path, headers={**tokens[who], "If-None-Match": tag}).status_code == 304
    # Another hub learns nothing from a guess: the refusal comes before any comparison.
    stranger = client.get(path, headers={**tokens["b"], "If-None-Match": tag})
    assert stranger.status_code in (403, 404) and "ETag" not in stranger.headers
    assert client.get(path, headers={"If-None-Match": "*"}).status_code == 401


def test_an_order_line_put_with_if_none_match_star_does_not_overwrite_the_line(client):
    token = token_for(client, HUB_A)
    made = place(client, token, order((CARROTS, 2)))
    order_path = path_of(made.headers["Location"])
    line = next(n for n in made.get_json()["@graph"] if n.get("@type") == "dfc-b:OrderLine")
    line_path = path_of(line["@id"])
    before = client.get(CARROTS_ITEM).get_json()["hub:held"]
    body = {"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:OrderLine",
            "dfc-b:quantity": 5, "dfc-b:concerns": CARROTS}
    r = client.put(line_path, headers={**token, "If-None-Match": "*"}, **jsonld(body))
    assert r.status_code == 412, r.get_data(as_text=True)
    assert client.get(CARROTS_ITEM).get_json()["hub:held"] == before
    assert client.get(order_path, headers=token).status_code == 200


def test_a_partner_is_replaced_only_at_the_version_named():
    client = make_app(webhook_allow_private=True).test_client()     # the partner is on the loopback
    hub = token_for(client, HUB_A)
    path = "/api/dfc/enterprises/hub-a/partners/far-farm"
    far = "http://127.0.0.1:9/api/dfc/enterprises/far-farm"      # nothing listens there; nothing is called
    body = {"enterprise": far, "catalog": f"{far}/catalog", "orders": f"{far}/orders", "token": "t0k3n"}
    made = client.put(path, headers={**hub, "If-None-Match": "*"}, json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert client.put(path, headers={**hub, "If-None-Match": "*"}, json=body).status_code == 412
    assert client.put(path, headers={**hub, "If-Match": '"stale"'}, json=body).status_code == 412
    assert client.delete(path, headers={**hub, "If-Match": '"stale"'}).status_code == 412
    assert client.get(path, headers=hub).status_code == 200
    assert client.delete(path, headers={**hub, "If-Match": made.headers["ETag"]}).status_code == 204


def test_the_admin_may_use_preconditions_too(client):
    tag = client.get("/api/dfc/enterprises/jean-farm").headers["ETag"]
    assert client.get("/api/dfc/enterprises/jean-farm", headers={**admin(), "If-None-Match": tag}).status_code == 304


def test_a_delivery_is_replaced_only_at_the_version_named(client):
    orders = Orders(Api(client), "jean-farm", HUB_A, CARROTS, token_for(client, HUB_A), token_for(client, JEAN))
    path = orders.create(quantity=4, split=(4,))
    consumer = orders.tokens[lifecycle.CONSUMER]
    [delivery] = [n for n in client.get(path + "/deliveries", headers=consumer).get_json().get("@graph", [])
                  if n.get("@type") == "hub:Delivery"] or [client.get(path + "/deliveries", headers=consumer).get_json()]
    delivery_path = path_of(delivery["@id"])
    read = client.get(delivery_path, headers=consumer)
    later = (MONDAY + dt.timedelta(days=9)).date().isoformat()        # from the demo's Monday, any year
    body = {**read.get_json(), "hub:desiredDeliveryDate": later}
    for header in ({"If-None-Match": "*"}, {"If-Match": '"stale"'}, {"If-None-Match": read.headers["ETag"]}):
        r = client.put(delivery_path, headers={**consumer, **header}, **jsonld(body))
        assert r.status_code == 412, (header, r.get_data(as_text=True))
    assert client.get(delivery_path, headers=consumer).headers["ETag"] == read.headers["ETag"]
    r = client.put(delivery_path, headers={**consumer, "If-Match": read.headers["ETag"]}, **jsonld(body))
    assert r.status_code == 200, r.get_data(as_text=True)


def test_a_delivery_of_an_order_stored_under_the_camelcase_spelling_honours_its_preconditions(client):
    """An order PUT at `…/Enterprises/x/Orders/y` is stored under that spelling; its deliveries'
    versions were looked for under the snake_case one, found empty: If-Match was always 412, and
    If-None-Match: * never refused."""
    consumer = token_for(client, HUB_A)
    made = client.put("/api/dfc/Enterprises/jean-farm/Orders/camel", headers=consumer,
                      **jsonld(order((CARROTS, 2), id_=f"{BASE}/api/dfc/Enterprises/jean-farm/Orders/camel")))
    assert made.status_code == 201, made.get_data(as_text=True)
    line = [n["@id"] for n in made.get_json()["@graph"] if n.get("@type") == "dfc-b:OrderLine"][0]
    later = (MONDAY + dt.timedelta(days=9)).date().isoformat()
    body = {"@context": [CTX, {"hub": "https://w3id.org/dfc-order-hub/ns#"}], "@type": "hub:Delivery",
            "hub:hasDeliveryLine": {"@type": "hub:DeliveryLine", "hub:ofOrderLine": {"@id": line}, "dfc-b:quantity": 1}}
    planned = client.post("/api/dfc/enterprises/jean-farm/orders/camel/deliveries", headers=consumer, **jsonld(body))
    assert planned.status_code == 201, planned.get_data(as_text=True)
    delivery = path_of(planned.headers["Location"])
    read = client.get(delivery, headers=consumer)
    changed = {**read.get_json(), "hub:desiredDeliveryDate": later}
    assert client.put(delivery, headers={**consumer, "If-None-Match": "*"}, **jsonld(changed)).status_code == 412
    r = client.put(delivery, headers={**consumer, "If-Match": read.headers["ETag"]}, **jsonld(changed))
    assert r.status_code == 200, r.get_data(as_text=True)
