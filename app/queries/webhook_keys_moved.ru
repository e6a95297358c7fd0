# Move each signing key kept in its subscription's document to the subscription's key graph
# (app/events/subscriptions.py key_graph: "urn:x-dfc-hub:webhook-key:" and the SHA-256 of its IRI),
# which no route reads. Run once when a store made before that is opened; moves nothing after.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
DELETE { GRAPH ?sub { ?sub hub:signingKey ?key } }
INSERT { GRAPH ?keys { ?sub hub:signingKey ?key } }
WHERE {
  GRAPH ?sub { ?sub rdf:type hub:WebhookSubscription ; hub:signingKey ?key }
  BIND(IRI(CONCAT("urn:x-dfc-hub:webhook-key:", SHA256(STR(?sub)))) AS ?keys)
}
