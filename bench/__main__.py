"""``make bench``: every figure with its ratio, in one run."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import (
    concurrent_plans,
    directory,
    enrich,
    executor,
    load,
    outreach,
    queue,
    queue_latency,
    relevance,
    web,
)
from wyshbone.config import Settings


def _print(rows: list[tuple[str, float, str]]) -> None:
    for name, _, text in rows:
        print(f"{name}: {text}", flush=True)


def main() -> None:
    print("== executor (issue 2) ==", flush=True)
    _print(executor.run())
    print("== concurrent plans (issue 3) ==", flush=True)
    _print(concurrent_plans.run())
    print("== enrichment under Hunter's rate limit (issue 4) ==", flush=True)
    _print(enrich.run())
    print("== outreach drafting and sending (issue 6) ==", flush=True)
    _print(outreach.run())
    print("== queue mode: plans/s with 1, 2, 4 workers (issue 13) ==", flush=True)
    _print(queue.run())
    print("== queue mode: wall time, per-step overhead, SSE across processes (issue 13) ==", flush=True)
    _print(queue_latency.run())
    open_data = Settings().open_data_dir
    if not (open_data / "uk_businesses.csv.gz").is_file():
        print(f"directory and web figures skipped: no open data at {open_data} (set WYSHBONE_OPEN_DATA_DIR)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("== directory (issue 2) ==", flush=True)
        _print(directory.run(open_data, Path(tmp)))
        print("== relevance (issue 11) ==", flush=True)
        _print(relevance.run(Path(tmp) / "directory.sqlite", open_data))
        print("== web service (issue 3) ==", flush=True)
        _print(web.run(Path(tmp) / "directory.sqlite", open_data))
        print("== load (issue 10) ==", flush=True)
        _print(load.run(Path(tmp) / "directory.sqlite", open_data))


if __name__ == "__main__":
    main()
