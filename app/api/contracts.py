"""Contracts between a supplier and one consumer (API.md "Prices and contracts")."""
from __future__ import annotations

from flask import Blueprint, Response

from app.api.context import ENT, agent, base_url, expected, namespace, request_iri, services
from app.api.negotiate import rdf_response, read_body
from app.api.paging import page_of
from app.domain import policy
from app.catalog import contracts
from app.domain import documents as docs
from app.domain import versions
from app.domain.kinds import CONTRACTS

bp = Blueprint("contracts", __name__, url_prefix="/api/dfc")

CON = "<any(contracts, Contracts):cseg>"


def _book() -> contracts.Contracts:
    return services().contracts


def _answer(name, triples, created: bool = False) -> Response:
    headers = {"ETag": versions.etag(triples)}
    if created:
        headers["Location"] = name.value
    return rdf_response(triples, 201 if created else 200, headers)


def _read(ns: docs.Namespace, target: str | None):
    """The contract a body describes; the writer is checked first (401/403 before the body is read)."""
    policy.require(agent(), "contract", "create" if target is None else "replace", owner=ns)
    payload = read_body(target or ns.collection(CONTRACTS), screen=contracts.check_size)
    return contracts.from_payload(payload.triples, docs.node(target) if target else None, ns, base_url())


@bp.get(f"/{ENT}/<eid>/{CON}")
def list_contracts(ent, eid, cseg):
    return page_of(_book().listing(agent(), namespace(eid)), _book().documents)


@bp.post(f"/{ENT}/<eid>/{CON}")
def create_contract(ent, eid, cseg):
    ns = namespace(eid)
    iri, doc = _read(ns, None)
    name, written, created = _book().write(agent(), ns, iri, doc, replace=False)
    return _answer(name, written, created)


@bp.get(f"/{ENT}/<eid>/{CON}/<cid>")
def get_contract(ent, eid, cseg, cid):
    name, triples = _book().load(agent(), namespace(eid), request_iri().value)
    return _answer(name, triples)


@bp.put(f"/{ENT}/<eid>/{CON}/<cid>")
def put_contract(ent, eid, cseg, cid):
    ns, target = namespace(eid), request_iri().value
    iri, doc = _read(ns, target)
    name, written, created = _book().write(agent(), ns, iri, doc, replace=True, expected=expected())
    return _answer(name, written, created)


@bp.delete(f"/{ENT}/<eid>/{CON}/<cid>")
def delete_contract(ent, eid, cseg, cid):
    _book().delete(agent(), namespace(eid), request_iri().value, expected())
    return Response(status=204)
