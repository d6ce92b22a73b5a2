"""Settings: one pydantic-settings class, environment variables prefixed ``DISBURSE_``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """The service cannot start with these settings; the message says what to set."""


class Settings(BaseSettings):
    """Configuration of a disburse process."""

    model_config = SettingsConfigDict(env_prefix="DISBURSE_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development",
        description="With 'production', the service refuses to start without a secret key.",
    )
    database_url: str = Field(
        default="sqlite:///./disburse.db",
        description="sqlite:///PATH (embedded default), postgresql://user@host:port/db, "
        "or memory:// (nothing kept; for tests and trials).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes. Encrypts stored events and keys the "
        "resident-ID hash. In development, generated on first use beside the database.",
    )
    key_file: Path | None = Field(
        default=None, description="Where the development key is kept (default: beside the DB)."
    )
    projector: Literal["embedded", "external"] = Field(
        default="embedded",
        description="'embedded': the service keeps the views current in a thread (the "
        "SQLite default); 'external': `disburse project run` workers do (PostgreSQL, "
        "several API processes).",
    )
    host: str = Field(default="127.0.0.1", description="Address `disburse serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `disburse serve` binds.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="API processes `disburse serve` runs (uvicorn workers); above 1, the "
        "supervising process keeps the views current, once for all of them.",
    )
    read_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long a query with X-Min-Position waits for the views.",
    )
    ready_max_lag: int = Field(
        default=10_000,
        ge=0,
        description="/readyz fails while a view is more than this many events behind.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Where days end, for audits as of a date and exports by date.",
    )
    notice_contact: str | None = Field(
        default=None,
        max_length=500,
        description="Where the public objects to a notice (公示): office, telephone, "
        "address. Printed on every notice unless one names its own contact.",
    )
    audit_signing_key: SecretStr | None = Field(
        default=None,
        description="Base64 Ed25519 seed (`disburse audit keygen`): signs head digests.",
    )
    audit_public_key: str | None = Field(
        default=None,
        description="Base64 Ed25519 public key that digests given to `verify` must be signed with.",
    )
    digest_every_events: int = Field(
        default=1000,
        ge=0,
        description="`disburse serve` publishes a digest to the digest log after this many "
        "new events (0: never by count).",
    )
    digest_every_minutes: float = Field(
        default=60.0,
        ge=0,
        description="... and at least this often while events arrive (0: never by time).",
    )
    aggregate_cache_size: int = Field(
        default=10_000,
        ge=0,
        le=10_000_000,
        description="Aggregates kept in memory per process, brought up to date from the "
        "store on every read (0: off). A budget with many payouts then costs its new "
        "events on each command, not its whole history.",
    )
    group_commit: bool = Field(
        default=True,
        description="Commit the commands of requests that arrive together in one "
        "transaction, each with its own answer (off: one transaction per request).",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body the API reads (413 BODY-TOO-LARGE above it).",
    )
    max_bulk_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest body of /v1/bulk/*: 10,000 items of up to about 1.6 KiB each.",
    )
    console_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="A console session ends after this many minutes without a request.",
    )
    console_session_hours: int = Field(
        default=12,
        ge=1,
        le=7 * 24,
        description="... and this many hours after sign-in, however busy.",
    )
    console_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Failed console sign-ins in a row that lock the account.",
    )
    console_lockout_minutes: int = Field(
        default=15,
        ge=1,
        le=7 * 24 * 60,
        description="How long a locked console account refuses every sign-in.",
    )
    password_hash_memory_kib: int = Field(
        default=65536,
        ge=1024,
        le=4 * 1024 * 1024,
        description="argon2id memory cost of console passwords, in KiB (the library's "
        "default, 64 MiB). Lower it only for tests: it is what makes guessing costly.",
    )
    password_hash_time_cost: int = Field(
        default=3,
        ge=1,
        le=100,
        description="argon2id passes over that memory (the library's default, 3).",
    )
    postgres_pool_size: int = Field(default=5, ge=1, le=100)
    postgres_connect_timeout: int = Field(default=5, ge=1, le=120)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (e.g. Asia/Shanghai)") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        """The time zone days end in."""
        return ZoneInfo(self.timezone)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        parse_database_url(url)
        return url

    @property
    def store(self) -> StoreUrl:
        """The parsed database URL."""
        return parse_database_url(self.database_url)


@dataclass(frozen=True)
class StoreUrl:
    """Where the events live."""

    kind: Literal["sqlite", "postgres", "memory"]
    path: Path | None = None
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    def default_key_file(self) -> Path | None:
        """The development key lives beside the SQLite file, or in the working directory."""
        if self.kind == "sqlite" and self.path is not None:
            return self.path.with_name(self.path.name + ".key")
        if self.kind == "postgres":
            return Path(f"disburse-{self.host}-{self.port}-{self.dbname}.key")
        return None

    def describe(self) -> str:
        """The store without credentials, for messages and logs."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        if self.kind == "postgres":
            schema = f"?schema={self.schema}" if self.schema else ""
            return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"
        return "memory://"


def parse_database_url(url: str) -> StoreUrl:
    """Parse ``DISBURSE_DATABASE_URL``; raise ``ValueError`` with the accepted forms."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path.removeprefix("/"))
        if not path:
            raise ValueError("sqlite URL needs a file: sqlite:///./disburse.db")
        return StoreUrl(kind="sqlite", path=Path(path))
    if parts.scheme in {"postgresql", "postgres"}:
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise ValueError(
                "postgresql URL needs a host and a database: postgresql://user@host:5432/db"
            )
        options = parse_qs(parts.query)
        unknown = sorted(set(options) - {"schema"})
        if unknown:
            raise ValueError(
                f"unsupported postgresql URL option(s) {', '.join(unknown)}: only ?schema= is "
                "read; set libpq options such as PGSSLMODE in the environment"
            )
        schema = options.get("schema", [""])[0]
        return StoreUrl(
            kind="postgres",
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
        )
    if parts.scheme == "memory":
        return StoreUrl(kind="memory")
    raise ValueError(
        f"unsupported database URL scheme {parts.scheme!r}: use sqlite:///PATH, "
        "postgresql://user@host:port/db or memory://"
    )
