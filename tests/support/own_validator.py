"""Post what the server answered back to its own validator (issue 22: what we send, we accept)."""
from __future__ import annotations

import re

JSONLD = "application/ld+json"
B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
HUB_NS = "https://w3id.org/dfc-order-hub/ns#"
# Findings that say a term is none of DFC's, or not its current form: our answers use DFC's
# current terms and our own hub: ones only.
TERM_CODES = {"unknown-term", "sender-term", "deprecated-term", "other-version-term", "renamed-term", "typo-term"}
# The literal dfc-b:quantity, which DFC 1.16 deprecates, is answered in two places only: on a
# delivery line, as API.md (Wave 2, deliveries) fixes it, and on an order line beside
# dfc-b:hasQuantity, because the official DFC connector (1.0.0-beta.2) reads no other form.
LITERAL_QUANTITY = re.compile(r"(/deliveries/[^/]+/lines|/order_lines)/[^/]+$")


def judgeable(body: str, media: str) -> bool:
    """A JSON-LD answer that states something (an empty listing has nothing to judge)."""
    return media.startswith(JSONLD) and '"@graph": []' not in body[-40:]


def refusals(http, base: str, body: str) -> list[dict]:
    """What /api/conformance/validate holds against an answer: Violations, and terms DFC does not
    define (or no longer) outside hub:."""
    r = http.post(base + "/api/conformance/validate", data=body.encode(), headers={"Content-Type": JSONLD}, timeout=60)
    assert r.status_code == 200, r.text[:300]
    return [{k: res.get(k) for k in ("severity", "focusNode", "path", "value", "hintCode", "message")}
            for res in r.json()["results"] if _refused(res)]


def _refused(res: dict) -> bool:
    if res["severity"] == "Violation":
        return True
    if res.get("hintCode") not in TERM_CODES or str(res.get("path") or res.get("value")).startswith(HUB_NS):
        return False
    return not (res.get("path") == B + "quantity" and LITERAL_QUANTITY.search(res.get("focusNode") or ""))
