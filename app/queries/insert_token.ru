# Store an issued token's digest with its agent and scopes (space-separated).
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
INSERT DATA { GRAPH <urn:x-dfc-hub:tokens> { ?token a hub:AccessToken ; hub:agent ?agent ; hub:scopes ?scopes } }
