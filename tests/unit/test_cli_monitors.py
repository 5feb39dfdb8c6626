"""The monitors table's last-run column: a few words that fit 80 columns (the run's sentence is for ``monitors
run`` and ``--json``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wyshbone.cli.monitors import _last_run
from wyshbone.domain.monitors import MonitorRun

AT = datetime(2026, 12, 6, 11, 4, tzinfo=UTC)


def run(kind: str, status: str = "succeeded", **fields: object) -> MonitorRun:
    return MonitorRun.model_validate(
        {"monitorId": 1, "kind": kind, "status": status, "startedAt": AT, "finishedAt": AT, **fields}
    )


@pytest.mark.parametrize(
    ("last", "said"),
    [
        (None, ""),
        (
            run("setup", found=7, message="Watching for new businesses beyond the 7 known now; …"),
            "Set up 06 Dec 11:04: 7 found",
        ),
        (
            run("baseline", found=200, message="Baseline taken: 200 found now; …"),
            "First check 06 Dec 11:04: 200 found",
        ),
        (run("scheduled", found=203, new=3, drafted=1), "Checked 06 Dec 11:04: 3 new, 1 drafted"),
        (run("manual", found=200, new=0), "Checked 06 Dec 11:04: 0 new"),
        (run("scheduled", "failed", error="the search failed"), "Checked 06 Dec 11:04: failed"),
    ],
)
def test_last_run_in_a_few_words(last: MonitorRun | None, said: str) -> None:
    assert _last_run(last) == said
    assert len(said) <= 40
