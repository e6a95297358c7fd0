"""A child process answering read-only queries over one store snapshot (app/store/snapshots.py).

pyoxigraph cannot interrupt a query it is evaluating, so a query that may run away runs here,
where stopping it is killing the process. Run as a script (`python -P query_worker.py`, which
keeps its folder off the path), it imports pyoxigraph and the standard library only, so it
starts in a fraction of a second.

Requests arrive on stdin, one JSON line each: `path` (a snapshot directory, opened read-only
and kept open while requests name it), `query`, optional `default` and `named` graph IRIs,
`format` (a SPARQL results media type, or N-Triples for graph results) and `max_bytes`. Each
answer on stdout is one JSON line — `{"length": n}` then n bytes, or `{"error": kind, "message"}`.
"""
from __future__ import annotations

import io
import json
import sys

import pyoxigraph as ox

N_TRIPLES = "application/n-triples"
FORMATS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
           "application/sparql-results+xml": ox.QueryResultsFormat.XML,
           "text/csv": ox.QueryResultsFormat.CSV, "text/tab-separated-values": ox.QueryResultsFormat.TSV,
           N_TRIPLES: ox.RdfFormat.N_TRIPLES}


class TooLarge(Exception):
    """The result grew past the request's `max_bytes`."""


class Bounded(io.RawIOBase):
    """A buffer that refuses to grow past `max_bytes`."""

    def __init__(self, max_bytes: int):
        super().__init__()
        self.data, self.max_bytes = io.BytesIO(), max_bytes

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.data.tell() + len(data) > self.max_bytes:
            raise TooLarge()
        return self.data.write(data)


def answer(store: ox.Store, request: dict) -> bytes:
    """Run one request's query over its dataset; return the serialised results."""
    dataset = {}
    if request.get("default") is not None:
        dataset["default_graph"] = [ox.NamedNode(g) for g in request["default"]]
    if request.get("named") is not None:
        dataset["named_graphs"] = [ox.NamedNode(g) for g in request["named"]]
    result = store.query(request["query"], **dataset)
    media = request["format"]
    if isinstance(result, ox.QueryTriples) != (media == N_TRIPLES):
        raise ValueError(f"this query's results cannot be written as {media}")
    out = Bounded(request["max_bytes"])
    result.serialize(out, format=FORMATS[media])
    return out.data.getvalue()


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    store, path = None, None
    for line in stdin:
        request = json.loads(line)
        body = b""
        try:
            if request["path"] != path:
                store, path = None, None          # let go of the old snapshot first
                store, path = ox.Store.read_only(request["path"]), request["path"]
            body = answer(store, request)
            header = {"length": len(body)}
        except TooLarge:
            header = {"error": "too-large", "message": f"more than {request['max_bytes']} bytes"}
        except SyntaxError as e:
            header = {"error": "invalid", "message": f"the query is not valid SPARQL: {e}"}
        except (RuntimeError, ValueError) as e:
            header = {"error": "invalid", "message": f"the query failed: {e}"}
        except OSError as e:
            header = {"error": "unavailable", "message": f"the snapshot could not be read: {e}"}
        stdout.write(json.dumps(header).encode() + b"\n" + body)
        stdout.flush()


if __name__ == "__main__":
    main()
