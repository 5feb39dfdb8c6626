"""The directory's SQLite file as the importer and the search both open it: its metadata, read-only connections,
and how a council is keyed and named however the open data spells it."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from wyshbone.domain.curated_places import council_keys
from wyshbone.domain.names import plain
from wyshbone.errors import DirectoryNotImportedError
from wyshbone.providers import _directory_sql as sql

__all__ = ["council_key", "council_name", "directory_info", "open_imported", "read_meta"]


def council_key(local_authority: str | None) -> str | None:
    """The key of a council however the open data spells it: "Caerdydd - Cardiff" and "Cardiff" → "cardiff",
    "Norwich City" → "norwich" (``geodata.council_keys``, the gazetteer's own reconciliation)."""
    if not local_authority:
        return None
    keys = council_keys(local_authority)
    return keys[0] if keys else plain(local_authority) or None


def council_name(local_authority: str | None) -> str | None:
    """A council as a person reads it: the English half of a bilingual Welsh name ("Caerdydd - Cardiff")."""
    if not local_authority:
        return None
    return local_authority.rsplit(" - ", 1)[-1].strip() or local_authority


def directory_info(db_path: Path) -> dict[str, Any] | None:
    """Path, row count, import time, files, districts file and categories of the directory; None when not imported."""
    if not db_path.is_file():
        return None
    try:
        with closing(_connect_read_only(db_path)) as conn:
            meta = read_meta(conn)
    except sqlite3.DatabaseError:
        return None
    if meta is None:
        return None
    return {
        "path": str(db_path),
        "row_count": int(meta["row_count"]),
        "imported_at": meta["imported_at"],
        "files": json.loads(meta["files"]),
        "districts": meta.get("districts") or None,
        "categories": json.loads(meta["categories"]),
    }


def read_meta(conn: sqlite3.Connection, *, any_version: bool = False) -> dict[str, str] | None:
    """The metadata of a finished import of this schema version (of any version if asked), else None."""
    if conn.execute(sql.META_EXISTS).fetchone() is None:
        return None
    meta = dict(conn.execute(sql.GET_META).fetchall())
    current = any_version or meta.get("schema_version") == sql.SCHEMA_VERSION
    return meta if current and "row_count" in meta else None


def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA cache_size = -65536")
        # Reads straight from the OS page cache instead of copying every page into SQLite's own cache.
        conn.execute("PRAGMA mmap_size = 1073741824")
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


def open_imported(db_path: Path) -> sqlite3.Connection:
    """A read-only connection to a finished import, else ``DirectoryNotImportedError``."""
    if not db_path.is_file():
        raise DirectoryNotImportedError(f"No business directory at {db_path}: run `wyshbone db import`.")
    try:
        conn = _connect_read_only(db_path)
    except sqlite3.DatabaseError as exc:
        raise DirectoryNotImportedError(f"{db_path} is not a business directory ({exc}).") from exc
    try:
        meta = read_meta(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DirectoryNotImportedError(f"{db_path} is not a business directory ({exc}).") from exc
    if meta is None:
        conn.close()
        raise DirectoryNotImportedError(f"The business directory at {db_path} has not been imported.")
    return conn
