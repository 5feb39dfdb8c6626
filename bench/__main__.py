"""``make bench``: every figure with its ratio, in one run."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import directory, executor
from wyshbone.config import Settings


def main() -> None:
    print("== executor ==", flush=True)
    for name, _, text in executor.run():
        print(f"{name}: {text}", flush=True)
    open_data = Settings().open_data_dir
    print("== directory ==", flush=True)
    if not open_data.is_dir():
        print(f"skipped: no open data at {open_data} (set WYSHBONE_OPEN_DATA_DIR)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, _, text in directory.run(open_data, Path(tmp)):
            print(f"{name}: {text}", flush=True)


if __name__ == "__main__":
    main()
