"""The limits goals and plans are held to, kept apart from the code that applies them, so that the settings and
the API's schemas can name them without importing the goal reader or the planner (and the models with them)."""

from __future__ import annotations

__all__ = ["MAX_GOAL_CHARS", "MAX_VOLUME", "MONITOR_MAX_RESULTS"]

MAX_VOLUME = 1000
"""The most leads one plan gathers unless a caller passes another cap (``WYSHBONE_MAX_VOLUME``)."""

MAX_GOAL_CHARS = 1000
"""The longest goal read, in characters (runs of spaces counted as one)."""

MONITOR_MAX_RESULTS = 200
"""How many businesses a monitor's search looks at (``WYSHBONE_MONITOR_MAX_RESULTS``)."""
