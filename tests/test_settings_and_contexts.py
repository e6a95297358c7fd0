"""Every setting is documented; our context agrees with the official DFC ones."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from app.config import Settings
from app.errors import UnknownContext
from app.namespaces import FAMILIES
from app.rdf.contexts import local_context, resolve

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text()
    for field in dataclasses.fields(Settings):
        assert f"`{Settings.ENV[field.name]}`" in text, field.name


def test_settings_come_from_the_environment_then_overrides():
    env = {"PUBLIC_BASE_URL": "https://hub.example/", "DFC_HUB_PAGE_SIZE": "7"}
    s = Settings.load({"store": "memory:"}, environ=env)
    assert (s.public_base_url, s.page_size, s.store) == ("https://hub.example", 7, "memory:")
    with pytest.raises(ValueError):
        Settings.load({"no_such_setting": 1}, environ={})


def test_a_store_timeout_of_no_seconds_stops_the_server_at_start():
    assert Settings.load(environ={"DFC_HUB_STORE_TIMEOUT_SECONDS": "2.5"}).store_timeout_seconds == 2.5
    for bad in ("0", "-1", "nan", "inf", "1e999"):
        with pytest.raises(ValueError, match="DFC_HUB_STORE_TIMEOUT_SECONDS"):
            Settings.load(environ={"DFC_HUB_STORE_TIMEOUT_SECONDS": bad})


def official_contexts(shared):
    found = sorted((shared / "dfc").glob("context_*.json*"))
    assert found, f"no official DFC context in {shared / 'dfc'}: the checks over them would pass on nothing"
    return found


def test_our_context_reads_every_official_reference_term_as_an_iri(shared):
    ours = local_context("1.x")
    for path in official_contexts(shared):
        official = json.loads(path.read_text())["@context"]
        coerced = {k for k, v in official.items() if v == {"@type": "@id"}} - {
            "dfc-b:DFC_BusinessOntology_ObjectProperty", "dfc-b:DFC_Interface_Property"}
        missing = {k for k in coerced if ours.get(k) != {"@type": "@id"}}
        assert not missing, f"{path.name}: {sorted(missing)}"
        plain = {k for k, v in official.items() if isinstance(v, dict) and v != {"@type": "@id"}}
        assert not plain, f"{path.name} defines terms we do not know how to read: {plain}"


@pytest.mark.parametrize("version", ["1.8.2", "1.16.0", "2.0.0"])
def test_our_prefixes_are_the_official_ones_of_each_family(shared, version):
    path = next(p for p in official_contexts(shared) if version in p.name)
    official = json.loads(path.read_text())["@context"]
    family = "2.0" if version.startswith("2") else "1.x"
    ours = local_context(family)
    for prefix in FAMILIES[family]:
        assert ours[prefix] == official[prefix], prefix


def test_the_static_family_matches_the_legacy_context(shared):
    legacy = json.loads((shared / "dfc/legacy/ontology-v1.7.3/context.json").read_text())["@context"]
    ours = local_context("static")
    for prefix in ("dfc", "dfc-b", "dfc-t"):
        assert ours[prefix] == legacy[prefix]


@pytest.mark.parametrize("url, version", [
    ("https://www.datafoodconsortium.org", "1.8–1.16"),
    ("http://www.datafoodconsortium.org/", "1.8–1.16"),
    ("https://w3id.org/dfc/ontology/context/context_1.16.0.json", "1.16.0"),
    ("https://w3id.org/dfc/ontology/context/context_2.0.0.json", "2.0.0"),
    ("https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_1.16.0.jsonld", "1.16.0"),
    ("https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context.jsonld", "1.8–1.16"),
    ("http://static.datafoodconsortium.org/ontologies/context.json", "≤1.7"),
])
def test_known_context_urls_resolve_offline(url, version):
    assert resolve(url)[1] == version


@pytest.mark.parametrize("url", ["https://w3id.org/dfc/ontology/context/context_9.9.9.json",
                                 "https://evil.example/context.json", "context.json"])
def test_other_contexts_are_refused(url):
    with pytest.raises(UnknownContext):
        resolve(url)


def test_our_context_file_is_ours_not_a_copy(shared):
    ours = (Path(__file__).resolve().parents[1] / "ontology" / "context.jsonld").read_text()
    for path in official_contexts(shared):
        assert ours != path.read_text()
    assert re.search(r'"hub": "https://w3id.org/dfc-order-hub/ns#"', ours)


def test_trimming_a_large_context_keeps_what_a_walk_of_it_would_in_its_order():
    """trim_contexts remembers a large context's layout by identity: the answer must be the same
    as keeping, in order, every keyword, every prefix and every term the document uses."""
    from app.rdf.contexts import trim_contexts
    ctx = local_context("1.x")
    doc = {"@context": ["https://www.datafoodconsortium.org", ctx], "@type": "dfc-b:Order",
           "dfc-b:hasPart": {"@type": "dfc-b:OrderLine", "dfc-b:quantity": 2}, "unknown:term": "x"}
    used = {"@type", "dfc-b:Order", "dfc-b:hasPart", "dfc-b:OrderLine", "dfc-b:quantity", "unknown:term", "x",
            "dfc-b", "unknown"}
    expected = {k: v for k, v in ctx.items() if k in used or k.startswith("@") or isinstance(v, str)}
    for _ in range(2):                  # the layout worked out, then remembered
        copy = json.loads(json.dumps(doc))
        copy["@context"][1] = ctx
        trim_contexts(copy)
        assert list(copy["@context"][1].items()) == list(expected.items())
    assert "dfc-b:hasPart" in expected and len(expected) < len(ctx)
