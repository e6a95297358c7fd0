# Give a staged event (app/events/outbox.py) its number: its statements move to the numbered
# event's graph, about the numbered IRI, and it becomes a hub:Event. Bound: ?staged, ?event
# (event_iri(?sequence)), ?sequence (an xsd:integer).
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
DELETE { GRAPH ?staged { ?staged ?p ?o } }
INSERT { GRAPH ?event { ?event ?p ?o } }
WHERE { GRAPH ?staged { ?staged ?p ?o } } ;
INSERT DATA { GRAPH ?event { ?event rdf:type hub:Event ; hub:sequence ?sequence } }
