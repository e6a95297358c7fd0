# Record how a claimed delivery went, if this pass still holds its claim (the deliveries that
# failed: webhook_delivered records the others at once): its new state, the
# attempts made in this round, when it is next due; the claim is released. Bound: ?d, ?token,
# ?state ("pending", "delivered" or "failed"), ?attempts, ?next.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
DELETE { GRAPH ?d { ?d hub:claimedUntil ?until ; hub:claimedBy ?token ; hub:deliveryState ?was ;
                    hub:attempts ?made ; hub:dueAt ?due } }
INSERT { GRAPH ?d { ?d hub:deliveryState ?state ; hub:attempts ?attempts ; hub:dueAt ?next } }
WHERE { GRAPH ?d { ?d hub:claimedBy ?token ; hub:claimedUntil ?until ; hub:deliveryState ?was ;
                   hub:attempts ?made ; hub:dueAt ?due } }
