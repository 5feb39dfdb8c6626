"""Named dependencies for the routes: the supervisor, the plan runner, the caller's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from wyshbone.services import PlanRunner, Supervisor

# Async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per dependency per request.


async def get_supervisor(request: Request) -> Supervisor:
    supervisor: Supervisor = request.app.state.supervisor
    return supervisor


async def get_runner(request: Request) -> PlanRunner:
    runner: PlanRunner = request.app.state.runner
    return runner


async def get_session_id(request: Request, response: Response) -> str:
    """The one way every route learns whose session it serves."""
    session_id: str = request.app.state.sessions(request, response)
    return session_id


SupervisorDep = Annotated[Supervisor, Depends(get_supervisor)]
RunnerDep = Annotated[PlanRunner, Depends(get_runner)]
SessionDep = Annotated[str, Depends(get_session_id)]
