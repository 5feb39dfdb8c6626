"""Pure scheduling decisions of a plan run: which steps are ready, which must be skipped, the outcome.

The executor (``wyshbone.executor``) asks these after every step and does the waiting and writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wyshbone.domain.models import (
    LeadGenPlan,
    LeadGenPlanStep,
    LeadGenStepResult,
    LeadGenStepStatus,
    OverallStatus,
)

Status = LeadGenStepStatus


@dataclass(frozen=True, slots=True)
class Blocked:
    """A step that cannot run because a dependency failed (or was skipped because of a failure)."""

    step_id: str
    reason: str


def _blocks_dependants(result: LeadGenStepResult) -> bool:
    # A step skipped by design (nothing configured for it) lets its dependants run with what there is.
    if result.status is Status.SKIPPED:
        return not result.skipped_by_design
    return result.status in (Status.FAILED, Status.CANCELLED)


class Frontier:
    """Which steps can start, updated step by step in O(edges) (re-scanning the plan per step is O(n²)).

    Pure bookkeeping: ``start()`` and ``finish(result)`` return the steps that became ready and those to
    skip because a dependency failed; the caller records the skips with ``finish`` too.
    """

    def __init__(self, plan: LeadGenPlan, done: Mapping[str, LeadGenStepResult] | None = None) -> None:
        self._steps = {s.id: s for s in plan.steps}
        self._dependants: dict[str, list[str]] = {s.id: [] for s in plan.steps}
        for step in plan.steps:
            for dep in (*step.depends_on, *step.waits_for):
                self._dependants[dep].append(step.id)
        self._results: dict[str, LeadGenStepResult] = dict(done or {})
        self._open: dict[str, int] = {
            s.id: sum(d not in self._results for d in (*s.depends_on, *s.waits_for))
            for s in plan.steps
            if s.id not in self._results
        }

    def start(self) -> tuple[list[LeadGenPlanStep], list[Blocked]]:
        return self._decide([sid for sid, n in self._open.items() if n == 0])

    def finish(self, result: LeadGenStepResult) -> tuple[list[LeadGenPlanStep], list[Blocked]]:
        self._results[result.step_id] = result
        self._open.pop(result.step_id, None)
        candidates = []
        for dependant in self._dependants[result.step_id]:
            if dependant in self._open:
                self._open[dependant] -= 1
                if self._open[dependant] == 0:
                    candidates.append(dependant)
        return self._decide(candidates)

    def _decide(self, candidates: list[str]) -> tuple[list[LeadGenPlanStep], list[Blocked]]:
        ready: list[LeadGenPlanStep] = []
        blocked: list[Blocked] = []
        for sid in candidates:
            del self._open[sid]
            step = self._steps[sid]
            failed = [d for d in step.depends_on if _blocks_dependants(self._results[d])]
            if failed:
                names = " and ".join(f"'{self._steps[d].title}'" for d in failed)
                blocked.append(Blocked(sid, f"Skipped because {names} did not complete"))
            else:
                ready.append(step)
        return ready, blocked


def overall_status(plan: LeadGenPlan, results: Mapping[str, LeadGenStepResult]) -> OverallStatus:
    """All succeeded → succeeded; a required step failed → failed; otherwise (skips, optional failures) partial."""
    statuses = [results[s.id].status if s.id in results else Status.PENDING for s in plan.steps]
    if any(status is Status.CANCELLED for status in statuses):
        return OverallStatus.CANCELLED
    if all(status is Status.SUCCEEDED for status in statuses):
        return OverallStatus.SUCCEEDED
    for step, status in zip(plan.steps, statuses, strict=True):
        if step.required and status in (Status.FAILED, Status.PENDING):
            return OverallStatus.FAILED
        if step.required and status is Status.SKIPPED and not results[step.id].skipped_by_design:
            return OverallStatus.FAILED
    return OverallStatus.PARTIAL
