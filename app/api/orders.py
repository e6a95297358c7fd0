"""Orders sold by an enterprise, their lines, and the sale-session actions (API.md "Orders")."""
from __future__ import annotations

from flask import Blueprint, Response, request

from app.api.context import ENT, agent, base_url, expected, idempotency_key, namespace, request_iri, services
from app.api.negotiate import SERIALISERS, answer_type, best_media_type, rdf_response, read_body
from app.api.paging import container, page_of
from app.domain import versions
from app.domain import policy, order_documents as orders
from app.orders import summary
from app.orders.idempotency import Answer
from app.domain.kinds import KINDS, ORDERS
from app.errors import NotFound
from app.namespaces import RDF_TYPE, T

bp = Blueprint("orders", __name__, url_prefix="/api/dfc")

ORD = "<any(orders, Orders):seg>"
LINES = "<any(order_lines, OrderLines, orderLines):lseg>"
SESSION = "<any(sale_sessions, SaleSessions):sseg>"


def _book():
    return services().orders


def _answer(answer: Answer) -> Response:
    if answer.status == 204:
        return Response(status=204)
    headers = {"ETag": versions.etag(answer.triples)}
    if answer.location:
        headers["Location"] = answer.location
    return rdf_response(answer.triples, answer.status, headers)


def _caller(action: str):
    """The calling agent; 401 without a token (403 without the scope), before the body is even read."""
    return policy.require_token(agent(), "order", action)


def readable_order(eid: str, oid: str):
    """The order at (eid, oid), readable by the caller (its seller or buyer), or 404/403."""
    ns = namespace(eid)
    iri = f"{ns.collection(ORDERS)}/{oid}"
    found = _book().find(iri)
    if found is None:
        raise NotFound(f"no order at {iri}")
    _book().readable(agent(), ns, found[1], found[0])
    return ns, found[0], found[1]


def _read_order(base: str):
    """The request's order body, refused (413) beyond the lines an order may have."""
    limit = services().settings.max_order_lines
    return read_body(base, screen=lambda triples: orders.check_size(triples, limit))


@bp.get(f"/{ENT}/<eid>/{ORD}")
def list_orders(ent, eid, seg):
    ns, who = namespace(eid), agent()
    policy.require(who, "order", "list", owner=ns)
    items = _book().listing(who, ns)
    return page_of(items, _book().documents)


@bp.post(f"/{ENT}/<eid>/{ORD}")
def place_order(ent, eid, seg):
    ns = namespace(eid)
    _caller("create")
    key = idempotency_key()
    payload = _read_order(ns.collection(ORDERS))
    incoming = orders.from_payload(payload.triples, None, ns, base_url(), services().pseudonyms.person)
    return _answer(_book().save(ns, incoming, agent(), key=key))


@bp.get(f"/{ENT}/<eid>/{ORD}/<oid>")
def get_order(ent, eid, seg, oid):
    _, iri, triples = readable_order(eid, oid)
    return rdf_response(triples, 200, {"ETag": versions.etag(triples)})


@bp.put(f"/{ENT}/<eid>/{ORD}/<oid>")
def put_order(ent, eid, seg, oid):
    ns, target = namespace(eid), request_iri()
    _caller("replace")
    key = idempotency_key()
    payload = _read_order(target.value)
    incoming = orders.from_payload(payload.triples, target, ns, base_url(), services().pseudonyms.person)
    return _answer(_book().save(ns, incoming, agent(), target=target, expected=expected(), key=key))


@bp.delete(f"/{ENT}/<eid>/{ORD}/<oid>")
def delete_order(ent, eid, seg, oid):
    ns, target = namespace(eid), request_iri()
    return _answer(_book().save(ns, None, agent(), target=target, expected=expected(), key=idempotency_key()))


@bp.get(f"/{ENT}/<eid>/{ORD}/<oid>/{LINES}")
def list_lines(ent, eid, seg, oid, lseg):
    _, iri, triples = readable_order(eid, oid)
    found = orders.lines(triples, iri)
    body = [t for line in found for t in orders.line_triples(triples, line.iri)]
    return rdf_response(container([line.iri for line in found], body))


def _line(triples, order, lid: str):
    for line in orders.lines(triples, order):
        if line.iri.value.rsplit("/", 1)[-1] == lid:
            return line.iri
    raise NotFound(f"order {order.value} has no line {lid}")


