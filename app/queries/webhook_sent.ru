# Record what a pass sent straight from its fan-out (app/events/dispatcher.py settle, under the
# write lock), for the subscriptions whose claim it still holds (hub:sendingBy ?token; the others'
# events are sent again by the pass that took them over). The deliveries a 2xx answered are one
# attempt each in the pass's batch for the subscription, {subscription}/batches/{token}: an entry
# of four statements (the link to it, its event's number, the status, the duration), where a document per
# delivery took eleven and a third of the dispatcher's CPU (bench/events.py). One that failed is a
# pending (or failed) delivery document, {subscription}/deliveries/{event number}, with its attempt
# beside it (webhook_attempts_made.ru). A delivery made meanwhile (a replay) is left to that
# replay. Each subscription's cursor moves to where its claim reached, never back, and the claim goes.
# Bound: ?delivered, rows of (?d ?sub ?sequence ?duration ?status); ?failed, rows of
# (?d ?sub ?event ?sequence ?state ?next); ?subscriptions (those of both); ?token; ?at.
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?batch { ?batch hub:delivered [ hub:sequence ?sequence ; hub:responseStatus ?status ;
                                               hub:duration ?duration ] } }
WHERE { VALUES (?d ?sub ?sequence ?duration ?status) { ?delivered }
        GRAPH ?sub { ?sub hub:sendingBy ?token }
        FILTER NOT EXISTS { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:deliveryState ?made } }
        BIND(IRI(CONCAT(STR(?sub), "/batches/", ?token)) AS ?batch) } ;
INSERT { GRAPH ?batch { ?batch rdf:type hub:DeliveryBatch ; hub:subscription ?sub ; hub:sentAt ?at } }
WHERE { VALUES ?sub { ?subscriptions }
        BIND(IRI(CONCAT(STR(?sub), "/batches/", ?token)) AS ?batch)
        FILTER EXISTS { GRAPH ?batch { ?batch hub:delivered ?entry } } } ;
INSERT { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:subscription ?sub ; hub:event ?event ;
                       hub:sequence ?sequence ; hub:deliveryState ?state ; hub:attempts 1 ; hub:dueAt ?next } }
WHERE { VALUES (?d ?sub ?event ?sequence ?state ?next) { ?failed }
        GRAPH ?sub { ?sub hub:sendingBy ?token }
        FILTER NOT EXISTS { GRAPH ?d { ?d rdf:type hub:WebhookDelivery ; hub:deliveryState ?made } } } ;
DELETE { GRAPH ?sub { ?sub hub:cursor ?cursor } }
INSERT { GRAPH ?sub { ?sub hub:cursor ?upto } }
WHERE { VALUES ?sub { ?subscriptions }
        GRAPH ?sub { ?sub hub:sendingBy ?token ; hub:sendingUpto ?upto ; hub:cursor ?cursor } FILTER(?cursor < ?upto) } ;
DELETE { GRAPH ?sub { ?sub hub:sendingUpto ?upto ; hub:sendingBy ?token ; hub:sendingUntil ?until } }
WHERE { VALUES ?sub { ?subscriptions } GRAPH ?sub { ?sub hub:sendingUpto ?upto ; hub:sendingBy ?token ; hub:sendingUntil ?until } }
