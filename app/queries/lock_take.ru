# A process asks for a remote store's lock (app/store/store_lock.py): its token, with the
# instant it expires, in the lock's graph; and the token's fence, a graph of its own that
# exists while the token is held (a commit fails without it: lock_fence.ru).
# No PREFIX: several lock operations may go in one request, and Oxigraph reads a prologue only at its start.
# Bound: $lock (the lock's graph), $token (this holder's token), $expires (an xsd:dateTime).
INSERT DATA {
  GRAPH $lock { $token <https://w3id.org/dfc-order-hub/ns#expires> $expires }
  GRAPH $token { $token <https://w3id.org/dfc-order-hub/ns#fences> $lock }
}
