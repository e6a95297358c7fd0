# Claim deliveries for one pass of one process until ?until (app/events/dispatcher.py, under the write
# lock, right after webhook_due found them unclaimed): a lapsed claim is replaced. Bound:
# ?deliveries, ?token, ?until.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
DELETE { GRAPH ?d { ?d hub:claimedUntil ?old ; hub:claimedBy ?holder } }
WHERE { VALUES ?d { ?deliveries } GRAPH ?d { ?d hub:claimedUntil ?old ; hub:claimedBy ?holder } } ;
INSERT { GRAPH ?d { ?d hub:claimedUntil ?until ; hub:claimedBy ?token } }
WHERE { VALUES ?d { ?deliveries } }
