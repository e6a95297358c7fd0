"""Every namespace the hub speaks, declared once.

The canonical DFC namespaces are the ones the 1.x contexts and the official ontology
(1.16.0) use; every other variant a client may send is normalised to them on the way in.
"""
from pyoxigraph import Literal, NamedNode

_GH = "https://github.com/datafoodconsortium/"

DFC_B = _GH + "ontology/releases/latest/download/DFC_BusinessOntology.owl#"
DFC_T = _GH + "ontology/releases/latest/download/DFC_TechnicalOntology.owl#"
DFC = _GH + "ontology/releases/latest/download/DFC_FullModel.owl#"
DFC_M = _GH + "taxonomies/releases/latest/download/measures.rdf#"
DFC_PT = _GH + "taxonomies/releases/latest/download/productTypes.rdf#"
DFC_F = _GH + "taxonomies/releases/latest/download/facets.rdf#"
DFC_V = _GH + "taxonomies/releases/latest/download/vocabulary.rdf#"

# Our own vocabulary for what DFC lacks (ontology/hub.ttl).
HUB = "https://w3id.org/dfc-order-hub/ns#"
# The names of the graphs that keep partners' copies of remote documents (app/partners/desk.py
# copy_graph): a copy is known by its name, never by the marks a graph states of itself.
PARTNER_COPIES = "urn:x-dfc-hub:partner-copy:"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
LDP = "http://www.w3.org/ns/ldp#"
# Vocabularies other platforms describe people in (app/domain/personal.py reads their person types).
FOAF = "http://xmlns.com/foaf/0.1/"
SCHEMA = "http://schema.org/"
SCHEMA_HTTPS = "https://schema.org/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
W3C_PERSON = "http://www.w3.org/ns/person#"

# Prefixes used when we write Turtle or compact JSON-LD.
PREFIXES = {
    "dfc-b": DFC_B,
    "dfc-t": DFC_T,
    "dfc-m": DFC_M,
    "dfc-pt": DFC_PT,
    "dfc-f": DFC_F,
    "dfc-v": DFC_V,
    "hub": HUB,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
    "ldp": LDP,
}

# Namespace families a payload may use, by DFC release line; the canonical one is "1.x".
W3ID_2 = "http://w3id.org/dfc/"
STATIC = "http://static.datafoodconsortium.org/"
FAMILIES = {
    "1.x": {
        "dfc-b": DFC_B, "dfc-t": DFC_T, "dfc": DFC, "dfc-m": DFC_M,
        "dfc-pt": DFC_PT, "dfc-f": DFC_F, "dfc-v": DFC_V,
    },
    "2.0": {
        "dfc-b": W3ID_2 + "ontology/v2.0.0/src/DFC_BusinessOntology.owl#",
        "dfc-t": W3ID_2 + "ontology/v2.0.0/src/DFC_TechnicalOntology.owl#",
        "dfc": W3ID_2 + "ontology/DFC_FullModel.owl#",
        "dfc-m": W3ID_2 + "taxonomies/v2.0.0/measures.rdf#",
        "dfc-pt": W3ID_2 + "taxonomies/v2.0.0/productTypes.rdf#",
        "dfc-f": W3ID_2 + "taxonomies/v2.0.0/facets.rdf#",
        "dfc-v": W3ID_2 + "taxonomies/v2.0.0/vocabulary.rdf#",
    },
    "static": {
        "dfc-b": STATIC + "ontologies/DFC_BusinessOntology.owl#",
        "dfc-t": STATIC + "ontologies/DFC_TechnicalOntology.owl#",
        "dfc": STATIC + "ontologies/DFC_FullModel.owl#",
        "dfc-m": STATIC + "data/measures.rdf#",
        "dfc-pt": STATIC + "data/productTypes.rdf#",
        "dfc-f": STATIC + "data/facets.rdf#",
        "dfc-v": STATIC + "data/vocabulary.rdf#",
    },
}


def b(name: str) -> NamedNode:
    """Return the canonical dfc-b term `name`."""
    return NamedNode(DFC_B + name)


