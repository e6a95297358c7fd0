"""A hub's own settings: how its customer checkouts become wholesale orders (ontology/hub.ttl)."""
from __future__ import annotations

import dataclasses

from pyoxigraph import Literal, NamedNode, Triple

from app.domain.documents import Namespace
from app.errors import BadRequest
from app.namespaces import FALSE, RDF_TYPE, TRUE, T
from app.rdf.triples import first, subjects
from app.store import Store


# Ten years, as shapes/hub_settings.ttl bounds it: what a date-time can still be moved by.
MAX_HOLD_MINUTES = 5256000


@dataclasses.dataclass(frozen=True)
class HubSettings:
    per_customer_order: bool = False     # else one wholesale order per (session, producer)
    by_weight: bool = False
    hold_minutes: int | None = None      # a customer order without hub:holdUntil: held until the close


def iri(ns: Namespace) -> NamedNode:
    return NamedNode(ns.iri + "/settings")


def read(store: Store, ns: Namespace) -> HubSettings:
    return parse(store.graph(iri(ns)), iri(ns))


def parse(triples, node) -> HubSettings:
    return HubSettings(first(triples, node, T.consolidation) == T.PerCustomerOrder,
                       first(triples, node, T.aggregateByWeight) == TRUE,
                       _minutes(first(triples, node, T.holdMinutes)))


def _minutes(term) -> int | None:
    """A positive whole number of minutes (the shapes refuse any other), else None."""
    try:
        value = int(term.value) if isinstance(term, Literal) else None
    except ValueError:
        return None
    return value if value is not None and 0 < value <= MAX_HOLD_MINUTES else None


def document(ns: Namespace, settings: HubSettings) -> list[Triple]:
    node = iri(ns)
    return [Triple(node, RDF_TYPE, T.HubSettings), Triple(node, T.settingsOf, NamedNode(ns.iri)),
            Triple(node, T.consolidation, T.PerCustomerOrder if settings.per_customer_order
                   else T.PerSessionAndProducer),
            Triple(node, T.aggregateByWeight, TRUE if settings.by_weight else FALSE),
            *([Triple(node, T.holdMinutes, Literal(settings.hold_minutes))] if settings.hold_minutes else [])]


def from_payload(triples, ns: Namespace) -> list[Triple]:
    """The settings a payload sets (absent ones take their defaults), as the stored document."""
    nodes = subjects(triples, RDF_TYPE, T.HubSettings)
    if len(nodes) != 1:
        raise BadRequest(f"describe exactly one hub:HubSettings node, not {len(nodes)}")
    return document(ns, parse(triples, nodes[0]))

