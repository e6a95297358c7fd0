# Appended to a remote commit for each lock it holds: the whole update fails if the lock's
# fence is gone (DROP GRAPH without SILENT fails on a missing graph), that is if another process
# removed this holder's token, so a holder that lost its lock writes nothing. The fence is
# made again at once: the lock is kept. No PREFIX: it comes after the commit's own operations.
# Bound: $lock, $token.
DROP GRAPH $token ;
INSERT DATA { GRAPH $token { $token <https://w3id.org/dfc-order-hub/ns#fences> $lock } }
