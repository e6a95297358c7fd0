"""A stand-in for the FDC Shopify producer app, answering as OFN's recorded traffic shows it does.

Built from the recorded exchanges between Open Food Network and the app (the reference data's
conformance/real/ofn/): its catalogue, its 201 to a new Held order, its answers to the PUTs
that follow and complete it. The recorded host is replaced by the stand-in's own loopback
address, so the IRIs it answers with are its own. It keeps every request it receives.
"""
from __future__ import annotations

import json
from pathlib import Path

from werkzeug.wrappers import Request, Response

RECORDED_HOST = "https://env-0105831.jcloud-ver-jpe.ik-server.com"
ENTERPRISE = "/api/dfc/Enterprises/test-hodmedod"
ORDER = ENTERPRISE + "/Orders/1181073572147"


class FdcStandIn:
    def __init__(self, recordings: Path):
        self.recordings = recordings
        self.base = ""
        self.requests: list[dict] = []

    def recorded(self, name: str) -> dict:
        """A recorded body, its host made ours."""
        text = (self.recordings / name).read_text(encoding="utf-8")
        return json.loads(text.replace(RECORDED_HOST, self.base))

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_json(silent=True) if request.data else None
        self.requests.append({"method": request.method, "path": request.path, "body": body,
                              "headers": dict(request.headers)})
        return self._answer(request, body)(environ, start_response)

    def _answer(self, request, body) -> Response:
        if request.headers.get("Authorization") != "Bearer fdc-token":
            return Response(status=401)
        if request.method == "GET" and request.path == ENTERPRISE + "/SuppliedProducts":
            return _jsonld(self.recorded("fdc-shopify-catalog-hodmedod.json"))
        if request.method == "POST" and request.path == ENTERPRISE + "/Orders":
            return _jsonld(self.recorded("vcr-backorderjob-03-post-new-order-response.json"), 201)
        if request.method == "PUT" and request.path == ORDER:
            complete = any(n.get("dfc-b:hasOrderStatus") == "dfc-v:Complete" for n in body.get("@graph", []))
            name = ("vcr-backorderjob-05-put-complete-order-response.json" if complete
                    else "vcr-backorderjob-03-post-new-order-response.json")
            return _jsonld(self.recorded(name))
        return Response(status=404)


def _jsonld(doc: dict, status: int = 200) -> Response:
    return Response(json.dumps(doc), status=status, mimetype="application/ld+json")
