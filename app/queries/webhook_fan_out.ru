# Give subscriptions their pending deliveries and move their cursors (app/events/dispatcher.py,
# under the write lock; app/events/subscriptions.py fan_out_bindings chose which). A delivery is
# a document of its own, {subscription}/deliveries/{event number}; those due now that this pass
# sends at once are claimed by it already (?until, ?token; unbound: not claimed). Bound:
# ?deliveries, rows of (?d ?sub ?event ?sequence ?until ?token); ?cursors, rows of (?sub ?upto); ?now.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState "pending" ; hub:attempts 0 ; hub:dueAt ?now ;
                       hub:claimedUntil ?until ; hub:claimedBy ?token } }
WHERE { VALUES (?d ?sub ?event ?sequence ?until ?token) { ?deliveries } } ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { VALUES (?sub ?upto) { ?cursors } GRAPH ?sub { ?sub hub:cursor ?cursor } FILTER(?cursor < ?upto) }
