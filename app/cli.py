"""The `dfc-hub` command: serve, load, validate, and the cron commands (close-due-sessions,
expire-holds, deliver-events, erase-due-persons, forward-orders). Each a thin wrapper."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path

import click

from app.events import outbox
from app.runtime import collector
from app.config import Settings

# app/fixtures links to the top-level fixtures/ in a checkout, and is a copy in a wheel.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# At least two: a request waiting for one producer's lock (behind a session's close) or for a
# partner platform must not hold up every other request.
DEFAULT_THREADS = max(2, os.cpu_count() or 2)


@click.group()
@click.version_option(package_name="dfc-order-hub", prog_name="dfc-hub")
def main():
    """DFC Order Hub: a linked-data order server for DFC food networks."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, help="0: any free port (the banner says which).")
@click.option("--demo", is_flag=True, help="Load the demo data if the store is empty, print how to try it.")
@click.option("--reset", is_flag=True, help="Empty the store first: everything in it is lost.")
# Python runs one thread's code at a time, and waitress does the connections' I/O outside its
# threads: more threads than cores only queue for the interpreter lock (measured: 8 threads
# served held checkouts at 60-70 % of the rate of 2, on 2 cores).
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(min=1),
              help="Threads running the app (default: the number of CPUs, at least 2).")
def serve(host, port, demo, reset, threads):
    """Serve the API (settings from the environment; see README)."""
    import waitress

    from app.api.factory import create_app
    from app.runtime.loading import reset as reset_store

    from app.errors import HubError

    overrides = {} if Settings.load().admin_token else {"admin_token": secrets.token_urlsafe(24)}
    try:
        app = create_app(overrides)
    except HubError as e:
        click.echo(f"error: {e.detail}\n(an on-disk store opens in one process at a time: is another "
                   "`dfc-hub serve` or `make run` using it? Stop that one, or set DFC_HUB_STORE to "
                   "another directory.)", err=True)
        sys.exit(2)
    services = app.extensions["dfc_hub"]
    if reset:
        reset_store(services.store)
        click.echo(f"Emptied the store {services.settings.store}.")
    if demo:
        _demo(services)
    services.orders.give_statuses()      # orders from before the supplier lifecycle
    outbox.adopt_staged(services.store)   # events a writer killed between its two writes left unnumbered
    base = services.settings.public_base_url
    token = services.settings.admin_token
    # Bound before the banner: `--port 0` takes a free port, and the banner says which.
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="dfc-hub")
    port = server.effective_port
    click.echo(f"""
DFC Order Hub serving {services.settings.store} on http://{host}:{port} (IRIs under {base})
Admin token: {token}{'  (generated; set DFC_HUB_ADMIN_TOKEN to choose one)' if 'admin_token' in overrides else ''}

Try:
  curl {base}/api/dfc/enterprises
  curl -H 'Accept: text/turtle' {base}/api/dfc/enterprises/jean-farm/catalog
  curl -X PUT -H 'Authorization: Bearer {token}' -H 'Content-Type: application/ld+json' \\
       -d '{{"@context": "https://www.datafoodconsortium.org", "@type": "dfc-b:Enterprise", "dfc-b:name": "My farm"}}' \\
       {base}/api/dfc/enterprises/my-farm
""")
    from app.runtime.workers import workers_for
    _log_requests()
    workers = app.extensions["dfc_workers"] = workers_for(services).start()
    # SIGTERM (a service manager, a container stop) ends serving like Ctrl-C: the workers finish
    # their run and are joined, and the store is closed, rather than cut off mid-write.
    signal.signal(signal.SIGTERM, _stop_serving)
    # What startup made lives as long as the server: out of the collector's reach, which runs less often.
    collector.settle()
    try:
        server.run()
    finally:
        if not workers.stop():
            click.echo("some background workers did not stop in time", err=True)
        services.close()


def _stop_serving(signum, frame) -> None:
    raise SystemExit(0)


