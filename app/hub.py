"""What one server process holds open: settings, the store, the shapes, the authenticator."""
from __future__ import annotations

import dataclasses

from app.config import Settings
from app.domain.agents import Authenticator
from app.store import Store, open_store
from app.validation import Validator


@dataclasses.dataclass
class Hub:
    settings: Settings
    store: Store
    validator: Validator
    auth: Authenticator

    @classmethod
    def open(cls, settings: Settings, store: Store | None = None) -> "Hub":
        """Open the store the settings name (or use `store`) and load the shapes once."""
        store = store or open_store(settings.store, settings.sparql_query, settings.sparql_update,
                                    settings.sparql_store)
        auth = Authenticator(store, settings.admin_token, settings.jwt_issuers, settings.jwt_audience)
        return cls(settings, store, Validator(), auth)

    def close(self) -> None:
        self.store.close()
