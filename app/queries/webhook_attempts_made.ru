# Record attempts, each a document of its own, {delivery}/attempts/{the pass's token}
# (app/events/dispatcher.py settle). A row's unbound status (no answer came) or error (a 2xx)
# writes no statement. Bound: ?attempts, rows of
# (?a ?sub ?sequence ?number ?at ?duration ?status ?error).
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?a { ?a rdf:type hub:DeliveryAttempt ; hub:subscription ?sub ; hub:sequence ?sequence ;
                       hub:attemptNumber ?number ; hub:attemptedAt ?at ; hub:duration ?duration ;
                       hub:responseStatus ?status ; hub:error ?error } }
WHERE { VALUES (?a ?sub ?sequence ?number ?at ?duration ?status ?error) { ?attempts } }
