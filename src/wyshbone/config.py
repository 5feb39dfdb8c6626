"""Settings, read once from ``WYSHBONE_*`` environment variables.

No other module reads the environment: everything else receives a ``Settings`` value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wyshbone.domain.goals import MAX_VOLUME
from wyshbone.domain.planner import MONITOR_MAX_RESULTS


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "wyshbone"


def _default_open_data_dir() -> Path:
    """``../shared/data`` beside the working directory, else beside the source checkout."""
    candidates = [
        Path.cwd().parent / "shared" / "data",
        Path(__file__).resolve().parents[3] / "shared" / "data",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


class Settings(BaseSettings):
    """Everything configurable about a Wyshbone process."""

    model_config = SettingsConfigDict(env_prefix="WYSHBONE_", frozen=True, extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Where Wyshbone keeps its own files (directory database, plan store, logs)."""
    open_data_dir: Path = Field(default_factory=_default_open_data_dir)
    """Folder with the open data (``uk_businesses*.csv.gz``, ``gb_places.csv``...); never copied."""
    directory_path: Path | None = None
    """SQLite file of the imported business directory; default ``<home>/directory.sqlite``."""
    database_url: str | None = None
    """Plan/event/lead store; default SQLite (WAL) at ``<home>/wyshbone.sqlite``."""
    max_concurrent_steps: int = 4
    """How many independent ready steps of one plan run side by side."""
    default_country: str = "GB"
    """Country assumed when a goal names none."""
    secret_key: str | None = None
    """Signs session cookies; default: a random key kept in ``<home>/secret_key``."""
    google_places_api_key: SecretStr | None = None
    """Google Places API (New) key; without it the provider is not configured and never called."""
    google_places_base_url: str = "https://places.googleapis.com"
    google_places_per_minute: int = Field(default=600, ge=1)
    """Text Search requests per minute, held in total across processes (Google's default quota is 600)."""
    hunter_api_key: SecretStr | None = None
    """Hunter.io key (sent in the X-API-KEY header, never in a URL)."""
    hunter_base_url: str = "https://api.hunter.io"
    overpass_url: str | None = None
    """OpenStreetMap Overpass endpoint, e.g. https://overpass-api.de/api/interpreter; unset → not used."""
    website_crawl: bool = False
    """Fetch businesses' own websites for contact addresses (off by default: it makes outside requests)."""
    crawl_host_interval_seconds: float = Field(default=1.0, ge=0, le=3600)
    """Seconds between two requests to the same website host, counted across processes; 0 turns it off."""
    allow_private_addresses: bool = False
    """Let the website crawler reach loopback/private addresses (tests only: an SSRF guard otherwise)."""
    plugins: str = ""
    """Comma-separated ``module:function`` entries; each function takes the settings and returns
    ``(tool, Provider)`` pairs to put first in those tools' provider chains (extra providers, test fakes)."""
    smtp_url: SecretStr | None = None
    """Where ``wyshbone outreach send`` delivers: ``smtp://user:pass@host:587`` (STARTTLS when offered),
    ``smtp+starttls://`` (STARTTLS required) or ``smtps://`` (TLS from the start, port 465). Unset → nothing is sent."""
    smtp_ca_file: Path | None = None
    """Extra CA certificates (PEM) to trust for the SMTP server, e.g. a company's own CA."""
    smtp_timeout_seconds: float = 30.0
    sender_name: str | None = None
    """Who the outreach is from; every message carries it (with the sender's address) in its footer."""
    sender_email: str | None = None
    sender_company: str | None = None
    sender_address: str | None = None
    """The sender's postal address, as the law on marketing email asks (e.g. PECR, CAN-SPAM)."""
    public_url: str | None = None
    """Where this server is reachable from the outside, for opt-out links; default ``http://<host>:<port>``."""
    outreach_daily_cap: int = Field(default=100, ge=1)
    """At most this many messages per account per day (UTC)."""
    outreach_gap_seconds: float = Field(default=30.0, ge=0)
    """Seconds between two messages sent in one run."""
    monitor_tick_seconds: float = Field(default=60.0, ge=0)
    """How often the web process (in queue mode, the workers) looks for due monitors; 0 turns the scheduler off
    (use cron and ``wyshbone monitors run-due`` instead)."""
    monitor_max_results: int = Field(default=MONITOR_MAX_RESULTS, ge=1, le=1000)
    """How many businesses a monitor's search looks at each run (a new business need not rank in the top few)."""
    max_concurrent_plans: int = Field(default=8, ge=1, le=1000)
    """Plans one process runs at once; more approved plans wait, visibly queued, for a free slot (the API
    stays responsive however many are approved)."""
    max_volume: int = Field(default=MAX_VOLUME, ge=1, le=100_000)
    """The most leads one plan gathers; a goal asking for more is capped, and told so."""
    run_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    """A running plan is held by its process for this long, renewed every third of it; a plan whose process
    died is resumed by another (``wyshbone serve``) once its lease has run out."""
    execution: Literal["embedded", "queue"] = "embedded"
    """Where approved plans run: ``embedded`` on the event loop of the process that approved them (one
    process, SQLite or Postgres), or ``queue``: as procrastinate jobs on ``wyshbone worker`` processes sharing
    one Postgres (``WYSHBONE_DATABASE_URL=postgresql://…`` required)."""
    queue_heartbeat_seconds: float = Field(default=10.0, gt=0, le=600)
    """Queue mode: how often each worker says, in Postgres, that it is alive."""
    queue_stalled_seconds: float = Field(default=30.0, gt=0, le=3600)
    """Queue mode: a worker silent this long is presumed dead, and its jobs are retried on another worker
    (which resumes each plan from its stored step results)."""
    host: str = "127.0.0.1"
    """Where ``wyshbone serve`` listens."""
    port: int = 8000

    @field_validator("database_url")
    @classmethod
    def _postgres_alias(cls, url: str | None) -> str | None:
        """``postgres://`` (libpq's other spelling) means ``postgresql://``."""
        if url is not None and url.startswith("postgres://"):
            return "postgresql://" + url.removeprefix("postgres://")
        return url

    @model_validator(mode="after")
    def _queue_needs_postgres(self) -> Settings:
        if self.execution == "queue" and not (self.database_url or "").startswith("postgresql"):
            raise ValueError(
                "WYSHBONE_EXECUTION=queue needs WYSHBONE_DATABASE_URL=postgresql://… (the job queue, the plans "
                "and their events live in one Postgres database that every web server and worker shares)"
            )
        if self.execution == "queue" and self.queue_stalled_seconds <= self.queue_heartbeat_seconds:
            raise ValueError(
                "WYSHBONE_QUEUE_STALLED_SECONDS must be longer than WYSHBONE_QUEUE_HEARTBEAT_SECONDS"
            )
        return self

    @property
    def directory_file(self) -> Path:
        return self.directory_path or self.home / "directory.sqlite"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'wyshbone.sqlite'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
