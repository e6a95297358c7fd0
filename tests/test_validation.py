"""SHACL validation: what conforms, what is refused (Violation), what is only flagged (Warning)."""
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from app.namespaces import DFC_B, HUB, SH
from app.validation import Report, Validator

OURS = rdflib.Graph().parse(Path(__file__).resolve().parents[1] / "ontology" / "hub.ttl", format="turtle")

PREFIXES = """
@prefix dfc-b: <https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#> .
@prefix dfc-v: <https://github.com/datafoodconsortium/taxonomies/releases/latest/download/vocabulary.rdf#> .
@prefix dfc-m: <https://github.com/datafoodconsortium/taxonomies/releases/latest/download/measures.rdf#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://producer.example/api/dfc/> .
"""

CATALOG_ITEM = """
ex:item1 a dfc-b:CatalogItem ;
    dfc-b:references ex:product1 ;
    dfc-b:sku "BEANS-12" ;
    dfc-b:stockLimitation "42"^^xsd:decimal ;
    dfc-b:offeredThrough ex:offer1 .
ex:product1 a dfc-b:SuppliedProduct ;
    dfc-b:name "Baked beans, case of 12" ;
    dfc-b:hasQuantity [ a dfc-b:QuantitativeValue ; dfc-b:value "4.8"^^xsd:decimal ; dfc-b:hasUnit dfc-m:Kilogram ] ;
    dfc-b:referencedBy ex:item1 .
"""

OFFER = """
ex:offer1 a dfc-b:Offer ;
    dfc-b:offers ex:item1 ;
    dfc-b:offersTo ex:retail ;
    dfc-b:stockLimitation "-1"^^xsd:decimal ;
    dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value "18.85"^^xsd:decimal ; dfc-b:VATrate "20"^^xsd:decimal ;
                     dfc-b:hasUnit dfc-m:PoundSterling ] .
"""

ORDER = """
ex:order1 a dfc-b:Order ;
    dfc-b:orderedBy ex:hub ;
    dfc-b:belongsTo ex:session1 ;
    dfc-b:date "2024-10-17T03:58:10Z"^^xsd:dateTime ;
    dfc-b:hasOrderStatus dfc-v:Held ;
    dfc-b:hasFulfilmentStatus dfc-v:Held ;
    dfc-b:hasPaymentStatus dfc-v:Unpaid ;
    dfc-b:discount "2.5"^^xsd:decimal ;
    dfc-b:hasPart ex:line1 , ex:line2 .
ex:line1 a dfc-b:OrderLine ;
    dfc-b:partOf ex:order1 ;
    dfc-b:concerns ex:offer1 ;
    dfc-b:hasQuantity [ a dfc-b:QuantitativeValue ; dfc-b:value "3"^^xsd:decimal ; dfc-b:hasUnit dfc-m:Piece ] .
ex:line2 a dfc-b:OrderLine ;
    dfc-b:partOf ex:order1 ;
    dfc-b:concerns ex:offer2 ;
    dfc-b:quantity "0"^^xsd:decimal .
"""

SALE_SESSION = """
ex:session1 a dfc-b:SaleSession ;
    dfc-b:startDate "2024-10-14T08:00:00Z"^^xsd:dateTime ;
    dfc-b:endDate "2024-10-18T18:00:00+02:00"^^xsd:dateTime ;
    dfc-b:lists ex:offer1 .
"""


def triples(turtle: str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(PREFIXES + turtle, format=ox.RdfFormat.TURTLE)]


def b(name: str) -> str:
    return DFC_B + name


