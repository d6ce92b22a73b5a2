"""API clients: create (the key is shown once), list, revoke, and authenticate a key."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.access.client import ApiClient, ClientDirectory

if TYPE_CHECKING:
    from disburse.access.context import Context
    from disburse.domain.meta import Role
    from disburse.persistence.batching import Changes
    from disburse.persistence.keys import KeyRing
    from disburse.persistence.store import LedgerStore

PREFIX = "dsb"


@dataclass(frozen=True)
class IssuedKey:
    """A new client and its key, which is not stored and cannot be shown again."""

    client: ApiClient
    key: str


class Clients:
    """Manage the keys other systems and bureau front-ends use."""

    def __init__(self, store: LedgerStore, keys: KeyRing) -> None:
        self._store = store
        self._keys = keys

    def create(
        self, ctx: Context, *, name: str, role: Role, region_code: str, gateway: bool = False
    ) -> IssuedKey:
        """A new client with a new random key: ``dsb_<client id>_<secret>``.

        The client id in the key says which client to check; only the secret's keyed
        hash is stored. A ``gateway`` signs in its own users and names them in
        ``X-Actor-Id``; other clients are one actor each.
        """
        secret = secrets.token_urlsafe(32)

        def decide(changes: Changes) -> IssuedKey:
            directory = self._store.find(ClientDirectory, ClientDirectory.create_id())
            if directory is None:
                directory = ClientDirectory(meta=ctx.meta())
            client = ApiClient.create(
                name=name,
                role=role,
                region_code=region_code,
                key_hash=self._keys.api_key_hash(secret),
                meta=ctx.meta(),
                gateway=gateway,
            )
            key = f"{PREFIX}_{client.id.hex}_{secret}"
            directory.add(client_id=client.id, name=client.name, meta=ctx.meta())
            changes.add(client, directory)
            return IssuedKey(client, key)

        return self._store.transact(decide)

    def list(self) -> list[ApiClient]:
        """Every client ever created (revoked ones included), in creation order."""
        directory = self._store.find(ClientDirectory, ClientDirectory.create_id())
        if directory is None:
            return []
        return [self.get(UUID(client_id)) for client_id in directory.clients]

    def get(self, client_id: UUID) -> ApiClient:
        """The client, or ``NotFoundError``."""
        return self._store.load(ApiClient, client_id, "client")

    def find_by_name(self, name: str) -> ApiClient | None:
        """The client of that name, if any."""
        directory = self._store.find(ClientDirectory, ClientDirectory.create_id())
        if directory is None:
            return None
        for client_id, known in directory.clients.items():
            if known == name:
                return self.get(UUID(client_id))
        return None

    def revoke(self, ctx: Context, client_id: UUID, *, reason: str) -> None:
        """Stop a key from working."""
        self._store.update(
            ApiClient, client_id, "client", lambda c, _: c.revoke(meta=ctx.meta(reason))
        )

    def authenticate(self, key: str) -> ApiClient | None:
        """The live client holding ``key``, or None (unknown, malformed or revoked)."""
        prefix, _, rest = key.partition("_")
        client_hex, _, secret = rest.partition("_")
        if prefix != PREFIX or not secret or len(client_hex) != 32:  # noqa: PLR2004 - uuid hex
            return None
        try:
            client_id = UUID(hex=client_hex)
        except ValueError:
            return None
        client = self._store.find(ApiClient, client_id)
        if client is None or client.revoked:
            return None
        if not hmac.compare_digest(client.key_hash, self._keys.api_key_hash(secret)):
            return None
        return client
