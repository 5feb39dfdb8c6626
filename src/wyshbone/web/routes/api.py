"""The JSON API: start, approve, progress, events, stream, result, leads, cancel, history, conversation."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from wyshbone.domain.leads import leads_csv
from wyshbone.domain.models import (
    Lead,
    LeadGenExecutionResult,
    LeadGenPlan,
    ParsedGoal,
    PlanEvent,
    PlanProgress,
    SupervisorUserContext,
)
from wyshbone.web.deps import PlansDep, RunsDep, SessionDep
from wyshbone.web.schemas import (
    ApprovePlanRequest,
    ErrorBody,
    IdleProgress,
    MessageView,
    ParseGoalRequest,
    PlanListItem,
    PlanStatusView,
    PlanView,
    StartPlanRequest,
)
from wyshbone.web.sse import event_stream

Responses = dict[int | str, dict[str, Any]]
BAD_INPUT: Responses = {
    400: {"model": ErrorBody, "description": "A bad X-Session-Id header"},
    422: {"model": ErrorBody, "description": "The request is not valid; `problems` lists why"},
}
POST_GUARD: Responses = {
    413: {"model": ErrorBody, "description": "The body is too large"},
    415: {
        "model": ErrorBody,
        "description": "POST bodies must be JSON (send `{}` when there is nothing to say)",
    },
}
NOT_FOUND: Responses = {404: {"model": ErrorBody, "description": "No such plan in this session"}}
CONFLICT: Responses = {
    409: {"model": ErrorBody, "description": "The plan is not in a state that allows this"}
}
router = APIRouter(prefix="/api", tags=["plans"], responses=BAD_INPUT)

MAX_SEQ = 2**63 - 1
"""Event seqs are 64-bit integers in the store; a larger "after" is a client error, not a crash."""


EmptyBody = Annotated[
    dict[str, Any] | None, Body(description="Nothing is needed: send `{}` (the body must be JSON)")
]


def _view(plan: LeadGenPlan) -> PlanView:
    return PlanView(
        plan_id=plan.id,
        status=plan.status,
        goal=plan.goal,
        assumptions=plan.assumptions,
        steps=plan.steps,
        estimate=plan.estimate,
        warnings=plan.warnings,
        created_at=plan.created_at,
        monitor_id=plan.monitor_id,
    )


def user_of(session_id: str) -> SupervisorUserContext:
    # The session id is a bearer secret (X-Session-Id): user ids, which are logged, carry only a digest of it.
    return SupervisorUserContext(user_id="session-" + hashlib.sha256(session_id.encode()).hexdigest()[:16])


@router.post("/goal/parse", responses=POST_GUARD)
async def parse_goal(body: ParseGoalRequest, plans: PlansDep, session_id: SessionDep) -> ParsedGoal:
    """What the goal says, what was assumed, and what stops it being planned; stores nothing."""
    return plans.parse(body.goal, user_of(session_id))


@router.post(
    "/plan/start",
    status_code=status.HTTP_201_CREATED,
    responses={**POST_GUARD, 422: {"model": ErrorBody, "description": "The goal cannot be planned"}},
)
async def start_plan(body: StartPlanRequest, plans: PlansDep, session_id: SessionDep) -> PlanView:
    """Read the goal, plan it and keep the plan pending approval."""
    plan = await plans.start_plan(
        body.goal, user_of(session_id), session_id=session_id, overrides=body.overrides
    )
    return _view(plan)


@router.get("/plan/progress", response_model=PlanProgress | IdleProgress)
async def latest_progress(plans: PlansDep, session_id: SessionDep) -> Response:
    """Progress of this session's most recent plan, or ``{"status": "idle"}``."""
    return _json(await plans.latest_progress(session_id=session_id) or IdleProgress())


def _json(model: BaseModel) -> Response:
    # The progress routes are polled: serialise the (already valid) model directly, skipping re-validation.
    return Response(content=model.model_dump_json(), media_type="application/json")


@router.post("/plan/approve", responses={**NOT_FOUND, **CONFLICT, **POST_GUARD})
async def approve(
    body: ApprovePlanRequest, plans: PlansDep, runs: RunsDep, session_id: SessionDep
) -> PlanStatusView:
    """Approve a pending plan: it starts executing at once; this answers without waiting for it."""
    return await _approve(body.plan_id, plans, runs, session_id)


