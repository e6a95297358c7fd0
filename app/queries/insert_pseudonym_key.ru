# Store the server's secret key for persons' pseudonyms, once (under the write lock).
PREFIX hub: <https://w3id.org/dfc-order-hub/ns#>
INSERT DATA { GRAPH <urn:x-dfc-hub:pseudonym-key> { <urn:x-dfc-hub:pseudonym-key> hub:pseudonymKey ?key } }
