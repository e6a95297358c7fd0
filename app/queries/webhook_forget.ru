# Remove a subscription's deliveries and attempts (its own document is dropped beside). Bound: ?sub.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
DELETE { GRAPH ?g { ?s ?p ?o } }
WHERE { GRAPH ?g { ?g hub:subscription ?sub . ?s ?p ?o } }