def only(results: list[dict], **match) -> dict:
    found = [r for r in results if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, f"expected one result matching {match}, got {found or results}"
    return found[0]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


# --- what conforms -------------------------------------------------------------------------

@pytest.mark.parametrize("turtle", [CATALOG_ITEM, OFFER, ORDER, SALE_SESSION],
                         ids=["catalog-item", "offer", "order", "sale-session"])
def test_complete_resources_conform_without_warnings(validator, turtle):
    report = validator.validate(triples(turtle))
    assert report.conforms, report.results
    assert report.results == []


def test_whole_catalogue_order_and_session_together_conform(validator):
    report = validator.validate(triples(CATALOG_ITEM + OFFER + ORDER + SALE_SESSION))
    assert report.conforms and report.results == []


def test_negative_stock_limitation_means_unlimited_and_conforms(validator):
    report = validator.validate(triples('ex:i a dfc-b:CatalogItem ; dfc-b:references ex:p ;'
                                        ' dfc-b:stockLimitation "-1"^^xsd:decimal .'))
    assert report.conforms and report.results == []


def test_complete_order_without_lines_conforms_with_a_warning(validator):
    report = validator.validate(triples("ex:o a dfc-b:Order ; dfc-b:orderedBy ex:hub ;"
                                        " dfc-b:hasOrderStatus dfc-v:Complete ."))
    assert report.conforms
    only(report.warnings, focusNode="https://producer.example/api/dfc/o", path=b("hasPart"))


def test_payment_and_fulfilment_cancelled_are_vocabulary_states(validator):
    report = validator.validate(triples(
        "ex:o a dfc-b:Order ; dfc-b:orderedBy ex:hub ; dfc-b:hasPart ex:l ;"
        " dfc-b:hasOrderStatus dfc-v:Cancelled ; dfc-b:hasFulfilmentStatus dfc-v:Cancelled ;"
        " dfc-b:hasPaymentStatus dfc-v:Cancelled ."))
    assert report.conforms and report.results == []


# --- Violations: data we cannot use --------------------------------------------------------

def test_stock_limitation_that_is_not_a_number_is_a_violation(validator):
    report = validator.validate(triples(
        'ex:item1 a dfc-b:CatalogItem ; dfc-b:references ex:p ; dfc-b:stockLimitation "lots" .'))
    assert not report.conforms
    v = only(report.violations)
    assert v["focusNode"] == "https://producer.example/api/dfc/item1"
    assert v["path"] == b("stockLimitation")
    assert v["value"] == "lots"
    assert "stockLimitation" in v["message"] and "number" in v["message"]
    assert v["shape"].startswith("https://w3id.org/dfc-order-hub/shapes#")


def test_ill_typed_literal_is_a_violation_and_logs_nothing(validator, caplog):
    report = validator.validate(triples(
        'ex:o a dfc-b:Offer ; dfc-b:stockLimitation "lots"^^xsd:decimal .'))
    assert only(report.violations, path=b("stockLimitation"))["value"] == "lots"
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_order_line_without_an_offer_is_a_violation(validator):
    report = validator.validate(triples(
        'ex:l a dfc-b:OrderLine ; dfc-b:quantity "2"^^xsd:decimal .'))
    assert not report.conforms
    v = only(report.violations, path=b("concerns"))
    assert v["focusNode"] == "https://producer.example/api/dfc/l" and v["value"] is None


def test_order_line_with_two_offers_is_a_violation(validator):
    report = validator.validate(triples(
        'ex:l a dfc-b:OrderLine ; dfc-b:concerns ex:a , ex:b ; dfc-b:quantity "2"^^xsd:decimal .'))
    only(report.violations, path=b("concerns"))


@pytest.mark.parametrize("line, path", [
    ('dfc-b:quantity "-2"^^xsd:decimal', b("quantity")),
    ('dfc-b:hasQuantity [ a dfc-b:QuantitativeValue ; dfc-b:value "-2"^^xsd:decimal ;'
     ' dfc-b:hasUnit dfc-m:Piece ]', f"{b('hasQuantity')}/{b('value')}"),
], ids=["quantity", "hasQuantity"])
def test_negative_order_line_quantity_is_a_violation(validator, line, path):
    report = validator.validate(triples(f"ex:l a dfc-b:OrderLine ; dfc-b:concerns ex:offer ; {line} ."))
    v = only(report.violations, path=path)
    assert v["value"] == "-2"


def test_order_status_outside_the_vocabulary_is_a_violation(validator):
    report = validator.validate(triples(
        "ex:o a dfc-b:Order ; dfc-b:orderedBy ex:hub ; dfc-b:hasPart ex:l ;"
        " dfc-b:hasOrderStatus dfc-v:Bogus ."))
    assert not report.conforms
    v = only(report.violations, path=b("hasOrderStatus"))
    assert v["value"].endswith("vocabulary.rdf#Bogus")
    assert "dfc-v:Held" in v["message"]


@pytest.mark.parametrize("prop, bad", [
    ("hasFulfilmentStatus", "dfc-v:Complete"),   # an order state, not a fulfilment state
    ("hasPaymentStatus", "dfc-v:Held"),
])
def test_fulfilment_and_payment_status_must_be_their_own_states(validator, prop, bad):
    report = validator.validate(triples(
        f"ex:o a dfc-b:Order ; dfc-b:orderedBy ex:hub ; dfc-b:hasPart ex:l ; dfc-b:{prop} {bad} ."))
    only(report.violations, path=b(prop))


@pytest.mark.parametrize("turtle, path", [
    ('ex:o a dfc-b:Order ; dfc-b:orderedBy "the hub" ; dfc-b:hasPart ex:l .', "orderedBy"),
    ('ex:l a dfc-b:OrderLine ; dfc-b:concerns "offer1" ; dfc-b:quantity "1"^^xsd:decimal .', "concerns"),
    ('ex:o a dfc-b:Offer ; dfc-b:hasPrice "9.99" .', "hasPrice"),
    ('ex:q a dfc-b:QuantitativeValue ; dfc-b:value "1"^^xsd:decimal ; dfc-b:hasUnit "kg" .', "hasUnit"),
    ('ex:p a dfc-b:SuppliedProduct ; dfc-b:name "Beans" ; dfc-b:hasQuantity "4.8" .', "hasQuantity"),
], ids=["orderedBy", "concerns", "hasPrice", "hasUnit", "hasQuantity"])
def test_literal_where_a_node_is_required_is_a_violation(validator, turtle, path):
    report = validator.validate(triples(turtle))
    assert not report.conforms
    only(report.violations, path=b(path))


@pytest.mark.parametrize("prop", ["startDate", "endDate"])
def test_sale_session_date_that_is_not_a_date_is_a_violation(validator, prop):
    other = "endDate" if prop == "startDate" else "startDate"
    report = validator.validate(triples(
        f'ex:s a dfc-b:SaleSession ; dfc-b:{prop} "next friday" ;'
        f' dfc-b:{other} "2024-10-18T18:00:00Z"^^xsd:dateTime .'))
    v = only(report.violations, path=b(prop))
    assert v["value"] == "next friday"


def test_price_value_that_is_not_a_number_is_a_violation(validator):
    report = validator.validate(triples(
        'ex:o a dfc-b:Offer ; dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value "£0.27" ;'
        ' dfc-b:hasUnit dfc-m:PoundSterling ] .'))
    v = only(report.violations, path=b("value"))
    assert v["focusNode"].startswith("_:") and v["value"] == "£0.27"


# --- Warnings: OWL cardinalities real platforms break --------------------------------------

def test_supplied_product_without_a_name_conforms_with_a_warning(validator):
    report = validator.validate(triples("ex:p a dfc-b:SuppliedProduct ; dfc-b:description \"Beans\" ."))
    assert report.conforms
    w = only(report.warnings, path=b("name"))
    assert w["severity"] == "Warning" and w["focusNode"] == "https://producer.example/api/dfc/p"
    assert w["message"]


@pytest.mark.parametrize("turtle, path", [
    ("ex:o a dfc-b:Offer ; dfc-b:offers ex:i ; dfc-b:hasPrice [ a dfc-b:Price ; dfc-b:value 1.0 ;"
     " dfc-b:hasUnit dfc-m:Euro ] .", f"{b('offersTo')}|{b('offeredTo')}"),
    ("ex:i a dfc-b:CatalogItem ; dfc-b:sku \"X\" .", b("references")),
    ("ex:o a dfc-b:Order ; dfc-b:hasPart ex:l .", b("orderedBy")),
    ("ex:p a dfc-b:Person ; dfc-b:email \"a@b.c\" .", f"{b('firstName')}|{b('familyName')}"),
    ("ex:s a dfc-b:SaleSession ; dfc-b:endDate \"2024-10-18T18:00:00Z\"^^xsd:dateTime .", b("startDate")),
], ids=["offer-without-customer-category", "catalog-item-without-product", "order-without-buyer",
        "person-without-names", "session-without-start"])
def test_broken_cardinalities_are_warnings(validator, turtle, path):
    report = validator.validate(triples(turtle))
    assert report.conforms, report.violations
    only(report.warnings, path=path)


def test_offer_customer_category_under_the_name_real_senders_use_is_accepted(validator):
    report = validator.validate(triples(OFFER.replace("dfc-b:offersTo", "dfc-b:offeredTo")))
    assert report.conforms and report.results == []


# --- the report ----------------------------------------------------------------------------

def test_report_results_have_the_documented_keys(validator):
    report = validator.validate(triples(
        'ex:i a dfc-b:CatalogItem ; dfc-b:stockLimitation "lots" .'))
    assert isinstance(report, Report)
    for r in report.results:
        assert set(r) == {"severity", "focusNode", "path", "value", "message", "shape"}
        assert r["severity"] in ("Violation", "Warning", "Info")
    assert {r["severity"] for r in report.results} == {"Violation", "Warning"}
    assert report.violations + report.warnings == report.results


def test_blank_node_focus_is_written_as_in_the_payload(validator):
    data = triples('[] a dfc-b:CatalogItem ; dfc-b:references ex:p ; dfc-b:stockLimitation "lots" .')
    subject = next(t.subject for t in data)
    v = only(validator.validate(data).violations)
    assert v["focusNode"] == f"_:{subject.value}"


def test_report_as_graph_is_a_shacl_validation_report(validator):
    report = validator.validate(triples(
        'ex:i a dfc-b:CatalogItem ; dfc-b:stockLimitation "lots" .'))
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in report.as_graph())
    rows = list(store.query(f"""
        PREFIX sh: <{SH}>
        SELECT ?conforms ?severity ?focus ?path ?value ?message WHERE {{
            ?r a sh:ValidationReport ; sh:conforms ?conforms ; sh:result ?res .
            ?res a sh:ValidationResult ; sh:resultSeverity ?severity ; sh:focusNode ?focus ;
                 sh:resultPath ?path ; sh:resultMessage ?message ; sh:sourceShape ?shape .
            OPTIONAL {{ ?res sh:value ?value }}
        }}"""))
    assert len(rows) == len(report.results) == 2
    assert {row["conforms"].value for row in rows} == {"false"}
    bad = [row for row in rows if row["severity"].value == SH + "Violation"]
    assert len(bad) == 1
    assert bad[0]["path"].value == b("stockLimitation") and bad[0]["value"].value == "lots"
    assert bad[0]["focus"].value == "https://producer.example/api/dfc/i"
    assert ox.serialize(report.as_graph(), format=ox.RdfFormat.TURTLE)


