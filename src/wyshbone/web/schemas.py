"""Request and response bodies of the API (camelCase JSON), beyond the domain models themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from wyshbone.domain.goals import check_goal_text
from wyshbone.domain.limits import MAX_GOAL_CHARS
from wyshbone.domain.models import (
    CamelModel,
    GoalOverrides,
    LeadGenGoal,
    LeadGenPlanStep,
    PlanEstimate,
    PlanStatus,
)
from wyshbone.errors import InputError


def _goal_text(value: str, *, allow_empty: bool) -> str:
    """The domain's one check of a goal's text, its message as the 422's (not pydantic's own wording)."""
    try:
        check_goal_text(value, allow_empty=allow_empty)
    except InputError as exc:
        raise PydanticCustomError("goal_text", exc.message) from None
    return value


def _plannable_text(value: str) -> str:
    return _goal_text(value, allow_empty=False)


def _readable_text(value: str) -> str:
    return _goal_text(value, allow_empty=True)  # an empty goal is read: its problem says it is empty


_GOAL_SCHEMA: JsonDict = {"maxLength": MAX_GOAL_CHARS}
"""Documented, not enforced by pydantic: runs of spaces count as one, and ``check_goal_text`` says so."""


class StartPlanRequest(CamelModel):
    model_config = ConfigDict(extra="forbid")

    goal: Annotated[str, AfterValidator(_plannable_text)] = Field(
        description="The goal in plain words.", json_schema_extra={"minLength": 1, **_GOAL_SCHEMA}
    )
    overrides: GoalOverrides | None = None


class ParseGoalRequest(CamelModel):
    model_config = ConfigDict(extra="forbid")

    goal: Annotated[str, AfterValidator(_readable_text)] = Field(
        description="The goal in plain words.", json_schema_extra=_GOAL_SCHEMA
    )


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
    monitor_id: int | None = Field(default=None, exclude_if=lambda monitor_id: monitor_id is None)
    """Set on a monitor's check: the monitor it checks for."""


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
