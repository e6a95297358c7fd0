# Give one staged event (app/events/outbox.py) its number: its statements move to the numbered
# event's graph, about the numbered IRI, its place (hub:sequence -k) replaced by its number.
# It matches only while the staged event is there: numbered twice (its writer late,
# `adopt_staged` first), the second changes nothing and leaves a gap in the numbers.
# Bound: ?staged, ?event (event_iri(?sequence)), ?sequence (an xsd:integer).
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
DELETE { GRAPH ?staged { ?staged ?p ?o } }
INSERT { GRAPH ?event { ?event ?p ?value } }
WHERE {
  GRAPH ?staged { ?staged ?p ?o }
  BIND(IF(?p = hub:sequence, ?sequence, ?o) AS ?value)
}
