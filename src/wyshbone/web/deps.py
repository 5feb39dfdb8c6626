"""Named dependencies for the routes: the application context's use cases, the caller's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from wyshbone.bootstrap import AppContext
from wyshbone.services import Monitors, Outreach, Plans, RunQueue
from wyshbone.services.monitors import CheckRunner
from wyshbone.services.sending import SendQueue

# Async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per dependency per request.


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def get_plans(request: Request) -> Plans:
    return (await get_context(request)).plans


async def get_runs(request: Request) -> RunQueue:
    return (await get_context(request)).runs


async def get_outreach(request: Request) -> Outreach:
    return (await get_context(request)).outreach


async def get_monitors(request: Request) -> Monitors:
    return (await get_context(request)).monitors


async def get_checks(request: Request) -> CheckRunner:
    return (await get_context(request)).checks


async def get_sends(request: Request) -> SendQueue:
    return (await get_context(request)).sends


async def get_session_id(request: Request, response: Response) -> str:
    """The one way every route learns whose session it serves."""
    session_id: str = request.app.state.sessions(request, response)
    return session_id


ContextDep = Annotated[AppContext, Depends(get_context)]
PlansDep = Annotated[Plans, Depends(get_plans)]
RunsDep = Annotated[RunQueue, Depends(get_runs)]
OutreachDep = Annotated[Outreach, Depends(get_outreach)]
MonitorsDep = Annotated[Monitors, Depends(get_monitors)]
SendsDep = Annotated[SendQueue, Depends(get_sends)]
ChecksDep = Annotated[CheckRunner, Depends(get_checks)]
SessionDep = Annotated[str, Depends(get_session_id)]
