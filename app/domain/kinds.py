"""The resource kinds the API serves: collection segments, their aliases and DFC types."""
from __future__ import annotations

import dataclasses

from pyoxigraph import NamedNode

from app.namespaces import b, hub


@dataclasses.dataclass(frozen=True)
class Kind:
    # Who may read and write each kind is app/domain/policy.py's table, not a field here.
    segment: str           # canonical snake_case collection segment
    alias: str             # the CamelCase segment FDC servers use
    type: NamedNode        # the DFC class of the document's main node


KINDS = {k.segment: k for k in (
    Kind("supplied_products", "SuppliedProducts", b("SuppliedProduct")),
    Kind("catalog_items", "CatalogItems", b("CatalogItem")),
    Kind("offers", "Offers", b("Offer")),
    Kind("sale_sessions", "SaleSessions", b("SaleSession")),
)}
ENTERPRISE = Kind("enterprises", "Enterprises", b("Enterprise"))
# Orders have routes of their own (app/api/orders.py): buyers write in the seller's namespace.
ORDERS = Kind("orders", "Orders", b("Order"))
ORDER_LINES = Kind("order_lines", "orderLines", b("OrderLine"))
# Contracts too (app/api/contracts.py): private to the supplier and the consumer they name.
CONTRACTS = Kind("contracts", "Contracts", hub("Contract"))

# Every collection segment a URL may use → the kind it names.
SEGMENTS = {**{k.segment: k for k in KINDS.values()}, **{k.alias: k for k in KINDS.values()}}

# Collection segment spellings: CamelCase → snake_case and back (enterprises included).
TO_SNAKE = {**{k.alias: k.segment for k in KINDS.values()},
            **{k.alias: k.segment for k in (ENTERPRISE, ORDERS, ORDER_LINES, CONTRACTS)}, "OrderLines": "order_lines"}
TO_CAMEL = {**{snake: camel for camel, snake in TO_SNAKE.items()}, "order_lines": ORDER_LINES.alias}

# The collection segments under an enterprise that hold the server's own documents, routed apart
# from the catalogue's (tests/test_api_resources.py checks the routes against it): a catalogue
# import writes nothing there, whatever the node's type.
SERVER_SEGMENTS = frozenset({"orders", "Orders", "sale_sessions", "SaleSessions", "contracts", "Contracts",
                             "webhooks", "partners", "persons", "settings", "events", "catalog"})
# Types that give a node a document of its own when a whole catalogue is imported.
CATALOG_TYPES = {k.type for k in KINDS.values() if k.segment != "sale_sessions"}
KIND_OF_TYPE = {k.type: k for k in KINDS.values()}
# Types a catalogue import refuses: they have endpoints of their own.
NOT_CATALOG = {*(b(t) for t in ("Order", "OrderLine", "SaleSession", "Person")), CONTRACTS.type}
# The types that say what kind of document a node is: a write never changes them (issue 9: a
# catalogue item PUT as a product lost its ledger).
KIND_TYPES = frozenset({*(k.type for k in KINDS.values()), ENTERPRISE.type, ORDERS.type, ORDER_LINES.type,
                        CONTRACTS.type, b("Person"), hub("HubSettings")})
