# Mark a sale session closed (run in the unit of work that placed its draft wholesale orders,
# app/orders/book.py close_session). Bound: ?session, ?now. No PREFIX: it follows the
# unit of work's document writes in one update, and Oxigraph takes no prologue after a `;`.
INSERT DATA { GRAPH ?session { ?session <https://w3id.org/dfc-order-hub/ns#closedAt> ?now } }
