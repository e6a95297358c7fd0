# Stop a subscription (its receiver answered 410 Gone): nothing more is sent to it. Bound: ?sub,
# ?now, ?reason.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
DELETE { GRAPH ?sub { ?sub hub:active true } }
INSERT { GRAPH ?sub { ?sub hub:active false ; hub:disabledAt ?now ; hub:disabledReason ?reason } }
WHERE { GRAPH ?sub { ?sub hub:active true } }
