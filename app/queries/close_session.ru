# Close a sale session in one update (run inside the unit of work that read it open):
# what the hub's Held orders of the session hold moves to committed in each item's ledger,
# those orders become Complete (fulfilment Unfulfilled, unless a later one was set), and the
# session gets its closedAt. Bound: ?session, ?hub (the session's own hub), ?now.
# Held → committed leaves `available` (and so stockLimitation and onHand) as it was.
PREFIX dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#>
PREFIX dfc-v: <https://github.com/datafoodconsortium/taxonomies/releases/latest/download/vocabulary.rdf#>
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
DELETE { GRAPH ?item { ?item hub:held ?held . ?item hub:committed ?committed } }
INSERT { GRAPH ?item { ?item hub:held ?heldAfter . ?item hub:committed ?committedAfter } }
WHERE {
  { SELECT ?item (SUM(?quantity) AS ?moved) WHERE {
      GRAPH ?order {
        ?order rdf:type dfc-b:Order ; dfc-b:belongsTo ?session ; dfc-b:orderedBy ?hub ;
               dfc-b:hasOrderStatus dfc-v:Held ; dfc-b:hasPart ?line .
        ?line hub:stockItem ?item .
        OPTIONAL { ?line dfc-b:hasQuantity ?amount . ?amount dfc-b:value ?given }
        OPTIONAL { ?line dfc-b:quantity ?plain }
      }
      FILTER NOT EXISTS { GRAPH ?order { ?order hub:customerOrder true } }
      # A line's quantity as the order rules read it: its QuantitativeValue first, else dfc-b:quantity.
      BIND(COALESCE(xsd:decimal(?given), xsd:decimal(?plain), 0.0) AS ?quantity)
    } GROUP BY ?item }
  GRAPH ?item { ?item rdf:type dfc-b:CatalogItem }
  OPTIONAL { GRAPH ?item { ?item hub:held ?held } }
  OPTIONAL { GRAPH ?item { ?item hub:committed ?committed } }
  BIND(xsd:decimal(COALESCE(?held, 0.0)) - ?moved AS ?heldAfter)
  BIND(xsd:decimal(COALESCE(?committed, 0.0)) + ?moved AS ?committedAfter)
} ;
DELETE { GRAPH ?order { ?order dfc-b:hasOrderStatus dfc-v:Held . ?order dfc-b:hasFulfilmentStatus ?fulfilment } }
INSERT { GRAPH ?order { ?order dfc-b:hasOrderStatus dfc-v:Complete . ?order dfc-b:hasFulfilmentStatus ?next } }
WHERE {
  GRAPH ?order { ?order rdf:type dfc-b:Order ; dfc-b:belongsTo ?session ; dfc-b:orderedBy ?hub ;
                        dfc-b:hasOrderStatus dfc-v:Held . }
  FILTER NOT EXISTS { GRAPH ?order { ?order hub:customerOrder true } }
  OPTIONAL { GRAPH ?order { ?order dfc-b:hasFulfilmentStatus ?fulfilment } }
  BIND(IF(!BOUND(?fulfilment) || ?fulfilment IN (dfc-v:Held, dfc-v:Unfulfilled, dfc-v:Cancelled),
          dfc-v:Unfulfilled, ?fulfilment) AS ?next)
} ;
INSERT DATA { GRAPH ?session { ?session hub:closedAt ?now } }
