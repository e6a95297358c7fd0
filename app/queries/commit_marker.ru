# Appended to a remote store's commit, in the same atomic update: the commit names itself in
# the lock document of a key the unit of work holds, so that a commit whose answer never came
# can be told written or not (app/store/remote.py). The statement goes with its lock token.
# No PREFIX: Oxigraph reads a prologue only at the start of a request, and this comes last.
# Bound: $lock (the lock's graph), $token (the holder's token), $commit (this commit's IRI).
INSERT DATA { GRAPH $lock { $token <https://w3id.org/dfc-order-hub/ns#wrote> $commit } }