def test_conforming_report_graph_says_so(validator):
    graph = validator.validate(triples(SALE_SESSION)).as_graph()
    assert any(t.predicate.value == SH + "conforms" and t.object.value == "true" for t in graph)


def test_concurrent_validations_give_the_same_reports(validator):
    payloads = [triples(t) for t in (
        CATALOG_ITEM, OFFER, ORDER, SALE_SESSION,
        'ex:i a dfc-b:CatalogItem ; dfc-b:stockLimitation "lots" .',
        "ex:o a dfc-b:Order ; dfc-b:hasOrderStatus dfc-v:Bogus .",
        "ex:p a dfc-b:SuppliedProduct .",
    )] * 12

    def key(report):
        return report.conforms, sorted(tuple(sorted(r.items())) for r in report.results)

    expected = [key(validator.validate(p)) for p in payloads]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda p: key(validator.validate(p)), payloads))
    assert got == expected


# --- the shapes themselves -----------------------------------------------------------------

def _shape_files():
    return sorted((r for r in files("app.shapes").iterdir() if r.name.endswith(".ttl")),
                  key=lambda r: r.name)


@pytest.fixture(scope="module")
def ontology(shared) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(shared / "dfc" / "DFC_BusinessOntology.rdf", format="xml")
    return graph


def test_there_is_one_shapes_file_per_resource_type():
    targets = set()
    for resource in _shape_files():
        graph = rdflib.Graph().parse(data=resource.read_text(encoding="utf-8"), format="turtle")
        targets |= {str(o) for o in graph.objects(None, rdflib.URIRef(SH + "targetClass"))}
    expected = {"Enterprise", "Person", "Address", "SuppliedProduct", "CatalogItem", "Offer",
                "Price", "QuantitativeValue", "SaleSession", "Order", "OrderLine", "CustomerCategory"}
    assert targets == {b(name) for name in expected} | {HUB + "HubSettings", HUB + "Contract"}


