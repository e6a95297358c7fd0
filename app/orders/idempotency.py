"""Idempotent retries: the first answer to a request with an `Idempotency-Key`, kept for replay.

The record is written in the same transaction as the change it answers, so after a crash a
retry finds either both or neither.
"""
from __future__ import annotations

import dataclasses
import hashlib

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Triple

from app.errors import KeyReused
from app.namespaces import RDF_TYPE, hub
from app.queries import as_term
from app.rdf.triples import first
from app.store import Store


@dataclasses.dataclass(frozen=True)
class Key:
    graph: NamedNode        # where the first answer is kept
    digest: str             # what the request was


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    location: str | None
    triples: list[Triple]


def key(agent: str, value: str, method: str, path: str, body: bytes) -> Key:
    """The key of a request: per agent (two clients' keys never collide), bound to the request."""
    name = hashlib.sha256(f"{agent}\n{value}".encode()).hexdigest()
    digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
    return Key(NamedNode(f"urn:x-dfc-hub:idempotency:{name}"), digest)


def replay(store: Store, k: Key) -> Answer | None:
    """The first answer to this key, None if there is none; 422 if it answered another request."""
    triples = store.graph(k.graph)
    if not triples:
        return None
    node = k.graph
    if first(triples, node, hub("requestDigest")).value != k.digest:
        raise KeyReused("this Idempotency-Key was used for another request; use a new key per request")
    location = first(triples, node, hub("location"))
    body = first(triples, node, hub("body")).value.encode()
    # Records written before hub:status named an order's lifecycle status say hub:status.
    status = first(triples, node, hub("responseStatus")) or first(triples, node, hub("status"))
    return Answer(int(status.value),
                  location.value if location is not None else None,
                  [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)])


def once(tx, k: Key | None, write) -> Answer:
    """`write()`'s answer, kept under the key in the same unit of work; a request whose key has an
    answer already gets that answer, and nothing is written again."""
    if k is None:
        return write()
    answered = replay(tx, k)
    if answered is not None:
        return answered
    answer = write()
    for name, triples in record(k, answer).items():
        tx.put(name, triples)
    return answer


def record(k: Key, answer: Answer) -> dict[NamedNode, list[Triple]]:
    """The document that keeps an answer, to write with the change."""
    node = k.graph
    body = ox.serialize(answer.triples, format=ox.RdfFormat.N_TRIPLES).decode()
    triples = [Triple(node, RDF_TYPE, hub("IdempotentResponse")),
               Triple(node, hub("responseStatus"), as_term(answer.status)),
               Triple(node, hub("requestDigest"), Literal(k.digest)),
               Triple(node, hub("body"), Literal(body))]
    if answer.location:
        triples.append(Triple(node, hub("location"), NamedNode(answer.location)))
    return {node: triples}


def rewritten(triples: list[Triple], change) -> list[Triple]:
    """A stored answer's document with its body's triples passed through `change` (an erasure)."""
    node = next((t.subject for t in triples if t.predicate == hub("body")), None)
    if node is None:
        return list(triples)
    body = first(triples, node, hub("body")).value.encode()
    answer = change([q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)])
    text = ox.serialize(answer, format=ox.RdfFormat.N_TRIPLES).decode()
    return [t for t in triples if t.predicate != hub("body")] + [Triple(node, hub("body"), Literal(text))]
