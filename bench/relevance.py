"""Issue 11 on the public relevance set (``tests/relevance.py``), run as a person would on the embedded default:
the share of leads of the asked kind, the share inside the place or labelled nearby, the share of shortfalls
warned before approval and stated after; and the directory's coverage count (as the planner runs it) against the
search it foretells, p95 over the set.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.relevance import (
    DIRECTORY,
    GOALS,
    USER,
    Outcome,
    count_misses,
    embedded_settings,
    kind_misses,
    place_misses,
    pursue,
    shortfall_misses,
)

from bench.directory import _p95
from wyshbone.bootstrap import AppContext, open_context
from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolIdentifier
from wyshbone.domain.steps import SearchParams
from wyshbone.tools.registry import count_providers

KIND_GOAL = 0.95
PLACE_GOAL = 1.0
SHORTFALL_GOAL = 1.0
AGREEMENT_GOAL = 1.0
"""Full deliveries with no false warning, and counts before approval that the run bears out: all of them."""
COUNT_GOAL_MS = 20.0
REPEATS = 5
"""Timed runs of each goal's count and search (after one warm-up each)."""

Row = tuple[str, float, str]


def run(directory: Path, open_data: Path) -> list[Row]:
    """Plan, approve and run every goal of the set on ``directory``, then score the leads and time the count."""
    return asyncio.run(_run(directory, open_data))


async def _run(directory: Path, open_data: Path) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = embedded_settings(home=Path(tmp), directory=directory, open_data=open_data)
        sup = await open_context(settings)
        try:
            outcomes = [await pursue(sup, goal, directory=directory) for goal in GOALS]
            counts, searches = await _timings(sup, outcomes)
        finally:
            await sup.close()
    return [*_shares(outcomes), _times(counts, searches), *(_per_goal(o) for o in outcomes)]


def _share(name: str, good: int, total: int, goal: float, unit: str) -> Row:
    share = good / total if total else 1.0
    return (
        name,
        share,
        f"{share:.1%} ({good} of {total} {unit}; goal ≥ {goal:.0%}: ratio {share / goal:.2f})",
    )


def _shares(outcomes: Sequence[Outcome]) -> list[Row]:
    leads = sum(o.delivered for o in outcomes)
    short = [o for o in outcomes if o.plan is not None and o.delivered < o.goal.volume]
    full = [o for o in outcomes if o.plan is not None and o.delivered >= o.goal.volume]
    unplanned = [o.goal.text for o in outcomes if o.plan is None]
    counted = [o for o in outcomes if o.plan is not None]
    rows = [
        _share(
            "leads of the asked kind",
            leads - sum(len(kind_misses(o)) for o in outcomes),
            leads,
            KIND_GOAL,
            "leads",
        ),
        _share(
            "leads inside the place or labelled nearby",
            leads - sum(len(place_misses(o)) for o in outcomes),
            leads,
            PLACE_GOAL,
            "leads",
        ),
        _share(
            "shortfalls warned before approval and stated after",
            sum(1 for o in short if not shortfall_misses(o)),
            len(short),
            SHORTFALL_GOAL,
            "goals short",
        ),
        _share(
            "full deliveries with no false warning or note",
            sum(1 for o in full if not shortfall_misses(o)),
            len(full),
            AGREEMENT_GOAL,
            "goals delivered in full",
        ),
        _share(
            "counts before approval that agree with the run",
            sum(1 for o in counted if not count_misses(o)),
            len(counted),
            AGREEMENT_GOAL,
            "goals",
        ),
    ]
    if unplanned:
        rows.append(("goals not planned", len(unplanned), "; ".join(unplanned)))
    return rows


async def _timings(sup: AppContext, outcomes: Sequence[Outcome]) -> tuple[list[float], list[float]]:
    """Milliseconds of each planned goal's directory count (``count_providers``, as ``Plans.plan`` runs it)
    and of the directory search it foretells (the provider the search step runs), ``REPEATS`` times each."""
    spec = sup.registry.spec(LeadToolIdentifier.GLOBAL_DB_SEARCH)
    directory = next(p for p in spec.usable() if p.info.name == DIRECTORY)
    counts: list[float] = []
    searches: list[float] = []
    for outcome in outcomes:
        plan = outcome.plan
        if plan is None:
            continue
        step = next(s for s in plan.steps if s.tool == LeadToolIdentifier.GLOBAL_DB_SEARCH)
        env = LeadToolExecutionEnv(user=USER, plan=plan, step_id=step.id)
        for repeat in range(REPEATS + 1):  # the first of each is a warm-up: this goal's pages
            started = time.perf_counter()
            count_providers(plan, sup.registry)
            counted = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            await directory.run(step.params_as(SearchParams), env)
            searched = (time.perf_counter() - started) * 1000
            if repeat:
                counts.append(counted)
                searches.append(searched)
    return counts, searches


def _times(counts: Sequence[float], searches: Sequence[float]) -> Row:
    count95, search95 = _p95(counts), _p95(searches)
    return (
        f"coverage count p95 ({len(counts) // REPEATS} goals × {REPEATS})",
        count95,
        f"{count95:.1f} ms (goal ≤ {COUNT_GOAL_MS:.0f} ms: ratio {count95 / COUNT_GOAL_MS:.2f}); "
        f"the search it foretells p95 {search95:.1f} ms (ratio {count95 / search95:.2f}×)",
    )


def _per_goal(outcome: Outcome) -> Row:
    goal = outcome.goal
    if outcome.plan is None:
        return (f"  {goal.text}", 0.0, outcome.error or "not planned")
    nearby = sum(1 for lead in outcome.leads if lead.match is not None and lead.match.area == "nearby")
    failed = [
        f"{name} ×{len(misses)}"
        for name, misses in (
            ("kind", kind_misses(outcome)),
            ("place", place_misses(outcome)),
            ("shortfall", shortfall_misses(outcome)),
            ("count", count_misses(outcome)),
        )
        if misses
    ]
    return (
        f"  {goal.text}",
        float(outcome.delivered),
        f"{outcome.delivered} of {goal.volume} ({nearby} nearby); counted {outcome.counted}; "
        + ("all checks pass" if not failed else "fails: " + ", ".join(failed)),
    )


if __name__ == "__main__":
    settings = Settings()
    for name, _, text in run(settings.directory_file, settings.open_data_dir):
        print(f"{name}: {text}", flush=True)
