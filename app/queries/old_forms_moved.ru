# Rewrite what a store made by an older server holds in forms it no longer writes, so every
# query reads one form: an order line with only the literal dfc-b:quantity gets dfc-b:hasQuantity
# (a QuantitativeValue, no unit: the literal had none; the literal stays, for the DFC connector);
# dfc-b:offeredItem becomes dfc-b:offers (hub:offeredItem beside an offers, as app/rdf/normalise.py reads it); dfc-b:hasDescription becomes dfc-b:description.
# Run once when such a store is opened; changes nothing after.
PREFIX dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#>
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
INSERT { GRAPH ?g { ?line dfc-b:hasQuantity _:qv . _:qv a dfc-b:QuantitativeValue ; dfc-b:value ?q } }
WHERE {
  GRAPH ?g { ?order a dfc-b:Order ; dfc-b:hasPart ?line . ?line dfc-b:quantity ?q
             FILTER NOT EXISTS { ?line dfc-b:hasQuantity ?given } }
} ;
DELETE { GRAPH ?g { ?offer dfc-b:offeredItem ?item } }
INSERT { GRAPH ?g { ?offer ?term ?item } }
WHERE { GRAPH ?g { ?offer dfc-b:offeredItem ?item
                   BIND(IF(EXISTS { ?offer dfc-b:offers ?named }, hub:offeredItem, dfc-b:offers) AS ?term) } } ;
DELETE { GRAPH ?g { ?thing dfc-b:hasDescription ?text } }
INSERT { GRAPH ?g { ?thing dfc-b:description ?text } }
WHERE { GRAPH ?g { ?thing dfc-b:hasDescription ?text } }
