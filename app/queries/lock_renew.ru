# The heartbeat moves a held token's expiry ahead; only a token still in the store is renewed,
# so a renewal never brings back one released or expired. No PREFIX: several may go in one
# request. Bound: $lock, $token, $expires (an xsd:dateTime).
DELETE { GRAPH $lock { $token <https://w3id.org/dfc-order-hub/ns#expires> ?e } }
INSERT { GRAPH $lock { $token <https://w3id.org/dfc-order-hub/ns#expires> $expires } }
WHERE { GRAPH $lock { $token <https://w3id.org/dfc-order-hub/ns#expires> ?e } }
