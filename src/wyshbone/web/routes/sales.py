"""The JSON API for what follows a plan: a list's outreach (drafts, sending, replies, suppressions) and monitors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import Field

from wyshbone.domain.models import CamelModel
from wyshbone.domain.monitors import Monitor, MonitorRun
from wyshbone.domain.outreach import OutreachSequence, Suppression, SuppressionReason
from wyshbone.services.sending import already_sending
from wyshbone.web.deps import ChecksDep, MonitorsDep, OutreachDep, SendsDep, SessionDep
from wyshbone.web.routes.api import BAD_INPUT, CONFLICT, MAX_SEQ, POST_GUARD, EmptyBody, Responses, user_of
from wyshbone.web.schemas import ErrorBody

ListId = Annotated[int, Path(ge=1, le=MAX_SEQ, description="The lead list's id")]
MonitorId = Annotated[int, Path(ge=1, le=MAX_SEQ, description="The monitor's id")]
router = APIRouter(prefix="/api", responses=BAD_INPUT)
NO_LIST: Responses = {
    404: {"model": ErrorBody, "description": "No such list (or no sequence) in this session"}
}
NO_MONITOR: Responses = {404: {"model": ErrorBody, "description": "No such monitor in this session"}}
NO_SMTP: Responses = {
    400: {"model": ErrorBody, "description": "No SMTP server is configured (WYSHBONE_SMTP_URL)"}
}


class SendStarted(CamelModel):
    list_id: int
    due: int
    """Messages due now (the daily cap may hold some back); watch their status on the sequence."""


class RepliedRequest(CamelModel):
    email: str = Field(min_length=3, max_length=320)


class StoppedView(CamelModel):
    stopped: int
    """Unsent messages that will not be sent."""


class SuppressRequest(CamelModel):
    values: list[Annotated[str, Field(min_length=3, max_length=320)]] = Field(min_length=1, max_length=1000)
    """Email addresses, or domains (``example.com``) to suppress whole."""


class OutreachView(OutreachSequence):
    sending: bool = False
    """True while the list's due messages are being sent (or the send waits for a worker)."""


@router.get("/lists/{list_id}/outreach", tags=["outreach"], responses=NO_LIST)
async def outreach(
    list_id: ListId, outreach: OutreachDep, sends: SendsDep, session_id: SessionDep
) -> OutreachView:
    """The list's sequence: its steps, each lead's status (and why it got no drafts), each message, and
    whether a send is running."""
    sequence = await outreach.sequence(list_id, session_id=session_id)
    return OutreachView(**dict(sequence), sending=await sends.sending(list_id))


@router.post(
    "/lists/{list_id}/outreach/send",
    tags=["outreach"],
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NO_LIST, **NO_SMTP, **CONFLICT, **POST_GUARD},
)
async def send(
    list_id: ListId,
    outreach: OutreachDep,
    sends: SendsDep,
    session_id: SessionDep,
    _body: EmptyBody = None,
) -> SendStarted:
    """Start sending the list's due messages in the background (409 while a send for it is running)."""
    if await sends.sending(list_id):
        raise already_sending(list_id)
    due = await outreach.due(list_id, session_id=session_id)
    outreach.check_mailer()
    await sends.start(list_id, session_id=session_id)
    return SendStarted(list_id=list_id, due=due)


@router.post("/lists/{list_id}/outreach/replied", tags=["outreach"], responses={**NO_LIST, **POST_GUARD})
async def replied(
    list_id: ListId, body: RepliedRequest, outreach: OutreachDep, session_id: SessionDep
) -> StoppedView:
    """The lead at ``email`` replied: the rest of their sequence is not sent."""
    return StoppedView(stopped=await outreach.mark_replied(list_id, body.email, session_id=session_id))


@router.get("/suppressions", tags=["outreach"])
async def suppressions(outreach: OutreachDep, session_id: SessionDep) -> list[Suppression]:
    """This account's suppression list: opted-out, claimed (Hunter 451), bounced and manual entries."""
    return await outreach.suppressions(user_of(session_id).user_id)


@router.post("/suppressions", tags=["outreach"], responses=POST_GUARD)
async def suppress(body: SuppressRequest, outreach: OutreachDep, session_id: SessionDep) -> StoppedView:
    """Never write to these addresses or domains; unsent messages to them are stopped."""
    account = user_of(session_id).user_id
    return StoppedView(stopped=await outreach.suppress(account, body.values, SuppressionReason.MANUAL))


@router.get("/monitors", tags=["monitors"])
async def monitors(monitors: MonitorsDep, session_id: SessionDep) -> list[Monitor]:
    """This session's monitors, newest first, each with its last run."""
    return await monitors.all(session_id=session_id)


@router.get("/monitors/{monitor_id}/runs", tags=["monitors"], responses=NO_MONITOR)
async def monitor_runs(
    monitor_id: MonitorId, monitors: MonitorsDep, session_id: SessionDep
) -> list[MonitorRun]:
    """The monitor's runs, newest first: what each found, what was new, what failed."""
    return await monitors.runs(monitor_id, session_id=session_id)


@router.post("/monitors/{monitor_id}/pause", tags=["monitors"], responses={**NO_MONITOR, **POST_GUARD})
async def pause(
    monitor_id: MonitorId, monitors: MonitorsDep, session_id: SessionDep, _body: EmptyBody = None
) -> Monitor:
    return await monitors.pause(monitor_id, session_id=session_id)


@router.post("/monitors/{monitor_id}/resume", tags=["monitors"], responses={**NO_MONITOR, **POST_GUARD})
async def resume(
    monitor_id: MonitorId, monitors: MonitorsDep, session_id: SessionDep, _body: EmptyBody = None
) -> Monitor:
    """Active again; a check missed while paused runs at the next tick."""
    return await monitors.resume(monitor_id, session_id=session_id)


@router.post(
    "/monitors/{monitor_id}/run", tags=["monitors"], responses={**NO_MONITOR, **CONFLICT, **POST_GUARD}
)
async def run_now(
    monitor_id: MonitorId, checks: ChecksDep, session_id: SessionDep, _body: EmptyBody = None
) -> MonitorRun:
    """Run the monitor now and return the run (409 while another process runs it). In queue mode a worker
    runs it; the answer comes once it has."""
    return await checks.run_now(monitor_id, session_id=session_id)


@router.delete(
    "/monitors/{monitor_id}", tags=["monitors"], status_code=status.HTTP_204_NO_CONTENT, responses=NO_MONITOR
)
async def delete(monitor_id: MonitorId, monitors: MonitorsDep, session_id: SessionDep) -> Response:
    """Delete the monitor and its runs; the leads it found stay in their list."""
    await monitors.delete(monitor_id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
