"""The pages' routes: thin, as the API's are — read the form, call the pages' readers or a service, render."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request

from app import __version__
from app.api.context import base_url, namespace, services
from app.api.paging import whole_number
from app.domain import documents as docs
from app.domain import statuses
from app.domain.kinds import ORDERS
from app.errors import BadRequest, HubError, Unauthorized
from app.api.pages import access, boards, csrf, order_page, reading, session_board
from flask_wtf.csrf import CSRFError

bp = Blueprint("pages", __name__, url_prefix="/pages")
BOARD = "/enterprises/<eid>"
MAX_TOKEN = 4096


@bp.before_request
def _check_form():
    if request.method == "POST":
        csrf.protect()


@bp.after_request
def _private(response):
    # A board shows one enterprise's orders to its own people: no cache keeps it for the next visitor.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HubError)
def _refused(e: HubError):
    return access.refusal(e)


@bp.errorhandler(CSRFError)
def _forged(e: CSRFError):
    return access.refusal(BadRequest("the form's CSRF token is missing or stale (" + e.description.rstrip(".")
                                     + "): reload the page and send the form again; nothing was changed"))


@bp.app_context_processor
def _globals():
    return {"base": base_url(), "version": __version__}


def home():
    try:
        who = access.visitor()
    except Unauthorized:
        who = None
    return render_template("pages/home.html", who=who, board=_own_board(who))


@bp.post("/sign-in")
def sign_in():
    token = request.form.get("token", "").strip()
    if not token or len(token) > MAX_TOKEN:
        raise BadRequest("enter an API token", field="token")
    who = access.sign_in(token)
    return redirect(base_url() + (_own_board(who) or "/"), 303)


@bp.post("/sign-out")
def sign_out():
    access.sign_out()
    return redirect(base_url() + "/", 303)


@bp.get("/enterprises")
def enterprises():
    """Every enterprise's board, named (the public enterprises listing)."""
    known = reading.names()
    rows = sorted(((name, iri.rsplit("/", 1)[-1]) for iri, name in known.items()), key=lambda r: r[0].lower())
    return render_template("pages/enterprises.html", rows=rows)


@bp.get(BOARD)
def board(eid):
    ns = namespace(eid)
    return render_template("pages/board.html", board=boards.board(access.visitor(), ns, _page()))


@bp.get(f"{BOARD}/sale_sessions/<sid>")
def session(eid, sid):
    ns = namespace(eid)
    return render_template("pages/session.html", s=session_board.board(access.visitor(), ns, sid, _page()))


@bp.post(f"{BOARD}/sale_sessions/<sid>/close")
def close_session(eid, sid):
    """Close the session, once the form says it is meant: the first press only asks."""
    ns, who = namespace(eid), access.visitor()
    if request.form.get("confirm") != "yes":
        found = session_board.board(who, ns, sid)
        return render_template("pages/confirm_close.html", s=found)
    completed = session_board.close(who, ns, sid)
    flash(f"The session is closed: {completed} order(s) completed.")
    return redirect(f"{base_url()}/pages/enterprises/{eid}/sale_sessions/{sid}", 303)


@bp.get(f"{BOARD}/orders/<oid>")
def order(eid, oid):
    ns = namespace(eid)
    return render_template("pages/order.html", o=order_page.page(access.visitor(), ns, oid))


@bp.post(f"{BOARD}/orders/<oid>/status")
def move_order(eid, oid):
    """One move of the lifecycle, as POST …/status makes it; a refusal is shown on the order's page."""
    ns, who = namespace(eid), access.visitor()
    try:
        target, reason = statuses.requested(request.form.get("status"), request.form.get("reason", "").strip() or None)
        services().orders.transition(ns, _order_iri(ns, oid), who, target, reason)
    except HubError as e:
        return _shown(e, who, ns, oid)
    flash(f"The order is now {statuses.name(target).replace('_', ' ')}.")
    return redirect(f"{base_url()}/pages/enterprises/{eid}/orders/{oid}", 303)


@bp.post(f"{BOARD}/orders/<oid>/deliveries/<did>/ship")
def ship(eid, oid, did):
    ns, who = namespace(eid), access.visitor()
    iri = _order_iri(ns, oid)
    try:
        services().orders.ship(ns, iri, who, docs.node(f"{iri.value}/deliveries/{did}"))
    except HubError as e:
        return _shown(e, who, ns, oid)
    flash(f"Delivery {did} is shipped.")
    return redirect(f"{base_url()}/pages/enterprises/{eid}/orders/{oid}", 303)


def _page() -> int:
    """The page of a board's long table that `?page=` asks for (400 for what is no page number)."""
    return whole_number("page", 1, 1, 10**9)


def _order_iri(ns, oid: str):
    return docs.node(f"{ns.collection(ORDERS)}/{oid}")


def _shown(e: HubError, who, ns, oid):
    """A refused move on the order's page, with the API's status and reason; 401/403 as any page."""
    if e.status in (401, 403):
        raise e
    return render_template("pages/order.html", o=order_page.page(who, ns, oid), error=e.problem()), e.status


def _own_board(who) -> str | None:
    """The board of the enterprise the agent is, when it is one of this server's."""
    prefix = base_url() + "/api/dfc/enterprises/"
    if who is None or not who.iri.startswith(prefix) or "/" in who.iri[len(prefix):]:
        return None
    return f"/pages/enterprises/{who.iri[len(prefix):]}"