def test_every_shapes_file_targets_classes_of_the_official_ontology(ontology):
    """DFC classes from the official ontology; ours (hub:) from ontology/hub.ttl."""
    ontology = ontology + OURS
    owl_class = rdflib.URIRef("http://www.w3.org/2002/07/owl#Class")
    for resource in _shape_files():
        graph = rdflib.Graph().parse(data=resource.read_text(encoding="utf-8"), format="turtle")
        classes = set(graph.objects(None, rdflib.URIRef(SH + "targetClass")))
        assert classes, f"{resource.name} targets no class"
        for cls in classes:
            assert str(cls).startswith((DFC_B, HUB)), f"{resource.name}: {cls} is neither dfc-b nor hub"
            assert (cls, rdflib.RDF.type, owl_class) in ontology, f"{resource.name}: {cls} not in the ontology"


# Terms real senders use that the ontology names otherwise; the shapes accept them beside it.
SENDER_TERMS = {b("offeredTo"), b("offeredItem")}


def test_every_property_a_shape_constrains_exists_in_the_ontology(ontology):
    ontology = ontology + OURS
    owl = "http://www.w3.org/2002/07/owl#"
    properties = {s for kind in ("ObjectProperty", "DatatypeProperty")
                  for s in ontology.subjects(rdflib.RDF.type, rdflib.URIRef(owl + kind))}
    for resource in _shape_files():
        graph = rdflib.Graph().parse(data=resource.read_text(encoding="utf-8"), format="turtle")
        for path in graph.objects(None, rdflib.URIRef(SH + "path")):
            for prop in _path_properties(graph, path):
                assert prop in properties or str(prop) in SENDER_TERMS, f"{resource.name}: {prop}"


