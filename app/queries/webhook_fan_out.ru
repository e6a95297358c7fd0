# Fan out new events to subscriptions (app/events/dispatcher.py, under the write lock;
# app/events/subscriptions.py fan_out_bindings chose what). Deliveries due later are made
# pending, each a document of its own, {subscription}/deliveries/{event number}, and those
# subscriptions' cursors move past them. Deliveries due at once are not written here: the pass
# sends them and records them as it settles (webhook_sent.ru); the subscription holds the
# pass's claim on its events up to ?upto meanwhile, its cursor left where it was, so a pass that
# dies leaves a claim that lapses and a cursor from which the next pass sends them again.
# A lapsed claim is replaced. Bound: ?deliveries, rows of (?d ?sub ?event ?sequence);
# ?cursors and ?claims, rows of (?sub ?upto); ?now, ?token, ?until.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState "pending" ; hub:attempts 0 ; hub:dueAt ?now } }
WHERE { VALUES (?d ?sub ?event ?sequence) { ?deliveries } } ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { VALUES (?sub ?upto) { ?cursors } GRAPH ?sub { ?sub hub:cursor ?cursor } FILTER(?cursor < ?upto) } ;
DELETE { GRAPH ?sub { ?sub hub:sendingUpto ?was ; hub:sendingBy ?holder ; hub:sendingUntil ?lapsed } }
WHERE { VALUES (?sub ?upto) { ?claims }
        GRAPH ?sub { ?sub hub:sendingUpto ?was ; hub:sendingBy ?holder ; hub:sendingUntil ?lapsed } } ;
INSERT { GRAPH ?sub { ?sub hub:sendingUpto ?upto ; hub:sendingBy ?token ; hub:sendingUntil ?until } }
WHERE { VALUES (?sub ?upto) { ?claims } }
