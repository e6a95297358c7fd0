"""Conformance hints: every mistake real senders make gets a finding that says how to fix it.

The quirks come from ../shared/conformance/real/dfc/SOURCES.md and DESIGN.md; the term lists
are checked against the official DFC ontology 1.16 in ../shared/dfc (read here, never copied).
"""
from __future__ import annotations

import json
import re

import pytest
import rdflib
from conftest import JSONLD

from app.namespaces import DFC_B, DFC_T
from app.rdf.normalise import RENAMED
from app.validation.hints import UNITS
from app.validation.report import PAYLOAD_BASE, check
from app.validation.terms import dfc_terms

CTX = "https://www.datafoodconsortium.org"
OWL = "http://www.w3.org/2002/07/owl#"


def report(doc, profile="auto"):
    return check(json.dumps(doc).encode(), JSONLD, profile)


def one(rep, code, **match) -> dict:
    found = [r for r in rep.results if r["hintCode"] == code and all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, f"expected one {code} {match}, got {found or rep.results}"
    assert found[0]["hint"] and found[0]["message"]
    return found[0]


def codes(rep) -> set[str]:
    return {r["hintCode"] for r in rep.results}


def node(**props):
    return {"@context": CTX, "@id": "https://p.example/x", **props}


# --- the typos and renamed terms of SOURCES.md and DESIGN.md ----------------------------------

@pytest.mark.parametrize("wrong, right, code", [
    ("Entreprise", "Enterprise", "typo-term"),
    ("QuantitiveValue", "QuantitativeValue", "typo-term"),
])
def test_a_misspelt_class_is_named_with_the_right_one(wrong, right, code):
    rep = report(node(**{"@type": f"dfc-b:{wrong}"}))
    r = one(rep, code)
    assert f"dfc-b:{wrong} is not a DFC term" in r["message"]
    assert f"Did you mean dfc-b:{right}?" in r["hint"]
    # No DFC release defines a misspelling: other platforms cannot read it, so the check fails.
    assert r["severity"] == "Violation" and r["focusNode"] == "https://p.example/x"
    assert r["value"] == DFC_B + wrong and rep.conforms is False


@pytest.mark.parametrize("wrong, right, value, code", [
    ("hasAdress", "hasAddress", {"@id": "https://p.example/addr"}, "typo-term"),
    ("OrderedBy", "orderedBy", "https://p.example/hub", "typo-term"),
    ("hasPaymentState", "hasPaymentStatus", "dfc-v:Unpaid", "renamed-term"),
    ("hasOrderState", "hasOrderStatus", "dfc-v:Held", "renamed-term"),
    ("hasFulfilmentState", "hasFulfilmentStatus", "dfc-v:Held", "renamed-term"),
    ("beginDate", "startDate", "2024-10-14T08:00:00Z", "renamed-term"),
])
def test_a_misspelt_or_renamed_property_is_named_with_the_right_one(wrong, right, value, code):
    rep = report(node(**{"@type": "dfc-b:Order", f"dfc-b:{wrong}": value}))
    r = one(rep, code, path=DFC_B + wrong)
    assert f"Did you mean dfc-b:{right}?" in r["hint"]
    # A misspelling no release defines fails the check; an old name is read and only warned of.
    assert r["severity"] == ("Violation" if code == "typo-term" else "Warning")


def test_every_renamed_term_normalisation_repairs_has_a_hint():
    for wrong, (right, kind) in RENAMED.items():
        rep = report(node(**({"@type": f"dfc-b:{wrong}"} if wrong[0].isupper() else {f"dfc-b:{wrong}": "x"})))
        assert f"dfc-b:{right}" in one(rep, f"{kind}-term")["hint"], wrong


def test_offered_to_is_a_sender_term_with_the_dfc_one():
    rep = report(node(**{"@type": "dfc-b:Offer", "dfc-b:offeredTo": {"@id": "https://p.example/retail"}}))
    assert "dfc-b:offersTo" in one(rep, "sender-term", path=DFC_B + "offeredTo")["hint"]


def test_offered_item_is_a_sender_term_pointing_at_offers():
    rep = report(node(**{"@type": "dfc-b:Offer", "dfc-b:offeredItem": {"@id": "https://p.example/p1"}}))
    assert "dfc-b:offers" in one(rep, "sender-term", path=DFC_B + "offeredItem")["hint"]


def test_literal_quantity_is_deprecated_for_has_quantity():
    rep = report(node(**{"@type": "dfc-b:OrderLine", "dfc-b:concerns": "https://p.example/o",
                         "dfc-b:quantity": 3}))
    r = one(rep, "deprecated-term", path=DFC_B + "quantity")
    assert "dfc-b:hasQuantity" in r["hint"] and "1.15" in r["hint"]


def test_a_number_sent_as_a_string():
    rep = report(node(**{"@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": "12"}))
    r = one(rep, "number-as-string", path=DFC_B + "stockLimitation")
    assert r["value"] == "12" and "JSON number 12" in r["hint"]
    assert rep.conforms
    assert "number-as-string" not in codes(report(node(**{"@type": "dfc-b:CatalogItem",
                                                          "dfc-b:stockLimitation": 12})))


def test_an_empty_string_is_ignored_and_said_so():
    rep = report(node(**{"@type": "dfc-b:Order", "dfc-b:orderNumber": "", "dfc-b:date": ""}))
    r = one(rep, "empty-value", path=DFC_B + "date")
    assert r["value"] == "" and "Leave the property out" in r["hint"]


def test_a_javascript_date_string_gets_its_iso_form():
    rep = report(node(**{"@type": "dfc-b:SaleSession", "dfc-b:startDate": "Thu Aug 22 2024 05:40:38 UTC"}))
    assert "2024-08-22T05:40:38Z" in one(rep, "js-date")["hint"]
    assert "js-date" not in codes(report(node(**{"@type": "dfc-b:SaleSession",
                                                "dfc-b:startDate": "2024-08-22T05:40:38Z"})))


def test_a_boolean_sent_as_a_string():
    rep = report(node(**{"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Peas", "dfc-b:frozen": "true"}))
    assert "true or false" in one(rep, "boolean-as-string")["hint"]


def test_a_reference_sent_as_a_plain_string_where_no_context_makes_it_one():
    doc = {"@context": {"dfc-b": DFC_B}, "@id": "https://p.example/o", "@type": "dfc-b:Order",
           "dfc-b:orderedBy": "https://p.example/hub"}
    r = one(report(doc), "reference-as-string")
    assert '{"@id": "https://p.example/hub"}' in r["hint"]


def test_references_given_as_id_objects_or_coerced_strings_are_fine():
    for hub in ({"@id": "https://p.example/hub"}, "https://p.example/hub"):
        rep = report(node(**{"@type": "dfc-b:Order", "dfc-b:orderedBy": hub, "dfc-b:hasPart":
                             {"@id": "https://p.example/l"}}))
        assert not codes(rep) & {"reference-as-string", "literal-for-object"}, rep.results


def test_repeated_types_are_flagged_once():
    doc = {"@context": CTX, "@graph": [{"@id": "https://p.example/o", "@type": ["dfc-b:Offer", "dfc-b:Offer"],
                                        "dfc-b:offers": {"@id": "https://p.example/i"}}]}
    r = one(report(doc), "repeated-type")
    assert r["pointer"] == "/@graph/0/@type" and '["dfc-b:Offer"]' in r["hint"]


def test_a_bare_number_price_becomes_a_price_node_hint():
    rep = report(node(**{"@type": "dfc-b:Offer", "dfc-b:hasPrice": 9.99}))
    assert '"@type": "dfc-b:Price"' in one(rep, "literal-price")["hint"]


# --- terms of other releases, unknown terms, terms of the wrong kind ------------------------

def test_a_term_of_another_release_names_the_release_and_the_current_term():
    rep = report(node(**{"@type": "dfc-b:AsPlannedTransformation", "dfc-b:hasIncome": {"@id": "https://p.example/f"}}))
    r = one(rep, "other-version-term", path=DFC_B + "hasIncome")
    assert "1.9.0–1.10.0" in r["message"] and "dfc-b:hasInput" in r["hint"] and r["severity"] == "Warning"


def test_a_legacy_term_in_a_legacy_payload_is_only_info():
    doc = {"@context": "http://static.datafoodconsortium.org/ontologies/context.json", "@id": "https://p.example/o",
           "@type": "dfc-b:Offer", "dfc-b:offeres": {"@id": "https://p.example/i"}}
    rep = report(doc)
    assert one(rep, "other-version-term")["severity"] == "Info"
    assert rep.dfc_version == "≤1.7" and one(rep, "legacy-version")["severity"] == "Info"


def test_a_2_0_term_is_current_in_a_2_0_payload_and_foreign_in_a_1_16_one():
    body = {"@id": "https://p.example/e", "@type": "dfc-b:Enterprise", "dfc-b:hasMember": {"@id": "https://p.example/p"}}
    v2 = report({"@context": "https://w3id.org/dfc/ontology/context/context_2.0.0.json", **body})
    assert v2.dfc_version == "2.0.0" and "other-version-term" not in codes(v2)
    v1 = report({"@context": "https://w3id.org/dfc/ontology/context/context_1.16.0.json", **body})
    assert v1.dfc_version == "1.16.0" and one(v1, "other-version-term")["severity"] == "Warning"


@pytest.mark.parametrize("sent, meant", [
    ("firtsName", "firstName"), ("constitues", "constitutes"), ("hasValue", "maxValue"),
    ("lifeTime", "lifetime"), ("alcoholPercentage", "hasPercentageOfAlcoholByVolume"),
    ("offeresTo", "offersTo"), ("physicalCharacterisctics", "physicalCharacteristics"),
])
def test_an_unknown_property_gets_the_nearest_dfc_property(sent, meant):
    rep = report(node(**{"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Peas", f"dfc-b:{sent}": "x"}))
    r = one(rep, "unknown-term", path=DFC_B + sent)
    assert r["hint"] == f"Did you mean dfc-b:{meant}?"


def test_an_unknown_class_gets_the_nearest_class():
    rep = report(node(**{"@type": "dfc-b:PickUpOption"}))
    assert one(rep, "unknown-term")["hint"] == "Did you mean dfc-b:PickupOption?"


def test_an_unknown_term_far_from_any_gets_no_guess():
    rep = report(node(**{"dfc-b:zzqqxx": "1"}))
    r = one(rep, "unknown-term")
    assert "Did you mean" not in r["hint"] and "DFC ontology 1.16" in r["hint"]
    assert r["severity"] == "Violation" and "not a term of any DFC release" in r["message"]
    assert rep.conforms is False


def test_a_class_used_as_a_property_names_the_property():
    rep = report(node(**{"@type": "dfc-b:OrderLine", "dfc-b:Price": {"dfc-b:value": 1}}))
    assert one(rep, "class-as-property")["hint"] == "dfc-b:Price is a class; the property is dfc-b:hasPrice."


def test_a_property_used_as_a_type():
    assert "@type takes a class" in one(report(node(**{"@type": "dfc-b:offers"})), "property-as-class")["hint"]


@pytest.mark.parametrize("unit, iri", [("GBP", "dfc-m:PoundSterling"), ("kg", "dfc-m:Kilogram"), ("€", "dfc-m:Euro")])
def test_a_unit_given_as_text_names_the_taxonomy_unit(unit, iri):
    rep = report(node(**{"@type": "dfc-b:QuantitativeValue", "dfc-b:value": 1, "dfc-b:hasUnit": unit}))
    r = one(rep, "literal-for-object", path=DFC_B + "hasUnit")
    assert f'{{"@id": "{iri}"}}' in r["hint"] and f'"{unit}"' in r["message"]


def test_an_object_property_given_a_literal_outside_the_shapes_is_a_warning():
    doc = node(**{"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Peas", "dfc-b:hasType": {"@value": "veg"}})
    r = one(report(doc), "literal-for-object", path=DFC_B + "hasType")
    assert r["severity"] == "Warning" and '"@id"' in r["hint"]


def test_an_object_property_given_a_literal_the_shapes_refuse_is_one_violation_with_the_hint():
    rep = report(node(**{"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "Peas", "dfc-b:hasQuantity": {"@value": "4.8"}}))
    assert not rep.conforms
    r = one(rep, "literal-for-object", path=DFC_B + "hasQuantity")
    assert r["severity"] == "Violation" and "QuantitativeValue" in r["hint"]


def test_a_node_given_to_a_value_property():
    rep = report(node(**{"@type": "dfc-b:SuppliedProduct", "dfc-b:name": {"@id": "https://p.example/n"}}))
    assert one(rep, "node-for-literal", path=DFC_B + "name")["severity"] == "Warning"


# --- keys JSON-LD drops, prefixes nobody defined, mixed releases ------------------------------

def test_a_key_without_prefix_is_dropped_and_the_prefixed_term_suggested():
    rep = report(node(**{"@type": "dfc-b:Person", "firstName": "Ali"}))
    r = one(rep, "dropped-key")
    assert r["value"] == "firstName" and r["pointer"] == "/firstName"
    assert 'Did you mean "dfc-b:firstName"?' in r["hint"]


def test_an_undefined_prefix_is_flagged_not_dropped():
    r = one(report(node(**{"@type": "dfc-b:SuppliedProduct", "dfc-b:name": "P", "ofn:spree_id": 3})),
            "undefined-prefix")
    assert r["path"] == "ofn:spree_id" and '"ofn"' in r["hint"]


def test_an_inline_context_term_is_understood():
    doc = {"@context": [CTX, {"sku2": DFC_B + "sku"}], "@id": "https://p.example/i", "@type": "dfc-b:CatalogItem",
           "sku2": "X"}
    assert "dropped-key" not in codes(report(doc))


def test_a_legacy_unit_in_a_1_8_payload_is_a_mixed_release():
    doc = {"@context": CTX, "@id": "https://p.example/q", "@type": "dfc-b:QuantitativeValue", "dfc-b:value": 1,
           "dfc-b:hasUnit": {"@id": "http://static.datafoodconsortium.org/data/units.rdf#Gram"}}
    rep = report(doc)
    assert rep.dfc_version == "1.8–1.16"
    assert "dfc-m:" in one(rep, "mixed-versions")["hint"]


@pytest.mark.parametrize("context, version", [
    ("https://www.datafoodconsortium.org", "1.8–1.16"),
    ("https://w3id.org/dfc/ontology/context/context_1.16.0.json", "1.16.0"),
    ("https://w3id.org/dfc/ontology/context/context_2.0.0.json", "2.0.0"),
    ("http://static.datafoodconsortium.org/ontologies/context.json", "≤1.7"),
    ({"dfc-b": "http://w3id.org/dfc/ontology/v2.0.0/src/DFC_BusinessOntology.owl#"}, "2.0"),
    ({"dfc-b": "http://static.datafoodconsortium.org/ontologies/dfc_FullModel.owl#"}, "≤1.7"),
])
def test_the_dfc_version_comes_from_the_context_and_the_namespaces(context, version):
    doc = {"@context": context, "@id": "https://p.example/c", "@type": "dfc-b:CatalogItem", "dfc-b:sku": "S"}
    assert report(doc).dfc_version == version


# --- SHACL results get hints too ---------------------------------------------------------------

def test_a_price_with_a_currency_sign_gets_the_bare_number():
    rep = report(node(**{"@type": "dfc-b:Offer", "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": "£0.27",
                                                                   "dfc-b:hasUnit": "dfc-m:PoundSterling"}}))
    r = one(rep, "not-a-number")
    assert r["severity"] == "Violation" and "0.27" in r["hint"] and r["resource"] == "https://p.example/x"


def test_a_placeholder_date_is_called_so():
    rep = report(node(**{"@type": "dfc-b:SaleSession", "dfc-b:startDate": "beginDate"}))
    assert "placeholder" in one(rep, "not-a-date", path=DFC_B + "startDate")["hint"]


def test_an_order_state_outside_the_vocabulary_gets_the_nearest_state():
    rep = report(node(**{"@type": "dfc-b:Order", "dfc-b:orderedBy": "https://p.example/h",
                         "dfc-b:hasPart": "https://p.example/l", "dfc-b:hasOrderStatus": "dfc-v:Hled"}))
    assert one(rep, "not-in-vocabulary")["hint"].startswith("Did you mean dfc-v:Held?")


def test_a_negative_quantity_and_a_missing_offer():
    rep = report(node(**{"@type": "dfc-b:OrderLine", "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue",
                                                                           "dfc-b:value": -2}}))
    assert one(rep, "missing-property", path=DFC_B + "concerns")["severity"] == "Violation"
    assert one(rep, "negative-number")["severity"] == "Violation"


def test_two_offers_on_one_line_are_too_many():
    rep = report(node(**{"@type": "dfc-b:OrderLine", "dfc-b:concerns": ["https://p.example/a", "https://p.example/b"],
                         "dfc-b:quantity": 1}))
    assert "(2 values were sent)" in one(rep, "too-many-values")["hint"]


# --- profiles ---------------------------------------------------------------------------------

def test_a_catalog_profile_refuses_orders_and_wants_catalogue_resources():
    rep = report(node(**{"@type": "dfc-b:Order", "dfc-b:orderedBy": "https://p.example/h"}), profile="catalog")
    assert not rep.conforms
    assert "orders" in one(rep, "profile-unexpected-resource")["hint"]
    one(rep, "profile-missing-resource")


def test_auto_names_what_it_found():
    assert report(node(**{"@type": "dfc-b:SaleSession"})).profile == "sale_session"
    assert report(node(**{"@type": "dfc-b:Offer"})).profile == "catalog"


def test_a_relative_id_resolves_against_the_payload_base():
    rep = report({"@context": CTX, "@id": "item1", "@type": "dfc-b:CatalogItem", "dfc-b:stockLimitation": "lots"})
    assert rep.results[0]["focusNode"] == PAYLOAD_BASE + "item1"


# --- our term lists against the official ontology ---------------------------------------------

@pytest.fixture(scope="module")
def official(shared):
    graph = rdflib.Graph()
    graph.parse(shared / "dfc" / "DFC_BusinessOntology.rdf", format="xml")
    graph.parse(shared / "dfc" / "DFC_TechnicalOntology.rdf", format="xml")
    return graph


def official_kinds(graph) -> dict:
    kinds = {}
    for owl_kind, kind in (("Class", "class"), ("ObjectProperty", "object"), ("DatatypeProperty", "datatype")):
        for s in graph.subjects(rdflib.RDF.type, rdflib.URIRef(OWL + owl_kind)):
            if str(s).startswith((DFC_B, DFC_T)):
                kinds[str(s)] = kind
    return kinds


def test_our_term_list_is_the_official_1_16_ontology(official):
    assert dfc_terms().kinds == official_kinds(official)


def test_deprecated_terms_are_the_ones_the_ontology_deprecates(official):
    deprecated = {str(s) for s in official.subjects(rdflib.URIRef(OWL + "deprecated"), None)}
    terms = dfc_terms()
    assert set(terms.deprecated_) == deprecated
    assert all(terms.kind(e["use"]) for e in terms.deprecated_.values() if e["use"])


def test_what_we_call_not_a_dfc_term_is_not_one_and_what_we_suggest_is(official):
    current, terms = official_kinds(official), dfc_terms()
    wrong = {DFC_B + k for k in RENAMED} | set(terms.other_versions) | set(terms.sender_terms) | set(terms.suggestions)
    assert not wrong & set(current)
    right = ({DFC_B + v for v, _ in RENAMED.values()} | set(terms.suggestions.values())
             | {e["use"] for table in (terms.other_versions, terms.sender_terms) for e in table.values() if e["use"]})
    assert right <= set(current), right - set(current)


def test_terms_of_other_releases_are_in_those_releases_contexts(shared):
    terms = dfc_terms()
    contexts = {"≤1.7": "legacy/ontology-v1.7.3/context.json", "1.9.0": "context_1.9.0.json",
                "1.9.0–1.10.0": "context_1.10.0.json", "1.12.0–1.13.0": "context_1.12.0.json",
                "2.0": "context_2.0.0.jsonld"}
    # Contexts list object properties only; the 2.0 classes and datatype properties are in the
    # DFC 2.0 LinkML schema (SOURCES.md).
    linkml = (shared / "dfc" / "v2-linkml" / "dfc_business_linkml.yaml").read_text()
    for iri, entry in terms.other_versions.items():
        text = (shared / "dfc" / contexts[entry["in"]]).read_text()
        in_linkml = entry["in"] == "2.0" and re.search(rf"^  {re.escape(iri.rpartition('#')[2])}:$", linkml, re.M)
        assert f'"{_short(iri)}"' in text or in_linkml, (iri, entry)


def _short(iri: str) -> str:
    return "dfc-p:" + iri.rpartition("#")[2] if "ProductOntology" in iri else "dfc-b:" + iri.rpartition("#")[2]


def test_units_we_suggest_are_in_the_measures_taxonomy(shared):
    measures = (shared / "dfc" / "measures.rdf").read_text()
    for unit in set(UNITS.values()):
        assert re.search(rf'rdf:about="[^"]*measures\.rdf#{unit}"', measures), unit


def test_every_did_you_mean_on_the_corpus_names_a_current_term(official):
    current = {"dfc-b:" + k.rpartition("#")[2] for k in official_kinds(official) if k.startswith(DFC_B)}
    from app.reports.conformance import reports
    for name, rep in reports():
        for r in rep.results:
            for guess in re.findall(r"Did you mean \"?(dfc-b:\w+)", r["hint"]):
                assert guess in current, (name, r)


def test_a_term_of_the_release_the_context_names_is_only_info():
    doc = {"@context": "https://w3id.org/dfc/ontology/context/context_1.9.0.json", "@id": "https://p.example/t",
           "@type": "dfc-b:AsPlannedTransformation", "dfc-b:hasIncome": {"@id": "https://p.example/f"}}
    assert one(report(doc), "other-version-term")["severity"] == "Info"
