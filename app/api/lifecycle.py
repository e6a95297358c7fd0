"""The supplier lifecycle of a wholesale order: its status, its deliveries, shipping them (API.md "Wave 2")."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, request

from app.api.context import ENT, agent, expected, idempotency_key, namespace, services
from app.api.negotiate import answer_type, rdf_response, read_body
from app.api.orders import readable_order
from app.api.paging import container
from app.domain import deliveries, policy, statuses
from app.domain.agents import valid_iri
from app.domain import documents as docs
from app.domain import versions
from app.domain.kinds import ORDERS
from app.errors import BadRequest, InvalidValue
from app.rdf import read_json
from app.rdf.checks import MAX_NUMBER

bp = Blueprint("lifecycle", __name__, url_prefix="/api/dfc")

ORDER = f"/{ENT}/<eid>/<any(orders, Orders):seg>/<oid>"
DELIVERIES = f"{ORDER}/<any(deliveries, Deliveries):dseg>"


def _book():
    return services().orders


def _target(eid: str, oid: str):
    ns = namespace(eid)
    return ns, docs.node(f"{ns.collection(ORDERS)}/{oid}")


def _answer(triples, status: int = 200, location: str | None = None) -> Response:
    headers = {"ETag": versions.etag(triples)}
    if location:
        headers["Location"] = location
    return rdf_response(triples, status, headers)


@bp.post(f"{ORDER}/status")
def post_status(ent, eid, seg, oid):
    """Move the order: `{"status": "confirmed", "reason": "…"}` (JSON)."""
    ns, iri = _target(eid, oid)
    answer_type()
    key = idempotency_key()           # before the body is read: it is read once, and the key binds it
    body = read_json(request.get_data(cache=False), services().settings.max_json_depth)
    if not isinstance(body, dict):
        raise BadRequest('send {"status": "<a lifecycle status>", "reason": "…"}', pointer="")
    target, reason = statuses.requested(body.get("status"), body.get("reason"))
    answer = _book().transition(ns, iri, agent(), target, reason, expected(),
                                _confirmed_prices(body.get("confirmedPrices")), key)
    return _answer(answer.triples)


def _confirmed_prices(sent) -> dict | None:
    """`{"<order line IRI>": 2.40, …}` as line IRI → Decimal; 422 for anything else."""
    if sent is None:
        return None
    if not isinstance(sent, dict) or len(sent) > services().settings.max_order_lines:
        raise InvalidValue("confirmedPrices is an object: order line IRI → price", pointer="/confirmedPrices")
    out = {}
    for line, value in sent.items():
        if not valid_iri(line):
            raise InvalidValue(f"{line!r} is not an order line's IRI", pointer=f"/confirmedPrices/{line}")
        try:
            out[line] = Decimal(str(value)) if isinstance(value, (int, float, str)) and not isinstance(value, bool) \
                else None
        except InvalidOperation:
            out[line] = None
        if out[line] is None or not out[line].is_finite():
            raise InvalidValue(f"the confirmed price of {line} is not a number", pointer=f"/confirmedPrices/{line}")
        if out[line] < 0 or out[line] > MAX_NUMBER:
            raise InvalidValue(f"the confirmed price of {line} must be from 0 to {MAX_NUMBER:,}",
                               pointer=f"/confirmedPrices/{line}")
    return out


@bp.get(DELIVERIES)
def list_deliveries(ent, eid, seg, oid, dseg):
    _, iri, triples = readable_order(eid, oid)
    found = deliveries.read(triples, iri)
    return rdf_response(container([d.iri for d in found],
                                  [t for d in found for t in deliveries.triples_of(triples, d.iri)]))


@bp.post(DELIVERIES)
def create_delivery(ent, eid, seg, oid, dseg):
    ns, iri = _target(eid, oid)
    delivery = docs.mint(f"{iri.value}/deliveries")
    key = idempotency_key()
    sent = _delivery_body(delivery, f"{iri.value}/deliveries")
    answer = _book().write_delivery(ns, iri, agent(), delivery, sent, create=True, key=key)
    return _answer(answer.triples, 201, answer.location)


@bp.get(f"{DELIVERIES}/<did>")
def get_delivery(ent, eid, seg, oid, dseg, did):
    _, iri, triples = readable_order(eid, oid)
    body = deliveries.triples_of(triples, deliveries.find(triples, iri, did).iri)
    return _answer(body)


@bp.put(f"{DELIVERIES}/<did>")
def put_delivery(ent, eid, seg, oid, dseg, did):
    ns, iri = _target(eid, oid)
    delivery = docs.node(f"{iri.value}/deliveries/{did}")
    key = idempotency_key()
    sent = _delivery_body(delivery, delivery.value)
    return _answer(_book().write_delivery(ns, iri, agent(), delivery, sent, create=False,
                                          expected=expected(part=delivery, part_of=deliveries.triples_of),
                                          key=key).triples)


@bp.delete(f"{DELIVERIES}/<did>")
def delete_delivery(ent, eid, seg, oid, dseg, did):
    ns, iri = _target(eid, oid)
    delivery = docs.node(f"{iri.value}/deliveries/{did}")
    _book().delete_delivery(ns, iri, agent(), delivery, expected(part=delivery, part_of=deliveries.triples_of),
                            idempotency_key())
    return Response(status=204)


@bp.post(f"{DELIVERIES}/<did>/ship")
def ship_delivery(ent, eid, seg, oid, dseg, did):
    ns, iri = _target(eid, oid)
    answer_type()
    return _answer(_book().ship(ns, iri, agent(), docs.node(f"{iri.value}/deliveries/{did}"), idempotency_key()).triples)


def _delivery_body(delivery, base: str) -> list:
    """The delivery a request body describes: its one hub:Delivery node (or its @id), named `delivery`."""
    policy.require_token(agent(), "order", "deliveries")      # 401 before the body is read
    payload = read_body(base)
    return deliveries.from_payload(payload.triples, delivery)
