# Give staged events (app/events/outbox.py) their numbers, all in one operation: each one's
# place (hub:sequence -k) is replaced by its number; its graph and other statements stay.
# A row matches only while its event is unnumbered: numbered twice (its writer late,
# `adopt_staged` first), the second changes nothing and leaves a gap in the numbers.
# Bound: $rows, one (event graph, sequence as xsd:integer) per event.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
DELETE { GRAPH ?event { ?event hub:sequence ?place } }
INSERT { GRAPH ?event { ?event hub:sequence ?sequence } }
WHERE {
  VALUES (?event ?sequence) { $rows }
  GRAPH ?event { ?event hub:sequence ?place }
  FILTER(?place < 0)
}
