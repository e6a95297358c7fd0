# Make a held lock's fence again, where its token is still in the lock's graph (a unit of work
# written in parts goes on after a part found written). No PREFIX: several may go in one request.
# Bound: $lock, $token.
INSERT { GRAPH $token { $token <https://w3id.org/dfc-order-hub/ns#fences> $lock } }
WHERE { GRAPH $lock { $token <https://w3id.org/dfc-order-hub/ns#expires> ?e } }
