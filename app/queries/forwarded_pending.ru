# At a session's close: every order of the session forwarded to a partner must reach it again
# (now Complete), so it joins the retry queue in the same update as the close. Full IRIs, no
# PREFIX: it rides after close_session.ru in one update, where Oxigraph takes no second prologue.
DELETE { GRAPH ?order { ?order <https://w3id.org/dfc-order-hub/ns#syncState> ?state } }
INSERT { GRAPH ?order { ?order <https://w3id.org/dfc-order-hub/ns#syncState> "pending" } }
WHERE {
  GRAPH ?order {
    ?order <https://w3id.org/dfc-order-hub/ns#forwardedTo> ?partner ;
           <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#belongsTo> ?session ;
           <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#orderedBy> ?hub ;
           <https://w3id.org/dfc-order-hub/ns#syncState> ?state }
}