@bp.get(f"/{ENT}/<eid>/{ORD}/<oid>/{LINES}/<lid>")
def get_line(ent, eid, seg, oid, lseg, lid):
    _, iri, triples = readable_order(eid, oid)
    body = orders.line_triples(triples, _line(triples, iri, lid))
    return rdf_response(body, 200, {"ETag": versions.etag(body)})


@bp.put(f"/{ENT}/<eid>/{ORD}/<oid>/{LINES}/<lid>")
def put_line(ent, eid, seg, oid, lseg, lid):
    """Replace one line: the order is rewritten with it, and its reservation adjusts."""
    key = idempotency_key()           # before the body is read: it is read once, and the key binds it
    _caller("replace")                # a replay too needs a token that may still write orders
    kept = _book().replayed(key) if key is not None else None
    if kept is not None:              # the line may be gone since: the first answer, before looking for it
        return _answer(Answer(kept.status, None, _kept_line(kept.triples, lid)))
    ns, iri, triples = readable_order(eid, oid)
    line = _line(triples, iri, lid)
    payload = read_body(line.value)
    sent = orders.line_from_payload(payload.triples, line)
    whole = orders.replace_line(triples, iri, line, sent)
    incoming = orders.from_payload(whole, iri, ns, base_url(), services().pseudonyms.person)
    answer = _book().save(ns, incoming, agent(), target=iri, key=key, expected=_unchanged(triples, line))
    return _answer(Answer(answer.status, None, orders.line_triples(answer.triples, line)))


def _kept_line(triples, lid: str):
    """The line `lid` in an order's answer kept for replay, with what it says."""
    for order in {t.subject for t in triples if t.predicate == RDF_TYPE and t.object == T.Order}:
        return orders.line_triples(triples, _line(triples, order, lid))
    raise NotFound(f"the answer kept for this Idempotency-Key holds no line {lid}")


def _unchanged(read, line) -> versions.Expected:
    """A line's change rewrites its order as read: If-Match names the line, and the order must not
    have changed since it was read (409)."""
    return expected(part=line, read_etag=versions.etag(read))


@bp.delete(f"/{ENT}/<eid>/{ORD}/<oid>/{LINES}/<lid>")
def delete_line(ent, eid, seg, oid, lseg, lid):
    key = idempotency_key()
    _caller("replace")                # a replay too needs a token that may still write orders
    if key is not None and _book().replayed(key) is not None:
        return Response(status=204)       # the line is gone: the first answer, before looking for it
    ns, iri, triples = readable_order(eid, oid)
    line = _line(triples, iri, lid)
    incoming = orders.from_payload(orders.drop_line(triples, iri, line), iri, ns,
                                   base_url(), services().pseudonyms.person)
    _book().save(ns, incoming, agent(), target=iri, key=key, expected=_unchanged(triples, line))
    return Response(status=204)


# --- sale sessions: close, and the wholesale orders a hub placed for one ------------------------

def _session(eid: str, sid: str):
    ns = namespace(eid)
    return ns, _book().session(f"{ns.collection(KINDS['sale_sessions'])}/{sid}")


@bp.post(f"/{ENT}/<eid>/{SESSION}/<sid>/close")
def close_session(ent, eid, sseg, sid):
    ns, session = _session(eid, sid)
    policy.require(agent(), "sale_session", "close", owner=ns)
    answer_type()           # a 406 must come before the close, not after it
    closed, completed = _book().close_session(session)
    triples = _book().document(session)
    headers = {"ETag": versions.etag(triples), "X-Orders-Completed": str(len(completed))}
    return rdf_response(triples, 200, headers)


@bp.get(f"/{ENT}/<eid>/{SESSION}/<sid>/summary")
def session_summary(ent, eid, sseg, sid):
    """Per producer and product: ordered, held, completed, cancelled, kilograms, value (JSON-LD or CSV)."""
    ns, session = _session(eid, sid)
    policy.require(agent(), "session_summary", "read", owner=ns)
    table = _book().summary(session, ns)
    if best_media_type(request.headers.get("Accept"), [*SERIALISERS, "text/csv"]) == "text/csv":
        return Response(summary.to_csv(table), mimetype="text/csv", headers={"Vary": "Accept"})
    return rdf_response(summary.to_triples(session, table, _book().forwarded(session, ns)))


@bp.get(f"/{ENT}/<eid>/{SESSION}/<sid>/wholesale_orders")
def wholesale_orders(ent, eid, sseg, sid):
    ns, session = _session(eid, sid)
    policy.require(agent(), "wholesale_orders", "list", owner=ns)
    return page_of(_book().placed_for(session, ns), _book().documents)

