"""The query page at `/sparql` for browsers: a form (query, format), results as a table, no JavaScript.

The analyst enters a token once per browser session: it is posted with the form and kept in
the signed session cookie, which only this page reads (never another route, never a write).
Keeping or forgetting it needs the form's CSRF token, so no other site can sign a browser in.
The queries the analysts' guide ships (app/queries/analytics/) are offered as examples, and a
result with a label column and a number column is drawn as a bar chart (inline SVG).
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, render_template, request, session
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from app.analytics import GRAPH_MEDIA, RESULT_MEDIA, read_query
from app.rdf.render import ntriples_cells, results_cells
from app.api.context import agent, bearer_challenge, services
from app.api.negotiate import best_media_type
from app import queries
from app.errors import BadRequest, HubError, NotAcceptable, Unauthorized
from app.api.pages import charts
from app.api.pages.access import seal, unseal

TOKEN = "sparql_token"
EXAMPLES = Path(queries.__file__).with_name("analytics")
# format field → media type; "table" is this page's own rendering.
FORMATS = {"table": None, "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
           "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle",
           "json-ld": "application/ld+json", "rdf-xml": "application/rdf+xml",
           "n-triples": "application/n-triples"}


def wanted() -> bool:
    """Whether this request is the page's: a browser's, preferring HTML to every results format.

    Not a `format` parameter: SPARQLWrapper sends `format=xml` with every query."""
    return best_media_type(request.headers.get("Accept"), [*RESULT_MEDIA, "text/html"]) == "text/html"


def answer(run, allow) -> Response | tuple[str, int]:
    """Render the page; `run(query, media_type)` answers a query's body as the endpoint would,
    `allow(agent)` refuses an agent the endpoint refuses."""
    form = {"query": request.values.get("query", ""), "format": request.values.get("format", "table")}
    example = examples().get(request.args.get("example", ""))
    if example and not form["query"]:
        form["query"] = example["text"]
        return _page(form)
    if request.form.get("forget") or request.form.get("token", "").strip():
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as e:
            problem = BadRequest(f"the form's CSRF token is missing or stale ({e}): reload the page; nothing was kept")
            return _page(form, error=problem.problem()), 400
    if request.form.get("forget"):
        session.pop(TOKEN, None)
        return _page(form)
    if request.form.get("token", "").strip():
        session[TOKEN] = seal(request.form["token"].strip())
    if not form["query"].strip():
        return _page(form)
    try:
        who = agent() or _session_agent()
        allow(who)
        return _results(form, run)
    except HubError as e:
        if isinstance(e, Unauthorized):
            session.pop(TOKEN, None)
            return _page(form, error=e.problem()), e.status, bearer_challenge()
        return _page(form, error=e.problem()), e.status


def _session_agent():
    if TOKEN not in session:
        raise Unauthorized("enter a bearer token with the Analytics scope")
    return services().auth.agent(unseal(session[TOKEN]))


def _results(form, run):
    query = read_query(form["query"])
    media = FORMATS.get(form["format"], "")
    offered = GRAPH_MEDIA if query.returns_graph else RESULT_MEDIA
    if media is not None and media not in offered:
        raise NotAcceptable(f"{query.form} results are available as a table or "
                            + ", ".join(k for k, m in FORMATS.items() if m in offered))
    if media is not None:
        return Response(run(query, media), content_type=media)
    if query.returns_graph:
        table = (["subject", "predicate", "object"], ntriples_cells(run(query, "application/n-triples")))
    else:
        table = results_cells(run(query, "application/sparql-results+json"))
    return _page(form, table=table, chart=charts.from_table(*table))


def examples() -> dict[str, dict]:
    """The analysts' queries we ship: name → its title (the first line of its comment) and text."""
    out = {}
    for path in sorted(EXAMPLES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0].lstrip("# ") if text else path.stem
        out[path.stem] = {"title": first.split(":")[0].rstrip("."), "text": text}
    return out


def _page(form, table=None, error=None, chart=None) -> str:
    return render_template("sparql.html", form=form, formats=list(FORMATS), table=table, error=error, chart=chart,
                           examples=examples(), has_token=TOKEN in session or "Authorization" in request.headers)
