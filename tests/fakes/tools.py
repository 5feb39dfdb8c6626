"""Scripted tools for executor tests: each call pops the next scripted outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import StepParams
from wyshbone.tools import Provider

Outcome = LeadToolExecutionResult | BaseException


@dataclass
class ScriptedProvider:
    """Answers each call with the next scripted outcome (the last one repeats)."""

    name: str
    script: Sequence[Outcome] = ()
    delay: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    configured: bool = True

    async def __call__(self, params: StepParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        self.calls.append({"params": params, "step": env.step_id, "prior": sorted(env.prior_results)})
        if self.delay:
            await asyncio.sleep(self.delay)
        outcome = self.script[min(len(self.calls) - 1, len(self.script) - 1)] if self.script else ok()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def provider(self) -> Provider:
        reason = None if self.configured else "not configured in this test"
        return Provider(ProviderInfo(self.name, configured=self.configured, reason=reason), self)


def ok(**data: Any) -> LeadToolExecutionResult:
    return LeadToolExecutionResult(success=True, data=data or {"ok": True})
