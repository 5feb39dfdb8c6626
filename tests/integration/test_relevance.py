"""The public relevance set on the real open data (issue 11): every lead the asked kind, inside the asked place
or labelled nearby, every shortfall warned before approval and stated after. The goals and their oracles live
in ``tests/relevance.py`` (shared with ``bench/relevance.py``); each goal runs once, on one application context.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.relevance import (
    GOALS,
    Goal,
    Outcome,
    count_misses,
    embedded_settings,
    kind_misses,
    place_misses,
    pursue,
    shortfall_misses,
)
from wyshbone.bootstrap import open_context

pytestmark = pytest.mark.data

BY_TEXT = pytest.mark.parametrize("goal", GOALS, ids=[goal.text for goal in GOALS])


@pytest.fixture(scope="module")
def outcome_of(
    real_db: tuple[Path, object], data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Goal], Outcome]]:
    """Each goal planned, approved and run once, on one application context on the embedded default; its outcome kept."""
    directory = real_db[0]
    settings = embedded_settings(
        home=tmp_path_factory.mktemp("relevance"), directory=directory, open_data=data_dir
    )
    outcomes: dict[str, Outcome] = {}
    with asyncio.Runner() as runner:
        sup = runner.run(open_context(settings))

        def outcome(goal: Goal) -> Outcome:
            if goal.text not in outcomes:
                outcomes[goal.text] = runner.run(pursue(sup, goal, directory=directory))
            return outcomes[goal.text]

        try:
            yield outcome
        finally:
            runner.run(sup.close())


def _say(goal: Goal, misses: list[str], oracle: str) -> str:
    return f"{goal.text} ({goal.note})\n  oracle: {oracle}\n  " + "\n  ".join(misses)


@BY_TEXT
def test_relevance_every_lead_is_the_asked_kind(goal: Goal, outcome_of: Callable[[Goal], Outcome]) -> None:
    outcome = outcome_of(goal)
    assert outcome.error is None, outcome.error
    misses = kind_misses(outcome)
    assert not misses, _say(goal, misses, goal.kind.why)


@BY_TEXT
def test_relevance_every_lead_is_inside_or_labelled_nearby(
    goal: Goal, outcome_of: Callable[[Goal], Outcome]
) -> None:
    outcome = outcome_of(goal)
    assert outcome.error is None, outcome.error
    misses = place_misses(outcome)
    assert not misses, _say(goal, misses, goal.place.why)


@BY_TEXT
def test_relevance_every_shortfall_is_warned_and_stated(
    goal: Goal, outcome_of: Callable[[Goal], Outcome]
) -> None:
    outcome = outcome_of(goal)
    misses = shortfall_misses(outcome)
    assert not misses, _say(goal, misses, "fewer than asked → a warning names the kind and the note says so")


@BY_TEXT
def test_relevance_count_before_approval_agrees_with_the_run(
    goal: Goal, outcome_of: Callable[[Goal], Outcome]
) -> None:
    outcome = outcome_of(goal)
    misses = count_misses(outcome)
    assert not misses, _say(goal, misses, "inside first, up to the volume; then nearby, as counted")