def v(name: str) -> NamedNode:
    """Return the canonical dfc-v (vocabulary) term `name`."""
    return NamedNode(DFC_V + name)


def hub(name: str) -> NamedNode:
    """Return our own vocabulary's term `name`."""
    return NamedNode(HUB + name)


RDF_TYPE = NamedNode(RDF + "type")
TRUE = Literal("true", datatype=NamedNode(XSD + "boolean"))
FALSE = Literal("false", datatype=NamedNode(XSD + "boolean"))


class T:
    """The terms the order rules read and write, named once."""
    Order, OrderLine, Offer, CatalogItem, SaleSession, Person, Enterprise, Price, QuantitativeValue = (
        b(n) for n in ("Order", "OrderLine", "Offer", "CatalogItem", "SaleSession", "Person",
                       "Enterprise", "Price", "QuantitativeValue"))
    hasPart, partOf, concerns, quantity, hasQuantity, value, hasUnit, hasPrice, discount = (
        b(n) for n in ("hasPart", "partOf", "concerns", "quantity", "hasQuantity", "value", "hasUnit",
                       "hasPrice", "discount"))
    orderedBy, soldBy, belongsTo, hasOrderStatus, hasFulfilmentStatus, stockLimitation = (
        b(n) for n in ("orderedBy", "soldBy", "belongsTo", "hasOrderStatus", "hasFulfilmentStatus",
                       "stockLimitation"))
    offeredItem, offers, offeredThrough, startDate, endDate, VATrate, date = (
        b(n) for n in ("offeredItem", "offers", "offeredThrough", "startDate", "endDate", "VATrate", "date"))
    Draft, Held, Complete, Cancelled, Unfulfilled = (
        v(n) for n in ("Draft", "Held", "Complete", "Cancelled", "Unfulfilled"))
    onHand, held, committed, stockItem, wholesaleLine, customerOrder, consolidated, closedAt = (
        hub(n) for n in ("onHand", "held", "committed", "stockItem", "wholesaleLine", "customerOrder",
                         "consolidated", "closedAt"))
    HubSettings, settingsOf, consolidation, PerSessionAndProducer, PerCustomerOrder, aggregateByWeight = (
        hub(n) for n in ("HubSettings", "settingsOf", "consolidation", "PerSessionAndProducer",
                         "PerCustomerOrder", "aggregateByWeight"))
    forCustomerOrder, ordered, packSize, wholePacks, surplus, contribution, supplier, product, unitWeight = (
        hub(n) for n in ("forCustomerOrder", "ordered", "packSize", "wholePacks", "surplus", "contribution",
                         "supplier", "product", "unitWeight"))
    hasIncome, hasOutcome, consumes, produces = (b(n) for n in ("hasIncome", "hasOutcome", "consumes", "produces"))
    # Where a payload's dfc-b:offeredItem goes when the offer names its item with dfc-b:offers already.
    hubOfferedItem = hub("offeredItem")
    # Holds that expire: an order's own end of hold, a hub's default for its customer orders.
    holdUntil, holdMinutes = hub("holdUntil"), hub("holdMinutes")

    # The supplier lifecycle (ontology/hub.ttl): statuses, their history, deliveries.
    Fulfilled = v("Fulfilled")
    status, statusChange, StatusChange, fromStatus, toStatus, changedBy, changedAt, reason = (
        hub(n) for n in ("status", "statusChange", "StatusChange", "fromStatus", "toStatus", "changedBy",
                         "changedAt", "reason"))
    deliveryMode, hasDelivery, Delivery, deliveryPlace, desiredDeliveryDate, confirmedDeliveryDate = (
        hub(n) for n in ("deliveryMode", "hasDelivery", "Delivery", "deliveryPlace", "desiredDeliveryDate",
                         "confirmedDeliveryDate"))
    shippedAt, hasDeliveryLine, DeliveryLine, ofOrderLine, unallocated, complete, split = (
        hub(n) for n in ("shippedAt", "hasDeliveryLine", "DeliveryLine", "ofOrderLine", "unallocated",
                         "complete", "split"))
