"""Shared fixtures: where the open data is, and settings isolated in a temporary home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wyshbone.providers.local_directory import ImportReport, default_import_paths, import_directory

REPO = Path(__file__).resolve().parents[1]


def open_data_dir() -> Path:
    return Path(os.environ.get("WYSHBONE_OPEN_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real open data; tests that need it are skipped, loudly, where it is absent."""
    path = open_data_dir()
    if not (path / "gb_places.csv").is_file():
        pytest.skip(f"OPEN DATA MISSING: no gb_places.csv in {path}; set WYSHBONE_OPEN_DATA_DIR")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's own ~/.local/share/wyshbone."""
    monkeypatch.setenv("WYSHBONE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WYSHBONE_OPEN_DATA_DIR", str(open_data_dir()))


@pytest.fixture(scope="session")
def real_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[tuple[Path, ImportReport]]:
    """The full open data imported once per test session (about 10 s here)."""
    files = default_import_paths(data_dir)
    if not files:
        pytest.skip(f"OPEN DATA MISSING: no uk_businesses*.csv.gz in {data_dir}; set WYSHBONE_OPEN_DATA_DIR")
    path = tmp_path_factory.mktemp("directory") / "directory.sqlite"
    yield path, import_directory(files, path)
