# Schedule again every event numbered in (?after, ?upto] of one subscription's types naming its
# owner (POST …/webhooks/{id}/replay, under the write lock): a delivery that exists goes back to
# pending with no attempt made in its round (its claim, if a pass holds one, is left alone: that
# pass settles it); one that does not is made; the cursor moves to ?upto. The events between a
# cursor behind ?after and ?after are scheduled too: no fan-out will reach them once the cursor
# has moved, and they are owed (a replay "after" the last event, with deliveries still to make,
# once lost them). Bound: ?sub, ?parties, ?types, ?after, ?upto, ?now.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
DELETE { GRAPH ?d { ?d hub:deliveryState ?state ; hub:attempts ?attempts ; hub:dueAt ?due } }
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState "pending" ; hub:attempts 0 ; hub:dueAt ?now } }
WHERE {
  VALUES ?party { ?parties }
  VALUES ?type { ?types }
  GRAPH ?sub { ?sub hub:cursor ?cursor }
  GRAPH ?event { ?event rdf:type hub:Event ; hub:party ?party ; hub:eventType ?type ; hub:sequence ?sequence }
  FILTER(?sequence > IF(?cursor < ?after, ?cursor, ?after) && ?sequence <= ?upto)
  BIND(IRI(CONCAT(STR(?sub), "/deliveries/", STR(?sequence))) AS ?d)
  # Apart: a delivery document has no due time once delivered (webhook_delivered.ru; and as
  # stores before batches recorded a delivery sent at once). A batch's entry has no document: one is made.
  OPTIONAL { GRAPH ?d { ?d hub:deliveryState ?state } }
  OPTIONAL { GRAPH ?d { ?d hub:attempts ?attempts } }
  OPTIONAL { GRAPH ?d { ?d hub:dueAt ?due } }
} ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { GRAPH ?sub { ?sub hub:cursor ?cursor } FILTER(?cursor < ?upto) }
