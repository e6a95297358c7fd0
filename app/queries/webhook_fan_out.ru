# Give one subscription a pending delivery of each event of its types naming its owner as a party,
# numbered in (?after, ?upto], and move its cursor to ?upto (app/delivery.py, under the write lock).
# A delivery is a document of its own, {subscription}/deliveries/{event number}. Bound: ?sub,
# ?parties (the owner, both spellings), ?types, ?after, ?upto, ?now. Replays use it too: a
# delivery that exists is reset to pending, its attempts to 0, its claim (if any) left alone.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
DELETE { GRAPH ?d { ?d hub:deliveryState ?state ; hub:attempts ?attempts ; hub:dueAt ?due } }
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState "pending" ; hub:attempts 0 ; hub:dueAt ?now } }
WHERE {
  VALUES ?party { ?parties }
  VALUES ?type { ?types }
  GRAPH ?event { ?event rdf:type hub:Event ; hub:party ?party ; hub:eventType ?type ; hub:sequence ?sequence }
  FILTER(?sequence > ?after && ?sequence <= ?upto)
  BIND(IRI(CONCAT(STR(?sub), "/deliveries/", STR(?sequence))) AS ?d)
  OPTIONAL { GRAPH ?d { ?d hub:deliveryState ?state ; hub:attempts ?attempts ; hub:dueAt ?due } }
} ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { GRAPH ?sub { ?sub hub:cursor ?cursor } FILTER(?cursor < ?upto) }
