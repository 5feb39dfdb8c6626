"""Where a list's send runs. The send route starts one through the ``SendQueue`` protocol: ``InProcessSends``
runs it as a task of this process (the embedded mode); queue mode's ``QueueSends`` (``services.queue``) makes it
a job a worker runs. Either way one send per list runs at a time, and each message is still claimed once before
it goes (``Outreach.send``), so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from wyshbone.domain.outreach import SendReport
from wyshbone.errors import ConflictError, WyshboneError
from wyshbone.services.outreach import Outreach

__all__ = ["InProcessSends", "SendQueue", "already_sending", "send_list"]

logger = logging.getLogger("wyshbone.services")


class SendQueue(Protocol):
    """Starts a list's send somewhere, and says whether one is queued or going on."""

    async def start(self, list_id: int, *, session_id: str | None) -> None:
        """Start sending the list's due messages and return at once; ``ConflictError`` while a send of this
        list is queued or running."""
        ...

    async def sending(self, list_id: int) -> bool:
        """Whether a send of the list is queued or running (anywhere)."""
        ...

    async def shutdown(self) -> None:
        """Stop the sends running here (what was sent is marked; the rest waits for the next send)."""
        ...


def already_sending(list_id: int) -> ConflictError:
    return ConflictError(f"list {list_id} is already being sent")


async def send_list(outreach: Outreach, list_id: int, *, session_id: str | None) -> SendReport | None:
    """One send of the list's due messages, its outcome logged; None when it stopped short (e.g. the SMTP
    server went away: what was sent is marked, the rest waits)."""
    try:
        report = await outreach.send(list_id, session_id=session_id)
    except WyshboneError as exc:
        logger.warning("outreach send for list %s stopped: %s", list_id, exc)
        return None
    logger.info("outreach send for list %s: %s", list_id, report.model_dump_json(exclude={"messages"}))
    return report


@dataclass
class InProcessSends:
    """Each send is a task of this process, known until it ends; however it ends, its outcome is retrieved (a
    crash is logged with its traceback, never left for the event loop to complain about)."""

    outreach: Outreach
    _tasks: dict[int, asyncio.Task[object]] = field(default_factory=dict)

    async def start(self, list_id: int, *, session_id: str | None) -> None:
        if list_id in self._tasks:
            raise already_sending(list_id)
        self.run_in_background(send_list(self.outreach, list_id, session_id=session_id), list_id=list_id)

    def run_in_background(self, work: Coroutine[Any, Any, object], *, list_id: int) -> asyncio.Task[object]:
        """Run ``work`` as the list's send."""
        task: asyncio.Task[object] = asyncio.create_task(work, name=f"send-{list_id}")
        self._tasks[list_id] = task
        task.add_done_callback(functools.partial(self._finished, list_id))
        return task

    def _finished(self, list_id: int, task: asyncio.Task[object]) -> None:
        self._tasks.pop(list_id, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("outreach send for list %s crashed: %s", list_id, exc, exc_info=exc)

    async def sending(self, list_id: int) -> bool:
        return list_id in self._tasks

    async def shutdown(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
