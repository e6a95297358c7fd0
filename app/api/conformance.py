"""The conformance validator: POST /api/conformance/validate, and the page /conformance.

Both only read the payload and answer a report (app.validation.report): nothing is stored, no
token is needed. A payload that does not conform is a 200 report, not an error.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from app.api.context import base_url, services
from app.api.negotiate import SERIALISERS, best_media_type, body_type, family
from app.errors import HubError, NotAcceptable
from app.rdf.answer_context import own_contexts
from app.validation.report import PROFILES, check
from app.validation.terms import short_path

bp = Blueprint("conformance", __name__)
bp.add_app_template_filter(short_path, "short")

# JSON (API.md's report) first: it is what a client that states no preference gets.
REPORT_TYPES = ["application/json", "application/ld+json", "text/turtle", "application/n-triples"]
PAGE_MEDIA = {"json-ld": "application/ld+json", "turtle": "text/turtle", "n-triples": "application/n-triples"}


def _check(body: bytes, media: str, profile: str):
    h = services()
    return check(body, media, profile, h.settings.max_json_depth, h.validator,
                 own_contexts(h.settings.public_base_url))


@bp.post("/api/conformance/validate")
def validate() -> Response:
    media = body_type()
    answer = best_media_type(request.headers.get("Accept"), REPORT_TYPES)
    if answer is None:
        raise NotAcceptable(f"the report is available as {', '.join(REPORT_TYPES)}", available=REPORT_TYPES)
    report = _check(request.get_data(cache=False), media, request.args.get("profile", "auto"))
    if answer == "application/json":
        response = jsonify(report.to_json())
    else:
        response = Response(SERIALISERS[answer](report.as_graph(), family(), base_url()), mimetype=answer)
    response.vary.add("Accept")
    return response


@bp.get("/conformance")
def page() -> str:
    return render_template("conformance.html", profiles=["auto", *PROFILES], form={}, report=None)


@bp.post("/conformance")
def page_report() -> tuple[str, int]:
    """The form's answer: the report as HTML, or what made the payload unreadable."""
    form = {"payload": request.form.get("payload", ""), "profile": request.form.get("profile", "auto"),
            "syntax": request.form.get("syntax", "json-ld")}
    upload = request.files.get("file")
    body = upload.read() if upload and upload.filename else form["payload"].encode("utf-8")
    if upload and upload.filename:
        form["payload"] = body.decode("utf-8", errors="replace")
    report, error, status = None, None, 200
    try:
        report = _check(body, PAGE_MEDIA.get(form["syntax"], "application/ld+json"), form["profile"])
    except HubError as e:
        error, status = e.problem(), e.status
    return render_template("conformance.html", profiles=["auto", *PROFILES], form=form,
                           report=report, error=error), status