def _path_properties(graph, path):
    if isinstance(path, rdflib.URIRef):
        return [path]
    alternatives = graph.value(path, rdflib.URIRef(SH + "alternativePath"))
    members = rdflib.collection.Collection(graph, alternatives if alternatives is not None else path)
    return [p for m in members for p in _path_properties(graph, m)]


def test_every_shape_has_a_name_and_a_message():
    for resource in _shape_files():
        graph = rdflib.Graph().parse(data=resource.read_text(encoding="utf-8"), format="turtle")
        shapes = set(graph.subjects(rdflib.URIRef(SH + "targetClass"), None))
        assert shapes, resource.name
        for shape in shapes:
            assert graph.value(shape, rdflib.URIRef(SH + "message")), f"{shape} has no sh:message"
            assert graph.value(shape, rdflib.URIRef(SH + "name")), f"{shape} has no sh:name"
            assert graph.value(shape, rdflib.RDF.type) == rdflib.URIRef(SH + "PropertyShape")


def test_status_lists_name_states_of_the_vocabulary(shared):
    vocabulary = shared / "dfc" / "vocabulary.rdf"
    vocab = rdflib.Graph().parse(vocabulary, format="xml")
    broader = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#broader")
    shapes = rdflib.Graph().parse(data=(files("app.shapes") / "order.ttl").read_text(), format="turtle")
    for prop, scheme in (("hasOrderStatus", "OrderStatus"), ("hasFulfilmentStatus", "FulfilmentStatus"),
                         ("hasPaymentStatus", "PaymentStatus")):
        shape = shapes.value(None, rdflib.URIRef(SH + "path"), rdflib.URIRef(b(prop)))
        listed = set(rdflib.collection.Collection(shapes, shapes.value(shape, rdflib.URIRef(SH + "in"))))
        states = {s for s in vocab.subjects(broader, None)
                  if (s, broader, rdflib.URIRef(str(s).rsplit("#", 1)[0] + "#" + scheme)) in vocab}
        assert listed == states, prop


