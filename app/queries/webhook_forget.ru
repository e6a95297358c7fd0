# Remove a subscription's deliveries, attempts and batches, the documents under it naming it (its
# own document is dropped beside). Bound: ?sub.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
DELETE { GRAPH ?g { ?s ?p ?o } }
WHERE { GRAPH ?g { ?g hub:subscription ?sub . ?s ?p ?o } FILTER(STRSTARTS(STR(?g), CONCAT(STR(?sub), "/"))) }
