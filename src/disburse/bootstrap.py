"""The composition root: builds everything from settings. Nothing is built at import time.

``open_system(settings)`` is the one way in for the CLI, the API's server, the demo and the
tests: the ledger, its views (opened on first use), the API clients and the console users,
closed together.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError, InternalError, PersistenceError
from eventsourcing.utils import get_topic as topic_of

from disburse.access.clients import Clients
from disburse.access.context import system_context
from disburse.access.users import Users
from disburse.application.alert_desk import Alerts
from disburse.application.ledger import Ledger
from disburse.persistence.keys import KeyRing, load_keys
from disburse.persistence.recorders import ChainedPostgresRecorder, ChainedSQLiteRecorder
from disburse.persistence.store import LedgerStore
from disburse.policy.default import default_documents
from disburse.readside.views import Views, open_views
from disburse.settings import ConfigurationError, Settings, StoreUrl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def store_env(store: StoreUrl, keys: KeyRing, settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for this store: persistence module, cipher, tables."""
    env = {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": keys.cipher_key,
        LedgerStore.PERSON_KEY_WRAP: keys.person_key_wrap,
        "CREATE_TABLE": "y",
        LedgerStore.GROUP_COMMIT: "y" if settings.group_commit else "n",
    }
    if settings.aggregate_cache_size:
        # Fast-forwarded from the store on every get and deep-copied for commands, so a
        # cached aggregate is never staler than a fresh load (eventsourcing's default).
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
    if store.kind == "memory":
        env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
    elif store.kind == "sqlite":
        assert store.path is not None  # noqa: S101 - guaranteed by parse_database_url
        store.path.parent.mkdir(parents=True, exist_ok=True)
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(store.path),
            "APPLICATION_RECORDER_TOPIC": topic_of(ChainedSQLiteRecorder),
        }
    else:
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": topic_of(ChainedPostgresRecorder),
            "POSTGRES_DBNAME": store.dbname,
            "POSTGRES_HOST": store.host,
            "POSTGRES_PORT": str(store.port),
            "POSTGRES_USER": store.user,
            "POSTGRES_PASSWORD": store.password,
            "POSTGRES_SCHEMA": store.schema,
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout),
        }
    return env


def build_ledger(settings: Settings, *, today: Callable[[], date] = date.today) -> Ledger:
    """Open (and create, if needed) the store named by the settings, with its keys.

    Refuses to start if the key cannot read the events already stored: a wrong key
    must never write a second, unreadable history beside the first.
    """
    keys = load_keys(settings)
    env = store_env(settings.store, keys, settings)
    for attempt in range(1, _OPEN_ATTEMPTS + 1):
        try:
            store = LedgerStore(env=env)
            break
        except (InternalError, IntegrityError) as error:
            # Processes opening a new PostgreSQL schema at once collide inside CREATE ...
            # IF NOT EXISTS ("tuple concurrently updated"); the next try finds the tables.
            if attempt == _OPEN_ATTEMPTS:
                raise _cannot_open(settings, error) from error
            time.sleep(0.1 * attempt)
        except PersistenceError as error:
            raise _cannot_open(settings, error) from error
    check_key_reads_store(store, settings.store)
    return Ledger.assemble(store, keys, today)


_OPEN_ATTEMPTS = 3


def _cannot_open(settings: Settings, error: PersistenceError) -> ConfigurationError:
    return ConfigurationError(f"cannot open the store {settings.store.describe()}: {error}")


def check_key_reads_store(store: LedgerStore, where: StoreUrl) -> None:
    """Decrypt the first stored event, if any; raise ``ConfigurationError`` if the key is wrong."""
    first = store.recorder.select_notifications(start=1, limit=1)
    if not first:
        return
    try:
        store.mapper.to_domain_event(first[0])
    except ValueError as error:
        store.close()
        raise ConfigurationError(
            f"the secret key does not decrypt the events in {where.describe()} ({error}); "
            "set DISBURSE_SECRET_KEY (or the key file) to the key this store was created with"
        ) from None


def initialise(ledger: Ledger, *, reason: str = "disburse init") -> list[str]:
    """Publish the default catalogue into an empty store; returns the versions published."""
    published = {d.version for d in ledger.policy.versions()}
    missing = [d for d in default_documents() if d.version not in published]
    if missing:
        ledger.policy.publish_many(system_context("init"), missing, reason=reason)
    return [d.version for d in missing]


@dataclass
class System:
    """An open ledger with what serves it; built and closed by :func:`open_system`."""

    settings: Settings
    ledger: Ledger
    _views: Views | None = field(default=None, repr=False)

    @property
    def views(self) -> Views:
        """The read side, opened (tables created) the first time it is asked for."""
        if self._views is None:
            self._views = open_views(self.ledger.store, self.ledger.keys, self.settings)
        return self._views

    @property
    def clients(self) -> Clients:
        """The API clients and their keys."""
        return Clients(self.ledger.store, self.ledger.keys)

    @property
    def users(self) -> Users:
        """The console's user accounts and their sessions."""
        return Users(self.ledger.store, self.ledger.keys, self.settings)

    @property
    def alert_desk(self) -> Alerts:
        """Inspectors resolve alerts: the ledger's store, alerts known from the alerts view."""
        return Alerts(self.ledger.store, self.views.alerts)

    def close(self) -> None:
        """Close the views (if opened), then the ledger."""
        try:
            if self._views is not None:
                self._views.close()
        finally:
            self.ledger.close()


@contextmanager
def open_system(
    settings: Settings, *, today: Callable[[], date] = date.today, initialised: bool = False
) -> Iterator[System]:
    """The system the settings name, closed with its views on the way out.

    ``ConfigurationError`` if the store cannot be opened; ``initialised``: publish the
    default catalogue first (as ``disburse init`` and ``serve`` do).
    """
    system = System(settings, build_ledger(settings, today=today))
    try:
        if initialised:
            initialise(system.ledger)
        yield system
    finally:
        system.close()
