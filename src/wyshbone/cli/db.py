"""The directory commands: import the open business data, and say what is imported."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wyshbone.cli.common import settings
from wyshbone.cli.output import err, fail
from wyshbone.errors import InputError
from wyshbone.providers.local_directory import default_import_paths, directory_info, import_directory


def import_data(paths: list[Path] | None, *, if_missing: bool) -> None:
    chosen = settings()
    target = chosen.directory_file
    if if_missing and directory_info(target) is not None:
        err.print(f"Directory already imported at {target}.")
        return
    files = list(paths or default_import_paths(chosen.open_data_dir))
    if not files:
        raise fail(
            f"no data to import: no uk_businesses*.csv.gz in {chosen.open_data_dir}. Set WYSHBONE_OPEN_DATA_DIR "
            "to the folder holding the open data, or pass the files."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("import", total=None)

        def on_progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = import_directory(
                files,
                target,
                on_progress=on_progress,
                on_phase=lambda what: bar.update(task, description=what),
            )
        except InputError as exc:
            raise fail(str(exc)) from None
    err.print(
        f"Imported {report.rows_written:,} businesses from {len(report.files)} file(s) in {report.seconds:.1f} s → {target}"
    )


def info() -> None:
    chosen = settings()
    found = directory_info(chosen.directory_file)
    if found is None:
        raise fail(f"the directory is not imported yet ({chosen.directory_file}): run `wyshbone db import`")
    typer.echo(json.dumps(found, indent=2, default=str))
