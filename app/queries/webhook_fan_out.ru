# Give one subscription a pending delivery of each event numbered in ?sequences (those recorded
# since its cursor, found by their numbers: only their own statements are read) that is of its
# types and names its owner as a party, and move its cursor to ?upto (app/events/dispatcher.py,
# under the write lock). A delivery is a document of its own, {subscription}/deliveries/{event
# number}. Bound: ?sub, ?sequences, ?parties (the owner, both spellings), ?types, ?upto, ?now.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState "pending" ; hub:attempts 0 ; hub:dueAt ?now } }
WHERE {
  VALUES ?sequence { ?sequences }
  GRAPH ?event { ?event hub:sequence ?sequence }
  # Checked per event found: joined instead, Oxigraph scans every event of the types (the whole log:
  # 91 ms a subscription at 20,000 events, against 0.4 ms so).
  FILTER EXISTS {
    VALUES ?party { ?parties }
    VALUES ?type { ?types }
    GRAPH ?event { ?event rdf:type hub:Event ; hub:party ?party ; hub:eventType ?type }
  }
  BIND(IRI(CONCAT(STR(?sub), "/deliveries/", STR(?sequence))) AS ?d)
} ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { GRAPH ?sub { ?sub hub:cursor ?cursor } FILTER(?cursor < ?upto) }
