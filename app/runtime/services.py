"""What one server process holds open: settings, the store, the shapes, the authenticator."""
from __future__ import annotations

import dataclasses

from app.analytics import Analytics
from app.config import Settings
from app.events.dispatcher import Dispatcher
from app.events.sender import WebhookSender
from app.domain.agents import Authenticator
from app.catalog.editor import Catalog
from app.catalog.links import LinkCache
from app.domain.clock import clock_from
from app.catalog.contracts import Contracts
from app.persons.register import Persons
from app.persons.pseudonyms import Pseudonyms
from app.partners.forwarder import Forwarder
from app.partners.desk import PartnerDesk
from app.orders.book import OrderBook
from app.orders.old_forms import move_old_forms
from app.events.subscriptions import Webhooks, move_old_keys
from app.partners.client import PartnerClient
from app.outbound import Guard
from app.queries import load
from app.store import Store, open_store
from app.validation import Validator


@dataclasses.dataclass
class Services:
    settings: Settings
    store: Store
    validator: Validator
    auth: Authenticator
    orders: OrderBook
    catalog: Catalog
    analytics: Analytics
    pseudonyms: Pseudonyms
    webhooks: Webhooks
    dispatcher: Dispatcher
    contracts: Contracts
    persons: Persons
    partners: PartnerDesk | None = None

    @classmethod
    def open(cls, settings: Settings, store: Store | None = None, clock=None) -> "Services":
        """Open the store the settings name (or use `store`) and load the shapes once.

        `clock` (anything with `now()`) is where order rules read the time; tests pass their own,
        else DFC_HUB_CLOCK_START may shift the system clock.
        """
        store = store or open_store(settings.store, settings.sparql_query, settings.sparql_update,
                                    settings.sparql_store, settings.lock_ttl_seconds, settings.store_timeout_seconds)
        # A store made before signing keys had graphs of their own keeps them in documents: move them.
        move_old_keys(store)
        # …and order lines' literal dfc-b:quantity, offeredItem, hasDescription: one form for every query.
        move_old_forms(store)
        auth = Authenticator(store, settings.admin_token, settings.jwt_issuers, settings.jwt_audience,
                             settings.jwt_max_lifetime_seconds)
        clock = clock or clock_from(settings.clock_start)
        client = PartnerClient(settings.webhook_allow_private, settings.partner_timeout_seconds,
                               settings.max_body_bytes, settings.partner_concurrency)
        forwarder = Forwarder(store, client, settings.public_base_url, clock, settings.max_json_depth)
        # One memory of offer links per process, kept across the writes that change no link.
        links = LinkCache(store, settings.public_base_url)
        book = OrderBook(store, settings.public_base_url, clock, links=links, forwarder=forwarder,
                         max_deliveries=settings.max_deliveries)
        validator = Validator()
        sender = WebhookSender(settings.webhook_timeout_seconds, settings.webhook_allow_private)
        dispatcher = Dispatcher(store, clock, settings.public_base_url, settings.webhook_retry_schedule,
                                settings.webhook_timeout_seconds, sender)
        return cls(settings, store, validator, auth, book, Catalog(store, settings.public_base_url),
                   Analytics(store, settings), Pseudonyms(store),
                   Webhooks(store, clock, Guard(settings.webhook_allow_private)), dispatcher,
                   Contracts(store, settings.public_base_url), Persons(store, settings.public_base_url, clock),
                   PartnerDesk(store, forwarder, validator, Guard(settings.webhook_allow_private)))

    def check_store(self) -> None:
        """Raise unless the store answers a query (the health check)."""
        self.store.ask(load("health"))

    def close(self) -> None:
        self.dispatcher.close()
        self.orders.forwarder.close()
        self.analytics.close()
        self.store.close()