def _log_requests() -> None:
    """Send the access log (one line per request) to stderr, with the time."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    access = logging.getLogger("app.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False     # waitress gives the root logger a handler: one line, not two


def _demo(services) -> None:
    """Load the demo data into an empty store; on a used one, say so and how to start over."""
    from app.runtime.loading import is_empty, load_demo

    if not is_empty(services.store):
        click.echo(f"""The store {services.settings.store} already holds data, so the demo data was not loaded again:
what was changed stays changed (a sale session that was closed, or whose dates have passed,
answers the README's checkout with 409). To start over with a fresh demo: `make reset`
(or `dfc-hub serve --demo --reset`; everything in the store is lost).""")
        return
    count, sessions = load_demo(services.store, FIXTURES / "demo" / "jean-scenario.json",
                                services.settings.public_base_url + "/api/dfc/", services.orders.clock.now())
    click.echo(f"Loaded the demo data ({count} resources). Sale sessions, moved to this week:")
    for iri, start, end in sessions:
        click.echo(f"  {iri}: {start} to {end}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--base", help="Base IRI for relative IRIs (default: PUBLIC_BASE_URL/api/dfc/).")
def load(files, base):
    """Load JSON-LD or Turtle files into the store, one document per resource."""
    from app.errors import HubError
    from app.runtime.services import Services
    from app.runtime.loading import load_files

    services = Services.open(Settings.load())
    try:
        count = load_files(services.store, [Path(f) for f in files],
                           base or services.settings.public_base_url + "/api/dfc/", progress=True)
    except HubError as e:
        click.echo(f"error: {e.detail}", err=True)
        sys.exit(2)
    finally:
        services.close()
    click.echo(f"loaded {count} resources from {len(files)} file(s)")


@contextlib.contextmanager
def _cron_services(settings: Settings, serve_does: str):
    """The services a cron command works on, closed after; exit 2 when its store cannot be opened
    (an on-disk store opens in one process at a time: `serve` then does the work itself)."""
    from app.errors import HubError
    from app.runtime.services import Services

    try:
        services = Services.open(settings)
    except HubError as e:
        click.echo(f"error: {e.detail} (is `dfc-hub serve` running on this store? it {serve_does} "
                   "itself; cron needs a remote store shared with it)", err=True)
        sys.exit(2)
    try:
        yield services
    finally:
        services.close()


def _run_once(settings: Settings, serve_does: str, job, done: str, counted: str) -> None:
    """Run one of serve's background jobs once (for cron): each IRI it acted on, then how many."""
    with _cron_services(settings, serve_does) as services:
        found = job(services)
    for iri in found:
        click.echo(f"{done} {iri.value}")
    click.echo(f"{len(found)} {counted}")


@main.command("close-due-sessions")
def close_due_sessions():
    """Close the sale sessions whose endDate plus DFC_HUB_CLOSE_GRACE_SECONDS has passed (for cron)."""
    from app.runtime.workers import close_due

    _run_once(Settings.load(), "closes sessions", close_due, "closed", "sale session(s) closed")


@main.command("expire-holds")
def expire_holds():
    """Cancel the Held orders whose hub:holdUntil has passed, their stock released (for cron)."""
    from app.runtime.workers import expire_holds as expire

    _run_once(Settings.load(), "cancels them", expire, "cancelled", "order(s) cancelled (hold expired)")


@main.command("deliver-events")
@click.option("--follow", is_flag=True, help="Keep delivering until stopped (SIGTERM, Ctrl-C), as `serve` "
              "does on a remote store by starting this.")
@click.option("--parent", type=int, hidden=True, help="With --follow: stop once this process is gone.")
def deliver_events(follow, parent):
    """Send the webhook deliveries due now, then exit (for cron; `serve` delivers by itself too)."""
    with _cron_services(Settings.load(), "delivers events") as services:
        if follow:
            _follow(services, parent)
            return
        sent = services.dispatcher.drain()
    click.echo(f"{sent} webhook delivery attempt(s) made")


def _follow(services, parent: int | None) -> None:
    """Dispatcher passes in this process until SIGTERM, Ctrl-C or (with `parent`) the parent's end."""
    from app.runtime.workers import dispatcher_worker

    worker = dispatcher_worker(services)
    job = worker.job
    collector.settle()       # a long-running process, as `serve` is

    def orphaned_or_pass():
        if parent is not None and os.getppid() != parent:     # `serve` was killed: stop with it
            worker.stop()
            return False
        return job()
    worker.job = orphaned_or_pass
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run()
    except KeyboardInterrupt:
        pass


@main.command("erase-due-persons")
def erase_due_persons():
    """Erase the persons whose last session closed DFC_HUB_PERSON_RETENTION_DAYS ago (for cron)."""
    from app.runtime.workers import erase_due

    settings = Settings.load()
    if settings.person_retention_days <= 0:
        click.echo("DFC_HUB_PERSON_RETENTION_DAYS is 0: personal data is kept, nobody erased")
        return
    _run_once(settings, "erases persons due", erase_due, "erased", "person(s) erased")


@main.command("forward-orders")
def forward_orders():
    """Send partner platforms the forwarded orders they have not acknowledged yet (for cron)."""
    from app.runtime.workers import forward_pending

    with _cron_services(Settings.load(), "sends them") as services:
        done, left = forward_pending(services)
    click.echo(f"{done} forwarded order(s) acknowledged, {left} still pending")
    if left:
        sys.exit(1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--profile", type=click.Choice(["auto", "catalog", "order", "sale_session"]), default="auto",
              show_default=True, help="What the payloads are meant to be.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True, help="junit: JUnit XML for a CI, one test case a file.")
def validate(files, profile, fmt):
    """Validate DFC payloads; exit 0 all conform, 1 violations, 2 a file unreadable."""
    from app.errors import HubError
    from app.validation import outputs
    from app.reports.conformance import media_of
    from app.validation.report import check

    from app.rdf.answer_context import own_contexts

    settings = Settings.load()
    own = own_contexts(settings.public_base_url)     # answers of this server, saved to files
    outcomes, worst = [], 0
    for name in files:
        try:
            report = check(Path(name).read_bytes(), media_of(Path(name)), profile,
                           settings.max_json_depth, own_contexts=own)
        except (OSError, HubError) as e:
            outcomes.append((name, e))
            worst = 2
            continue
        outcomes.append((name, report))
        if not report.conforms:
            worst = max(worst, 1)
    click.echo({"text": outputs.to_text, "json": outputs.to_json, "junit": outputs.to_junit}[fmt](outcomes))
    sys.exit(worst)


@main.command("policy-table")
@click.option("--output", type=click.Path(dir_okay=False), help="Default: docs/policy.md.")
def policy_table(output):
    """Write the table of who may do what (docs/policy.md) from app/domain/policy.py."""
    from app.reports import policy_table

    path = Path(output) if output else policy_table.OUTPUT
    path.write_text(policy_table.markdown(), encoding="utf-8")
    click.echo(f"wrote {path}")


@main.command("conformance-report")
@click.option("--corpus", type=click.Path(file_okay=False, exists=True), help="Default: shared/conformance/real beside the checkout.")
@click.option("--output", type=click.Path(dir_okay=False), help="Default: docs/conformance.md.")
def conformance_report(corpus, output):
    """Write the table of the corpus payloads' conformance (docs/conformance.md)."""
    from app.reports import conformance as corpus_module

    written = corpus_module.write(Path(corpus) if corpus else corpus_module.CORPUS,
                                  Path(output) if output else corpus_module.OUTPUT)
    click.echo(f"wrote {written}")


if __name__ == "__main__":       # `python -m app.cli`: how `serve` starts its delivery process
    main()
