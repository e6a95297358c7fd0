# Drop a held lock's fence: a commit of that holder the store has not started yet then fails
# when it does (a commit whose answer never came, app/store/remote.py). Bound: $token.
DROP SILENT GRAPH $token
