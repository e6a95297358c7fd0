"""A sale session's summary: per producer and product, what customers ordered and what is held."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from pyoxigraph import BlankNode, NamedNode, Triple

from app import queries
from app.namespaces import RDF_TYPE, hub
from app.rdf.terms import decimal_literal
from app.rdf.triples import number, tidy
from app.store import Store

COLUMNS = ("ordered", "held", "completed", "cancelled", "kilograms", "value", "catalogue_value", "confirmed_value")
TERMS = {"ordered": "orderedQuantity", "held": "heldQuantity", "completed": "completedQuantity",
         "cancelled": "cancelledQuantity", "kilograms": "totalWeight", "value": "value",
         "catalogue_value": "catalogueValue", "confirmed_value": "confirmedValue"}


def rows(store: Store, session: NamedNode, hub_iri: NamedNode) -> list[dict]:
    """One dict per (producer, product): the figures of COLUMNS as decimals."""
    table: dict[tuple, dict] = {}
    for query, bindings in (("summary_customers", {"session": session}),
                            ("summary_wholesale", {"session": session, "hub": hub_iri})):
        for row in store.select(queries.load(query), bindings):
            key = (row["producer"], row.get("product"))
            entry = table.setdefault(key, {"producer": key[0], "product": key[1],
                                           **{c: Decimal(0) for c in COLUMNS}})
            for column in COLUMNS:
                if column in row:
                    entry[column] = number(row[column]) or Decimal(0)
    return [table[k] for k in sorted(table, key=lambda k: (k[0].value, k[1].value if k[1] else ""))]


def to_triples(session: NamedNode, table: list[dict], forwarded: list[dict] = ()) -> list[Triple]:
    """The summary as a document; `forwarded`: the session's orders forwarded to partners, with their sync state."""
    node = NamedNode(session.value + "/summary")
    out = [Triple(node, RDF_TYPE, hub("SessionSummary")), Triple(node, hub("summaryOf"), session)]
    for row in forwarded:
        order = row["order"]
        out += [Triple(node, hub("forwardedOrder"), order), Triple(order, hub("forwardedTo"), row["partner"]),
                Triple(order, hub("syncState"), row["state"])]
        out += [Triple(order, hub(term), row[key]) for key, term in
                (("remote", "remoteOrder"), ("syncedAt", "syncedAt"), ("error", "syncError")) if key in row]
    for entry in table:
        row = BlankNode()
        out += [Triple(node, hub("row"), row), Triple(row, hub("supplier"), entry["producer"])]
        if entry["product"] is not None:
            out.append(Triple(row, hub("product"), entry["product"]))
        out += [Triple(row, hub(TERMS[c]), decimal_literal(entry[c])) for c in COLUMNS]
    return out


def to_csv(table: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["producer", "product", *COLUMNS])
    for entry in table:
        writer.writerow([entry["producer"].value, entry["product"].value if entry["product"] else "",
                         *(format(tidy(entry[c]), "f") for c in COLUMNS)])
    return buffer.getvalue()
