"""The pages' routes in the OpenAPI description (app/api/openapi.py), so the crawler and the fuzzer walk them."""
from __future__ import annotations

HTML = {"text/html": {"schema": {"type": "string"}}}
# A refusal is a page for a browser, the API's problem document for any other client.
REFUSAL = {**HTML, "application/problem+json": {"schema": {"type": "object"}}}
MEANING = {303: "Done: see the page it leads to", 400: "A bad id, or a form without its CSRF token (nothing changed)",
           401: "Not signed in (the page offers the sign-in form)", 403: "The token's agent may not see this page",
           404: "No such enterprise, session or order", 409: "The lifecycle refuses the move now (the API's reason)",
           422: "A value the form may not hold"}


def _answers(ok: str | None, *errors: int, redirect: bool = False) -> dict:
    out = {"200": {"description": ok, "content": HTML}} if ok else {}
    if redirect:
        out["303"] = {"description": MEANING[303], "headers": {"Location": {"schema": {"type": "string"}}}}
    out |= {str(code): {"description": MEANING[code], "content": REFUSAL} for code in errors}
    return out


def _form(**fields: dict) -> dict:
    properties = {"csrf_token": {"type": "string", "description": "The token the page's form carries"}, **fields}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": {"type": "object", "properties": properties, "required": ["csrf_token"]}}}}


def paths(segment_param) -> dict:
    """GET pages and the POSTs of their forms, under /pages."""
    eid = segment_param("eid", "jean-farm", "The enterprise's id")
    sid = segment_param("sid", "week-48", "The sale session's id")
    oid = segment_param("oid", "o1", "The order's id")
    did = segment_param("did", "d1", "The delivery's id")
    board = "/pages/enterprises/{eid}"
    # A board's long table (a producer's wholesale orders, a session's customer orders), a page at a time.
    page = {"$ref": "#/components/parameters/page"}

    def op(name, summary, answers, params=(), body=None):
        # A unique operationId each (API.md "Strict JSON-LD clients"), named for the page.
        return {"operationId": name, "summary": summary, "tags": ["pages"], "responses": answers,
                "security": [{"bearer": []}, {}],
                **({"parameters": list(params)} if params else {}), **({"requestBody": body} if body else {})}

    return {
        "/pages/sign-in": {"post": op("pageSignIn", "Sign in with an API token, kept in a signed cookie",
                                      _answers(None, 400, 401, redirect=True),
                                      body=_form(token={"type": "string"}))},
        "/pages/sign-out": {"post": op("pageSignOut", "Forget the token", _answers(None, 400, redirect=True), body=_form())},
        "/pages/enterprises": {"get": op("pageBoards", "Every enterprise's board, linked", _answers("The list"))},
        board: {"get": op("pageBoard", "The enterprise's board: stock and who holds it, wholesale orders, sessions, partners",
                          _answers("The board", 400, 401, 403, 404), [eid, page])},
        f"{board}/sale_sessions/{{sid}}": {"get": op("pageSessionBoard", 
            "A hub's session board: summary and chart, customer orders (pseudonymous), wholesale orders",
            _answers("The session board", 400, 401, 403, 404), [eid, sid, page])},
        f"{board}/sale_sessions/{{sid}}/close": {"post": op("pageCloseSession", 
            "Close the session: without confirm=yes, the page asking to confirm",
            _answers("The confirmation step", 400, 401, 403, 404, 409, redirect=True), [eid, sid],
            _form(confirm={"type": "string", "enum": ["yes"]}))},
        f"{board}/orders/{{oid}}": {"get": op("pageOrder", 
            "An order: lines, deliveries, history, a button per move open to the agent",
            _answers("The order's page", 400, 401, 403, 404), [eid, oid])},
        f"{board}/orders/{{oid}}/status": {"post": op("pageMoveOrder", 
            "Move the order as POST …/status does; a refusal is shown on the order's page",
            _answers(None, 400, 401, 403, 404, 409, 422, redirect=True), [eid, oid],
            _form(status={"type": "string"}, reason={"type": "string", "maxLength": 2000}))},
        f"{board}/orders/{{oid}}/deliveries/{{did}}/ship": {"post": op("pageShipDelivery", 
            "Ship a delivery (the supplier); a refusal is shown on the order's page",
            _answers(None, 400, 401, 403, 404, 409, redirect=True), [eid, oid, did], _form())},
    }
