"""The application's one clock: ``Clock``, what every use case, run and tool that needs the time is given, and
``system_clock``, the wall clock in UTC that the composition root hands them (tests hand them another)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)
