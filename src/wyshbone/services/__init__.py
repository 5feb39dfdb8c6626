"""Use cases shared by the CLI and the web routes, one module each: ``plans`` (read a goal, plan it, approve it,
report on it), ``runs`` (the ``RunQueue`` approved plans go to), ``outreach`` (a list's drafts: send, stop, opt
out), ``monitors`` (run due monitors, pause, resume, delete), and ``bus`` (live events for SSE readers).

Each takes only the dependencies it uses; ``wyshbone.bootstrap`` builds them once. Nothing here formats output
or knows HTTP.
"""

from wyshbone.services.bus import EventBus
from wyshbone.services.monitors import MONITOR_HEARTBEAT, MONITOR_LEASE, Monitors
from wyshbone.services.outreach import Outreach
from wyshbone.services.plans import Clock, Plans, summarize
from wyshbone.services.runs import InProcessRunQueue, RunQueue

__all__ = [
    "MONITOR_HEARTBEAT",
    "MONITOR_LEASE",
    "Clock",
    "EventBus",
    "InProcessRunQueue",
    "Monitors",
    "Outreach",
    "Plans",
    "RunQueue",
    "summarize",
]
