# Give one staged event (app/events/outbox.py) its number: it becomes a hub:Event, its
# statements move to the numbered event's graph, about the numbered IRI. Each step matches only
# while the staged event is there: numbered twice (its writer late, `adopt_staged` first), the
# second changes nothing and leaves a gap in the numbers. Bound: ?staged, ?event
# (event_iri(?sequence)), ?sequence (an xsd:integer).
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?event { ?event rdf:type hub:Event ; hub:sequence ?sequence } }
WHERE { GRAPH ?staged { ?staged hub:eventType ?type } } ;
DELETE { GRAPH ?staged { ?staged ?p ?o } }
INSERT { GRAPH ?event { ?event ?p ?o } }
WHERE { GRAPH ?staged { ?staged ?p ?o } FILTER(?p != hub:sequence) } ;
DELETE WHERE { GRAPH ?staged { ?staged ?p ?o } }
