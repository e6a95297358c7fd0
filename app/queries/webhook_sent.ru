# Record what a pass sent straight from its fan-out (app/events/dispatcher.py settle, under the
# write lock), for the subscriptions whose claim it still holds (hub:sendingBy ?token; the others'
# events are sent again by the pass that took them over). Each delivery becomes a document in its final
# state, {subscription}/deliveries/{event number}: one that a 2xx answered is at once the delivery
# and its one attempt (11 statements, where pending, claimed, settled and attempted apart took 22:
# bench/events.py); one that failed is pending (or failed) with its attempt beside it
# (webhook_attempts_made.ru). A delivery made meanwhile (a replay) is left to that replay. Each
# subscription's cursor moves to where its claim reached, never back, and the claim goes.
# Bound: ?delivered, rows of (?d ?sub ?event ?sequence ?duration ?status); ?failed, rows of
# (?d ?sub ?event ?sequence ?state ?next); ?subscriptions (those of both); ?token; ?at.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery , hub:DeliveryAttempt ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState "delivered" ; hub:attempts 1 ; hub:attemptNumber 1 ;
                       hub:attemptedAt ?at ; hub:duration ?duration ; hub:responseStatus ?status } }
WHERE { VALUES (?d ?sub ?event ?sequence ?duration ?status) { ?delivered }
        GRAPH ?sub { ?sub hub:sendingBy ?token }
        FILTER NOT EXISTS { GRAPH ?d { ?d hub:deliveryState ?made } } } ;
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState ?state ; hub:attempts 1 ; hub:dueAt ?next } }
WHERE { VALUES (?d ?sub ?event ?sequence ?state ?next) { ?failed }
        GRAPH ?sub { ?sub hub:sendingBy ?token }
        FILTER NOT EXISTS { GRAPH ?d { ?d hub:deliveryState ?made } } } ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { VALUES ?sub { ?subscriptions }
        GRAPH ?sub { ?sub hub:sendingBy ?token ; hub:sendingUpto ?upto ; hub:cursor ?cursor } FILTER(?cursor < ?upto) } ;
DELETE { GRAPH ?sub { ?sub hub:sendingUpto ?upto ; hub:sendingBy ?token ; hub:sendingUntil ?until } }
WHERE { VALUES ?sub { ?subscriptions } GRAPH ?sub { ?sub hub:sendingUpto ?upto ; hub:sendingBy ?token ; hub:sendingUntil ?until } }
