"""`/sparql`: the SPARQL 1.1 Protocol, read-only, over the anonymised dataset (app/analytics)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from app.analytics import GRAPH_MEDIA, RESULT_MEDIA, read_query
from app.api import sparql_page
from app.api.context import agent, services
from app.api.negotiate import best_media_type, family
from app.domain import policy
from app.domain.agents import Agent
from app.errors import BadRequest, NotAcceptable, QueryRefused, UnsupportedMediaType

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
# Plain JSON and XML are what many clients ask for; they get that flavour of each query form's
# answer. Clients list formats for every form at once (rdflib: `application/sparql-results+xml,
# application/rdf+xml`), so each form picks from the whole Accept list what fits it.
RESULTS = {**{m: m for m in RESULT_MEDIA}, "application/json": RESULT_MEDIA[0],
           "application/xml": "application/sparql-results+xml"}
GRAPHS = {**{m: m for m in GRAPH_MEDIA}, "application/json": "application/ld+json",
          "application/xml": "application/rdf+xml"}


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    if sparql_page.wanted():
        return sparql_page.answer(lambda query, media: _run(query, media, request.values), analyst)
    analyst(agent())
    text, params = _protocol_request()
    query = read_query(text)
    offered = GRAPHS if query.returns_graph else RESULTS
    chosen = best_media_type(request.headers.get("Accept"), list(offered))
    if chosen is None:
        raise NotAcceptable(f"{query.form} results are available as {', '.join(offered)}",
                            available=list(offered))
    media = offered[chosen]
    body = _run(query, media, params)
    response = Response(body, content_type=media + ("; charset=utf-8" if media.startswith("text/") else ""))
    response.vary.add("Accept")
    response.headers["Cache-Control"] = "no-store"
    return response


def _run(query, media: str, params) -> bytes:
    """Run a read query over the dataset the protocol's parameters name; its body as `media`."""
    analytics = services().analytics
    dataset = analytics.dataset(query, params.getlist("default-graph-uri"), params.getlist("named-graph-uri"))
    return analytics.run(query, media, dataset, family())


def analyst(who: Agent | None) -> Agent:
    """Allow the admin and tokens with the Analytics scope (an unscoped token is not enough:
    analytics reach beyond what any one enterprise owns)."""
    return policy.require(who, "analyst_dataset", "query")


def _protocol_request():
    """The query text and the parameters holding its graph URIs, as the protocol sends them."""
    if request.method == "GET":
        return _one_query(request.args), request.args
    media = (request.mimetype or "").lower()
    if media == FORM:
        return _one_query(request.form), request.form
    if media == DIRECT:
        try:
            return request.get_data(cache=False).decode("utf-8"), request.args
        except UnicodeDecodeError:
            raise BadRequest("the query must be UTF-8") from None
    if media == "application/sparql-update":
        raise QueryRefused("updates are refused: this endpoint is read-only")
    raise UnsupportedMediaType(f"POST a query as {FORM} (query=…) or {DIRECT}"
                               + (f", not {media}" if media else ""))


def _one_query(params) -> str:
    if "update" in params:
        raise QueryRefused("updates are refused: this endpoint is read-only")
    found = params.getlist("query")
    if len(found) != 1:
        raise BadRequest(f"send exactly one `query` parameter, not {len(found)}", parameter="query")
    return found[0]
