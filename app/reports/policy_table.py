"""docs/policy.md: the policy table (app/domain/policy.py) rendered as each kind of agent sees it.

    dfc-hub policy-table        # writes docs/policy.md; a test keeps it current

The same columns drive tests/test_policy.py, which calls every route as every kind of agent
below and checks that the answer is the one the table shows.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from pyoxigraph import NamedNode

from app.domain.agents import DFC_SCOPES, Agent
from app.domain.documents import Namespace
from app.domain.policy import ANALYST_TYPES, PARTY, PUBLIC, RULES, Rule, require
from app.errors import Forbidden, Unauthorized
from app.namespaces import hub

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


@dataclasses.dataclass(frozen=True)
class AgentKind:
    """A kind of caller the table has a column for: a role toward the resource, and its scopes."""
    name: str
    role: str       # admin, owner, buyer, other, person, platform, anonymous
    scopes: str | tuple = "unscoped"    # "unscoped", "granting" (the row's first scope), "others", or fixed

    def token_scopes(self, row: Rule) -> frozenset | None:
        """The scopes this kind's token carries for a row (None: unscoped)."""
        if self.scopes == "unscoped":
            return None
        if self.scopes == "granting":
            return frozenset(row.scopes[:1])
        if self.scopes == "others":
            return frozenset(DFC_SCOPES - set(row.scopes))
        return frozenset(self.scopes)

    def applies(self, row: Rule) -> bool:
        """Scoped owners matter where a scope does; a buyer only where a buyer may act."""
        if self.scopes in ("granting", "others") and not row.scopes:
            return False
        return self.role != "buyer" or row.who == PARTY


AGENT_KINDS = (
    AgentKind("admin", "admin"),
    AgentKind("owner", "owner"),
    AgentKind("owner, granting scope", "owner", "granting"),
    AgentKind("owner, other scopes", "owner", "others"),
    AgentKind("buyer", "buyer"),
    AgentKind("other enterprise", "other"),
    AgentKind("person", "person"),
    AgentKind("platform", "platform"),
    AgentKind("analyst platform", "platform", ("Analytics",)),
    AgentKind("anonymous", "anonymous"),
)


# One agent per role, toward resources of EXAMPLE; the order (even one being created) names the
# buyer as its buyer, so anyone else placing it poses as that buyer.
EXAMPLE = Namespace("https://hub.example", "seller")
ROLE_IRIS = {"admin": "urn:x-dfc-hub:admin", "owner": EXAMPLE.iri,
             "buyer": "https://hub.example/api/dfc/enterprises/buyer",
             "other": "https://hub.example/api/dfc/enterprises/other",
             "person": "https://people.example/ali", "platform": "https://platform.example"}


def outcome(row: Rule, kind: AgentKind) -> int | None:
    """What the row answers `kind` with: None when allowed, else 401 or 403."""
    if kind.role == "anonymous":
        agent = None
    else:
        agent = Agent(ROLE_IRIS[kind.role], kind.token_scopes(row), admin=kind.role == "admin")
    try:
        require(agent, row.resource, row.action, owner=EXAMPLE, buyers=[ROLE_IRIS["buyer"]], order="the order")
    except (Unauthorized, Forbidden) as e:
        return e.status
    return None


def markdown() -> str:
    """docs/policy.md: every row, and what each kind of agent gets."""
    head = ["resource", "action", "who", "scope that grants it", *(k.name for k in AGENT_KINDS), "routes"]
    lines = [_PREAMBLE, "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in RULES:
        cells = [_cell(row, k) for k in AGENT_KINDS]
        who = row.who + (f" ({row.note})" if row.note else "")
        scopes = " or ".join(f"`{s}`" for s in row.scopes) or "—"
        routes = "<br>".join(f"`{r}`" for r in row.routes)
        lines.append("| " + " | ".join([row.resource, row.action, who, scopes, *cells, routes]) + " |")
    lines += ["", _PUBLIC_HEAD, "| kind | type of its main node | where | hidden from all but its owner |",
              "|---|---|---|---|"]
    for kind in PUBLIC:
        hidden = ", ".join(f"`{_curie(t)}`" for t in kind.hidden) or "—"
        lines.append(f"| {kind.resource} | `{_curie(kind.type)}` | {kind.where} | {hidden} |")
    analysed = ", ".join(f"`{_curie(t)}`" for t in ANALYST_TYPES)
    lines += ["", _PUBLIC_TAIL.format(analysed=analysed).strip()]
    return "\n".join(lines) + "\n"


def _curie(term: NamedNode) -> str:
    name = term.value.rsplit("#", 1)[-1]
    return ("hub:" if term.value.startswith(hub("").value) else "dfc-b:") + name


def _cell(row: Rule, kind: AgentKind) -> str:
    if not kind.applies(row):
        return "·"
    status = outcome(row, kind)
    return "yes" if status is None else str(status)


_PREAMBLE = """# Who may do what

Generated from `app/domain/policy.py` by `dfc-hub policy-table`; a test keeps it current, and
another calls every route as every kind of agent below and checks the answer is the one shown.

**yes**: allowed; **401**: a token is needed; **403**: refused; **·**: does not apply.
The columns: the admin token; the enterprise that owns the resource with a token without scopes,
with only the first scope the row names, and with every scope but the ones the row names; the
buyer an order names (`dfc-b:orderedBy`, another enterprise such as a hub); another enterprise;
a person; a platform; a platform whose token names only `Analytics`; no token at all.
A token without scopes may do everything its agent owns, except run analyst queries.
"""

_PUBLIC_HEAD = """## What anyone may read

An allowlist of kinds of document (`PUBLIC` in `app/domain/policy.py`). A document in an
enterprise's namespace is public when every type of its main node is listed here; the document
GETs, the collections and the catalogue show nothing else, so a kind not listed (orders,
contracts, persons, settings, webhooks and their deliveries and attempts, partners and the copies
their syncs keep, events, tokens, kept answers, and every kind added later) is read only through
the rows above. Besides these: our contexts, `/`, `/health`,
`/version`, `/api/openapi.json` and the conformance checker. The catalogue also shows its own
document (`…/{eid}/catalog`: the nodes an import carried that no resource refers to).
"""

_PUBLIC_TAIL = """
The analysts' dataset (`/sparql`, app/queries/analyst_graphs.rq) holds the documents in an
enterprise's namespace of the public kinds shown whole and the orders, those of them that
describe no person: {analysed}. A customer's order is held only when every statement in it is
one of those app/domain/personal.py lists as saying nothing about the customer.

Secrets are never readable after they are given, by anyone, through any route: webhook signing
keys (shown once, when the subscription is made), partner credentials and issued tokens live in
graphs outside every enterprise's namespace, which no route and no analyst query reads
(docs/architecture.md, "Where secrets live").
"""