@router.post("/plan/{plan_id}/approve", responses={**NOT_FOUND, **CONFLICT})
async def approve_by_path(
    plan_id: str, plans: PlansDep, runs: RunsDep, session_id: SessionDep
) -> PlanStatusView:
    """Same as ``POST /api/plan/approve``."""
    return await _approve(plan_id, plans, runs, session_id)


async def _approve(plan_id: str, plans: PlansDep, runs: RunsDep, session_id: str) -> PlanStatusView:
    plan = await plans.approve_plan(plan_id, session_id=session_id)
    runs.submit(plan, session_id=session_id)
    return PlanStatusView(plan_id=plan.id, status=plan.status)


@router.get("/plan/{plan_id}", responses=NOT_FOUND)
async def get_plan(plan_id: str, plans: PlansDep, session_id: SessionDep) -> PlanView:
    plan = await plans.get_plan(plan_id, session_id=session_id)
    return _view(plan)


@router.get("/plan/{plan_id}/progress", responses=NOT_FOUND, response_model=PlanProgress)
async def progress(plan_id: str, plans: PlansDep, session_id: SessionDep) -> Response:
    return _json(await plans.progress(plan_id, session_id=session_id))


@router.get("/plan/{plan_id}/events", responses=NOT_FOUND)
async def events(
    plan_id: str,
    plans: PlansDep,
    session_id: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ, description="Only events with a larger seq")] = 0,
) -> list[PlanEvent]:
    """The plan's event log, in order; page with ``after=<seq of the last event you have>``."""
    return await plans.events(plan_id, session_id=session_id, after=after)


@router.get(
    "/plan/{plan_id}/stream",
    responses={**NOT_FOUND, 200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
    response_class=StreamingResponse,
)
async def stream(
    plan_id: str,
    request: Request,
    plans: PlansDep,
    session_id: SessionDep,
    last_event_id: Annotated[int | None, Header(ge=0, le=MAX_SEQ)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> StreamingResponse:
    """Each event as it is stored; reconnect with ``Last-Event-ID`` to carry on where you left off."""
    await plans.get_plan(plan_id, session_id=session_id)
    start = max(after, last_event_id or 0)
    return StreamingResponse(
        event_stream(plans.plan_store, plans.bus, plan_id, after=start, disconnected=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/plan/{plan_id}/result", responses={**NOT_FOUND, **CONFLICT})
async def result(plan_id: str, plans: PlansDep, session_id: SessionDep) -> LeadGenExecutionResult:
    """The execution result once the plan has finished (409 while it is pending or running)."""
    return await plans.result(plan_id, session_id=session_id)


@router.get(
    "/plan/{plan_id}/leads",
    responses={**NOT_FOUND, 200: {"content": {"application/json": {}, "text/csv": {}}}},
    response_model=list[Lead],
)
async def leads(
    plan_id: str,
    plans: PlansDep,
    session_id: SessionDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # the API's parameter name
) -> list[Lead] | Response:
    """The saved leads with each field's source; ``?format=csv`` downloads them."""
    found = list(await plans.leads(plan_id, session_id=session_id))
    if format == "json":
        return found
    return Response(
        content=leads_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="wyshbone-leads-{plan_id}.csv"'},
    )


@router.post("/plan/{plan_id}/cancel", responses={**NOT_FOUND, **CONFLICT, **POST_GUARD})
async def cancel(
    plan_id: str, runs: RunsDep, session_id: SessionDep, _body: EmptyBody = None
) -> PlanStatusView:
    """Stop a running or pending plan (409 once it has finished)."""
    return PlanStatusView(plan_id=plan_id, status=await runs.cancel(plan_id, session_id=session_id))


@router.get("/plans")
async def plans(service: PlansDep, session_id: SessionDep) -> list[PlanListItem]:
    """This session's plans, newest first."""
    rows = await service.plans(session_id=session_id)
    return [
        PlanListItem(plan_id=r.plan_id, status=r.status, goal=r.raw_goal, created_at=r.created_at)
        for r in rows
    ]


@router.get("/conversations/current/messages", tags=["conversation"])
async def messages(plans: PlansDep, session_id: SessionDep) -> list[MessageView]:
    """The session's conversation: e.g. a summary of each finished plan."""
    return [
        MessageView(id=m.id, plan_id=m.plan_id, role=m.role, text=m.text, created_at=m.created_at)
        for m in await plans.messages(session_id=session_id)
    ]
