"""Settings, read once from ``WYSHBONE_*`` environment variables.

No other module reads the environment: everything else receives a ``Settings`` value.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    hunter_api_key: SecretStr | None = None
    """Hunter.io key (sent in the X-API-KEY header, never in a URL)."""
    hunter_base_url: str = "https://api.hunter.io"
    overpass_url: str | None = None
    """OpenStreetMap Overpass endpoint, e.g. https://overpass-api.de/api/interpreter; unset → not used."""
    website_crawl: bool = False
    """Fetch businesses' own websites for contact addresses (off by default: it makes outside requests)."""
    allow_private_addresses: bool = False
    """Let the website crawler reach loopback/private addresses (tests only: an SSRF guard otherwise)."""
    plugins: str = ""
    """Comma-separated ``module:function`` entries; each function takes the settings and returns
    ``(tool, Provider)`` pairs to put first in those tools' provider chains (extra providers, test fakes)."""
    host: str = "127.0.0.1"
    """Where ``wyshbone serve`` listens."""
    port: int = 8000

    @property
    def directory_file(self) -> Path:
        return self.directory_path or self.home / "directory.sqlite"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'wyshbone.sqlite'}"

    @property
    def gazetteer_file(self) -> Path:
        return self.open_data_dir / "gb_places.csv"
