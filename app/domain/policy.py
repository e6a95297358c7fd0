"""Who may read and write what: one table, a row per resource kind and action (API.md "Tokens").

Every route names the row it obeys (`Rule.routes`, Flask endpoints); a test fails when a route
has none, and another calls every route as every kind of agent and checks what the row says.
docs/policy.md is this table rendered (`dfc-hub policy-table`), kept current by a test.

A row says who may act (`who`) and which scopes grant it (any one of them; a token without
scopes carries them all, except where `who` is SCOPED). The admin may do everything.

What anyone may read is a list of kinds of document (`PUBLIC`, API.md "What anyone may read"):
every route that shows documents without a token (a document, a collection, the catalogue) and
the analysts' dataset ask `is_public`, so a kind nobody listed is private.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pyoxigraph import NamedNode, Triple

from app.domain.agents import Agent
from app.errors import Forbidden, Unauthorized
from app.namespaces import RDF_TYPE, b, hub

# Who may act, besides the admin:
ANYONE = "anyone"       # no token needed
TOKEN = "any agent"     # any bearer of a token (what it sees may still be filtered)
OWNER = "owner"         # the enterprise whose namespace the resource lives in
PARTY = "seller or buyer"   # the owner (the seller), or the buyer the order names (dfc-b:orderedBy)
SCOPED = "scoped"       # any agent whose token names the scope: an unscoped one is not enough
ADMIN = "admin"         # the admin token only



@dataclasses.dataclass(frozen=True)
class Rule:
    """One row: who may do `action` on `resource`, with which scopes, through which routes."""
    resource: str
    action: str
    who: str
    scopes: tuple[str, ...] = ()    # any one of them grants the action
    routes: tuple[str, ...] = ()    # "METHOD blueprint.endpoint" of every route doing this
    needs: str = ""                 # the 401 detail for a caller without a token
    refused: str = ""               # the 403 detail for a caller who is not `who`; {agent} {eid} {order}
    note: str = ""                  # what the table should say besides yes and no


_WRITE_NEEDS = "this write needs a bearer token"
_WRITE_REFUSED = "{agent} may not write the resources of enterprise {eid}"
_READ_NEEDS = "this request needs a bearer token"
_READ_REFUSED = "{agent} may not read the resources of enterprise {eid}"
_PRIVATE = "orders are private: send a bearer token"
_NOT_PARTY = "{agent} is neither the seller nor the buyer of {order}"
_NOT_BUYER = "{agent} may only write the orders it placed itself (dfc-b:orderedBy <{agent}>)"
_ORDER_READ = ("ReadOrders", "WriteOrders")
_CONTRACTS_PRIVATE = "contracts are private: send a bearer token"
_NOT_CONTRACT_PARTY = "{agent} is neither the supplier nor the consumer of {order}"
# A contract is a price list for one consumer: the products scopes read and write it.
_PRICES_READ = ("ReadProducts", "WriteProducts")


def _catalog(resource: str) -> list[Rule]:
    """A catalogue kind: public reads, writes by its enterprise with WriteProducts."""
    def write(action, endpoint):
        return Rule(resource, action, OWNER, ("WriteProducts",), (endpoint,), _WRITE_NEEDS, _WRITE_REFUSED)
    return [Rule(resource, "list", ANYONE, routes=("GET resources.list_resources",)),
            Rule(resource, "read", ANYONE, routes=("GET resources.get_resource",)),
            write("create", "POST resources.create_resource"),
            write("replace", "PUT resources.put_resource"),
            write("delete", "DELETE resources.delete_resource")]


def _order_rules(resource: str, routes: dict[str, tuple[str, ...]]) -> list[Rule]:
    """An order's rows, or its lines'. A line's routes read its order ("order" "read") and write
    the whole order ("order" "replace"), so the lines' rows are the order's, and listing the
    lines of one order is reading that order."""
    read = Rule(resource, "read", PARTY, _ORDER_READ, needs=_PRIVATE, refused=_NOT_PARTY)
    rules = {
        "list": Rule(resource, "list", TOKEN, _ORDER_READ, needs=_PRIVATE,
                     note="the seller sees all, any other agent the orders it placed")
        if resource == "order" else dataclasses.replace(read, action="list"),
        "read": read,
        "create": Rule(resource, "create", PARTY, ("WriteOrders",), needs=_PRIVATE, refused=_NOT_BUYER,
                       note="any agent may place an order as its own buyer; the seller, its customers' "
                            "(the lifecycle refuses it another enterprise's)"),
        "replace": Rule(resource, "replace", PARTY, ("WriteOrders",), needs=_PRIVATE, refused=_NOT_BUYER,
                        note="the seller sends the consumer's part back as it is (app/domain/lifecycle.py)"),
        "delete": Rule(resource, "delete", PARTY, ("WriteOrders",),
                       needs="writing an order needs a bearer token", refused=_NOT_BUYER),
    }
    return [dataclasses.replace(rules[action], routes=found) for action, found in routes.items()]


RULES: tuple[Rule, ...] = (
    Rule("enterprise", "list", ANYONE, routes=("GET resources.list_enterprises", "GET pages.enterprises")),
    Rule("enterprise", "read", ANYONE, routes=("GET resources.get_enterprise",)),
    Rule("enterprise", "replace", OWNER, ("WriteEnterprise",), ("PUT resources.put_enterprise",),
         _WRITE_NEEDS, _WRITE_REFUSED, "creates it too"),
    Rule("enterprise", "delete", OWNER, ("WriteEnterprise",), ("DELETE resources.delete_enterprise",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    Rule("catalog", "read", ANYONE, routes=("GET resources.get_catalog",)),
    Rule("catalog", "import", OWNER, ("WriteProducts",), ("POST resources.import_catalog",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    *_catalog("supplied_product"),
    *_catalog("catalog_item"),
    *_catalog("offer"),
    *_catalog("sale_session"),
    Rule("sale_session", "close", OWNER, ("WriteOrders",), ("POST orders.close_session", "POST pages.close_session"),
         _WRITE_NEEDS, _WRITE_REFUSED),
    *_order_rules("order", {"list": ("GET orders.list_orders",),
                            "read": ("GET orders.get_order", "GET lifecycle.list_deliveries",
                                     "GET lifecycle.get_delivery", "GET pages.order"),
                            "create": ("POST orders.place_order",), "replace": ("PUT orders.put_order",),
                            "delete": ("DELETE orders.delete_order",)}),
    # The lifecycle table (app/domain/lifecycle.py) then says which party may make which move.
    Rule("order", "transition", PARTY, ("WriteOrders",), ("POST lifecycle.post_status", "POST pages.move_order"), _PRIVATE, _NOT_PARTY,
         "the consumer places and cancels, the supplier moves every other step"),
    Rule("order", "deliveries", PARTY, ("WriteOrders",),
         ("POST lifecycle.create_delivery", "PUT lifecycle.put_delivery", "DELETE lifecycle.delete_delivery"),
         _PRIVATE, _NOT_PARTY, "the consumer plans deliveries; the supplier confirms their dates"),
    Rule("order", "ship", OWNER, ("WriteOrders",), ("POST lifecycle.ship_delivery", "POST pages.ship"), _WRITE_NEEDS, _WRITE_REFUSED,
         "the supplier ships"),
    *_order_rules("order_line", {"list": ("GET orders.list_lines",), "read": ("GET orders.get_line",),
                                 "replace": ("PUT orders.put_line",), "delete": ("DELETE orders.delete_line",)}),
    Rule("contract", "list", TOKEN, _PRICES_READ, ("GET contracts.list_contracts",), _CONTRACTS_PRIVATE,
         note="the supplier sees all, any other agent the contracts that name it as consumer"),
    Rule("contract", "read", PARTY, _PRICES_READ, ("GET contracts.get_contract",), _CONTRACTS_PRIVATE,
         _NOT_CONTRACT_PARTY, "the buyer is the consumer the contract names"),
    Rule("contract", "create", OWNER, ("WriteProducts",), ("POST contracts.create_contract",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    Rule("contract", "replace", OWNER, ("WriteProducts",), ("PUT contracts.put_contract",),
         _WRITE_NEEDS, _WRITE_REFUSED, "creates it too"),
    Rule("contract", "delete", OWNER, ("WriteProducts",), ("DELETE contracts.delete_contract",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    Rule("hub_settings", "read", OWNER, ("ReadEnterprise", "WriteEnterprise"), ("GET hub_settings.get_settings",),
         _READ_NEEDS, _READ_REFUSED),
    Rule("hub_settings", "replace", OWNER, ("WriteEnterprise",), ("PUT hub_settings.put_settings",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    # A partner's token is the hub's secret toward another platform: only the hub reads its partners.
    Rule("partner", "read", OWNER, ("ReadEnterprise", "WriteEnterprise"), ("GET partners.get_partner",),
         _READ_NEEDS, _READ_REFUSED, "never shows the token"),
    Rule("partner", "replace", OWNER, ("WriteEnterprise",), ("PUT partners.put_partner",),
         _WRITE_NEEDS, _WRITE_REFUSED, "creates it too"),
    Rule("partner", "delete", OWNER, ("WriteEnterprise",), ("DELETE partners.delete_partner",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    Rule("partner", "sync", OWNER, ("WriteEnterprise",), ("POST partners.sync_partner",),
         _WRITE_NEEDS, _WRITE_REFUSED, "fetches the configured catalogue URL only"),
    # Both show what the hub's orders hold, which a token that may read or write them sees anyway.
    Rule("session_summary", "read", OWNER, _ORDER_READ, ("GET orders.session_summary", "GET pages.session"),
         _READ_NEEDS, _READ_REFUSED),
    Rule("wholesale_orders", "list", OWNER, _ORDER_READ, ("GET orders.wholesale_orders",),
         _READ_NEEDS, _READ_REFUSED),
    # An enterprise's events and webhooks tell what happens to its orders: read like its orders;
    # a subscription is the enterprise's own setting, written like its other settings.
    Rule("event", "list", OWNER, _ORDER_READ, ("GET events.list_events",), _READ_NEEDS, _READ_REFUSED),
    Rule("webhook", "list", OWNER, _ORDER_READ, ("GET events.list_webhooks",), _READ_NEEDS, _READ_REFUSED),
    Rule("webhook", "read", OWNER, _ORDER_READ, ("GET events.get_webhook",), _READ_NEEDS, _READ_REFUSED),
    Rule("webhook", "create", OWNER, ("WriteEnterprise",), ("POST events.create_webhook",),
         _WRITE_NEEDS, _WRITE_REFUSED, "the answer shows the signing secret, once"),
    Rule("webhook", "delete", OWNER, ("WriteEnterprise",), ("DELETE events.delete_webhook",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    Rule("webhook", "replay", OWNER, ("WriteEnterprise",), ("POST events.replay_webhook",),
         _WRITE_NEEDS, _WRITE_REFUSED),
    # A hub's customers are its own business, as its orders are: the hub reads and exports them
    # with a token that may read its orders, and erases them with one that may write them.
    Rule("person", "read", OWNER, _ORDER_READ, ("GET persons.get_person",), _READ_NEEDS, _READ_REFUSED,
         "the hub that holds the person; 410 once erased"),
    Rule("person", "export", OWNER, _ORDER_READ, ("GET persons.export_person",), _READ_NEEDS, _READ_REFUSED,
         "the person and every order they placed"),
    Rule("person", "erase", OWNER, ("WriteOrders",), ("DELETE persons.erase_person",), _WRITE_NEEDS,
         _WRITE_REFUSED, "their orders stay, under a fresh pseudonym"),
    # The pages (app/api/pages) act as the signed-in token's agent under the rows above; a board is
    # its enterprise's own, and each part of it is shown under the row of what it shows.
    Rule("enterprise_board", "read", OWNER, routes=("GET pages.board",),
         needs="this board needs a signed-in token", refused=_READ_REFUSED,
         note="each part under its own row: stock, orders, sessions, partners"),
    Rule("page_session", "sign_in", ANYONE, routes=("POST pages.sign_in", "POST pages.sign_out"),
         note="keeps or forgets a token in the browser's signed cookie; stores nothing"),
    Rule("analyst_dataset", "query", SCOPED, ("Analytics",), ("GET sparql.sparql", "POST sparql.sparql"),
         "/sparql needs a bearer token with the Analytics scope",
         note="analytics reach beyond what any one enterprise owns; the page without a query is public"),
    Rule("admin_tokens", "create", ADMIN, routes=("POST admin.create_token",),
         needs="issuing tokens needs the admin token", refused="only the admin may issue tokens"),
    Rule("conformance_validator", "validate", ANYONE,
         routes=("POST conformance.validate", "GET conformance.page", "POST conformance.page_report"),
         note="stores nothing"),
    Rule("service", "read", ANYONE, routes=("GET service.index", "GET service.health", "GET service.version",
                                            "GET service.openapi_description", "GET contexts.context",
                                            "GET static")),
)
_BY_KEY = {(r.resource, r.action): r for r in RULES}


def rule(resource: str, action: str) -> Rule:
    """The row for doing `action` on `resource`."""
    return _BY_KEY[(resource, action)]


def require(agent: Agent | None, resource: str, action: str, *, owner=None,
            buyers: Iterable = (), order: str = "") -> Agent | None:
    """Allow `agent` to do `action` on `resource`, or raise 401/403 with the row's details.

    `owner` is the Namespace the resource lives in; `buyers` are the buyer IRIs of the order
    as stored and as sent (all must be the agent's own for a buyer to act); `order` names it.
    """
    found = rule(resource, action)
    if found.who == ANYONE:
        return agent
    if agent is None:
        raise Unauthorized(found.needs)
    if agent.admin:
        return agent
    if not _is_who(found, agent, owner, list(buyers)):
        raise Forbidden(found.refused.format(agent=agent.iri, eid=owner.eid if owner else "", order=order))
    return _scope(found, agent)


def require_token(agent: Agent | None, resource: str, action: str) -> Agent:
    """Check what needs no document: a token (401), and the row's scope (403)."""
    found = rule(resource, action)
    if agent is None:
        raise Unauthorized(found.needs)
    return _scope(found, agent)


def of_kind(kind) -> str:
    """The resource name of a Kind in this table: its collection segment in the singular."""
    return kind.segment.removesuffix("s")


def sees_all(agent: Agent, owner) -> bool:
    """Tell whether a listing shows the agent everything under `owner`, not only its own orders."""
    return agent.admin or agent.iri in owner.iris


def _is_who(found: Rule, agent: Agent, owner, buyers: list) -> bool:
    if found.who in (TOKEN, SCOPED):
        return True
    if found.who == ADMIN:
        return False
    if owner is not None and agent.iri in owner.iris:
        return True
    return found.who == PARTY and bool(buyers) and all(_iri(b) == agent.iri for b in buyers)


def _iri(node) -> str | None:
    """The IRI of a buyer given as a string or a named node; None for anything else (a blank node)."""
    if isinstance(node, str):
        return node
    return node.value if isinstance(node, NamedNode) else None


def _scope(found: Rule, agent: Agent) -> Agent:
    if not found.scopes:
        return agent
    if found.who == SCOPED:
        granted = any(s in (agent.scopes or ()) for s in found.scopes)
    else:
        granted = any(agent.allows(s) for s in found.scopes)
    if granted:
        return agent
    raise Forbidden(f"the token lacks the {' or '.join(found.scopes)} scope", scopes=sorted(agent.scopes or ()))


# --- what anyone may read ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Public:
    """A kind of document anyone may read, known by the type of its main node (the graph's name)."""
    resource: str
    type: NamedNode
    where: str                              # the routes that show it
    hidden: tuple[NamedNode, ...] = ()      # its statements that only its owner (and the admin) read
    catalog: bool = True                    # part of its enterprise's catalogue (GET …/{eid}/catalog)


# The allowlist. A document is public when it lies in an enterprise's namespace on this server and
# every type of its main node is one of these. Any other kind (orders, contracts, persons, settings,
# webhooks and their deliveries and attempts, partners and the copies their syncs keep, events,
# tokens, kept answers, and every kind added later) is read only through the rows of RULES.
PUBLIC = (
    Public("enterprise", b("Enterprise"), "the enterprises listing and `GET …/{eid}`: its profile", catalog=False),
    Public("supplied_product", b("SuppliedProduct"), "the catalogue and `…/supplied_products`"),
    Public("catalog_item", b("CatalogItem"), "the catalogue and `…/catalog_items`, with its stock figures"),
    Public("offer", b("Offer"), "the catalogue and `…/offers`, with its price"),
    # An offer names the category it is made to; who belongs to one is the seller's business.
    Public("customer_category", b("CustomerCategory"), "the catalogue, without who belongs to it",
           hidden=(hub("member"), b("hasMember"))),
    # What a product is made of, as FDC catalogues publish it (a retail pack of a bulk product).
    *(Public("production_flow", b(name), "the catalogue")
      for name in ("AsPlannedTransformation", "AsPlannedConsumptionFlow", "AsPlannedProductionFlow")),
    Public("sale_session", b("SaleSession"), "`…/sale_sessions`", catalog=False),
)
PUBLIC_TYPES = frozenset(p.type for p in PUBLIC)
IN_CATALOG = tuple(p.type for p in PUBLIC if p.catalog)
HIDDEN = frozenset(term for p in PUBLIC for term in p.hidden)
# The catalogue's own document, `{eid}/catalog`: the nodes an import carried that no resource
# refers to (app/domain/documents.py split_catalog). Public when it is untyped or of public kinds.
CATALOG_DOCUMENT = "catalog"
# The analysts' dataset (rule "analyst_dataset", app/queries/analyst_graphs.rq): the public kinds
# shown whole, and the orders, of which the query keeps those that name no person.
ANALYST_TYPES = (*(p.type for p in PUBLIC if not p.hidden), b("Order"))


def types_of(triples: Iterable[Triple], name) -> set:
    """The types a document's main node has."""
    return {t.object for t in triples if t.subject == name and t.predicate == RDF_TYPE}


def is_public(types: Iterable) -> bool:
    """Tell whether anyone may read a document whose main node has `types` (none: no)."""
    types = set(types)
    return bool(types) and types <= PUBLIC_TYPES


def shown(triples: list[Triple], owner: bool) -> list[Triple]:
    """Public documents as a reader sees them: the hidden statements for their owner only."""
    return triples if owner else [t for t in triples if t.predicate not in HIDDEN]
