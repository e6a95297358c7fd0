# Record that ?deliveries were delivered (a 2xx came back), those this pass still holds the
# claim of: one more attempt counted, the claim released. Bound: ?deliveries, ?token.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
DELETE { GRAPH ?d { ?d hub:claimedUntil ?until ; hub:claimedBy ?token ; hub:deliveryState ?was ; hub:attempts ?made } }
INSERT { GRAPH ?d { ?d hub:deliveryState "delivered" ; hub:attempts ?attempts } }
WHERE {
  VALUES ?d { ?deliveries }
  GRAPH ?d { ?d hub:claimedBy ?token ; hub:claimedUntil ?until ; hub:deliveryState ?was ; hub:attempts ?made }
  BIND(?made + 1 AS ?attempts)
}
