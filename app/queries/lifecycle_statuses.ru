# Give every wholesale order written before the supplier lifecycle its hub:status, as the
# lifecycle reads such an order (app/domain/lifecycle.py status_of): Complete is `placed`
# (its stock is still committed), Cancelled `canceled_by_consumer`, anything else `draft`.
# Customer orders have no lifecycle status. Run by `dfc-hub serve` at start; a no-op after.
PREFIX dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#>
PREFIX dfc-v: <https://github.com/datafoodconsortium/taxonomies/releases/latest/download/vocabulary.rdf#>
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
INSERT { GRAPH ?order { ?order hub:status ?status } }
WHERE {
  GRAPH ?order { ?order rdf:type dfc-b:Order ; dfc-b:orderedBy ?buyer . }
  FILTER NOT EXISTS { GRAPH ?order { ?order hub:customerOrder true } }
  FILTER NOT EXISTS { GRAPH ?order { ?order hub:status ?any } }
  OPTIONAL { GRAPH ?order { ?order dfc-b:hasOrderStatus ?dfc } }
  BIND(IF(BOUND(?dfc) && ?dfc = dfc-v:Complete, hub:placed,
          IF(BOUND(?dfc) && ?dfc = dfc-v:Cancelled, hub:canceled_by_consumer, hub:draft)) AS ?status)
}
