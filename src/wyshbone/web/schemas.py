"""Request and response bodies of the API (camelCase JSON), beyond the domain models themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from wyshbone.domain.models import (
    CamelModel,
    GoalOverrides,
    LeadGenGoal,
    LeadGenPlanStep,
    PlanEstimate,
    PlanStatus,
)
from wyshbone.services import MAX_GOAL_LENGTH

MAX_GOAL_CHARS = MAX_GOAL_LENGTH


class StartPlanRequest(CamelModel):
    model_config = ConfigDict(extra="forbid")

    goal: str = Field(min_length=1, max_length=MAX_GOAL_CHARS, description="The goal in plain words.")
    overrides: GoalOverrides | None = None


class ParseGoalRequest(CamelModel):
    model_config = ConfigDict(extra="forbid")

    goal: str = Field(max_length=MAX_GOAL_CHARS, description="The goal in plain words.")


class ApprovePlanRequest(CamelModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=1, max_length=64)


class PlanView(CamelModel):
    """A plan as the page shows it for approval."""

    plan_id: str
    status: PlanStatus
    goal: LeadGenGoal
    assumptions: list[str]
    steps: list[LeadGenPlanStep]
    estimate: PlanEstimate
    warnings: list[str] = Field(default_factory=list)
    """The shortfalls foreseeable before approval, in plain sentences (shown next to the Approve button)."""
    created_at: datetime | None = None


class PlanStatusView(CamelModel):
    plan_id: str
    status: PlanStatus


class IdleProgress(CamelModel):
    status: Literal["idle"] = "idle"


class PlanListItem(CamelModel):
    plan_id: str
    status: PlanStatus
    goal: str
    created_at: str


class MessageView(CamelModel):
    id: int
    plan_id: str | None
    role: str
    text: str
    created_at: str


class ErrorBody(CamelModel):
    detail: str
    problems: list[str] | None = None