# --- pyshacl behind one adapter; the shapes as facts ---------------------------------------

APP = Path(__file__).resolve().parents[1] / "app"


def _imports(path: Path) -> set[str]:
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_but_the_adapter_imports_pyshacl():
    """pyshacl's internals are pinned and used in app/validation/_pyshacl.py only."""
    importers = {str(p.relative_to(APP)) for p in APP.rglob("*.py")
                 if any(n == "pyshacl" or n.startswith("pyshacl.") for n in _imports(p))}
    assert importers == {"validation/_pyshacl.py"}


def test_importing_the_errors_does_not_load_pyshacl():
    import subprocess
    import sys
    code = "import sys, app.errors; print('pyshacl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=APP.parent)
    assert out.stdout.strip() == "False"


def test_the_shapes_compile_into_facts_per_shape_and_per_target(validator):
    from app.namespaces import XSD
    facts = validator.shapes["https://w3id.org/dfc-order-hub/shapes#OrderLine-quantity"]
    assert (facts.targets, facts.path, facts.datatype, facts.max_count, facts.min_inclusive) == (
        (b("OrderLine"),), ("one", b("quantity")), XSD + "decimal", 1, 0)
    assert facts.severity == "Violation" and facts.message and not facts.unsupported
    present = validator.shapes["https://w3id.org/dfc-order-hub/shapes#OrderLine-quantity-present"]
    assert present.path == ("alt", (b("hasQuantity"), b("quantity")))
    assert present.path_text == f"{b('hasQuantity')}|{b('quantity')}" and present.severity == "Warning"
    assert facts in validator.shapes.by_target[b("OrderLine")]
    assert set(validator.shapes.by_target) == {o for f in validator.shapes.values() for o in f.targets}


def test_a_shape_the_facts_cannot_model_turns_the_prescreen_off():
    shapes = rdflib.Graph().parse(data=f"""
        @prefix sh: <{SH}> .
        <urn:s> a sh:PropertyShape ; sh:targetClass <{b('Order')}> ; sh:path <{b('date')}> ;
            sh:pattern "^2" ; sh:message "dates of this millennium" .""", format="turtle")
    custom = Validator(shapes)
    assert custom.shapes["urn:s"].unsupported == {SH + "pattern"}
    data = triples('ex:o a dfc-b:Order ; dfc-b:date "1999" .')
    assert not custom.surely_conforms(data)
    assert only(custom.validate(data).violations)["message"] == "dates of this millennium"
