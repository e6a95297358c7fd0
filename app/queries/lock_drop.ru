# Remove a token from a lock's graph with its fence (and all it holds: a commit's marker), so
# that its holder, if alive, can no longer write. No PREFIX: several may go in one request.
# Bound: $lock, $token.
DROP SILENT GRAPH $token ;
DELETE WHERE { GRAPH $lock { $token ?p ?o } }
