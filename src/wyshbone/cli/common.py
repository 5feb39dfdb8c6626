"""What the commands share: settings read once, the application opened around a command's work, bad input
turned into a message on stderr and exit code 2."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from wyshbone.bootstrap import AppContext, open_app
from wyshbone.cli import CLI_USER_ID
from wyshbone.cli.output import err, fail
from wyshbone.config import Settings
from wyshbone.domain.models import GoalOverrides, SupervisorUserContext
from wyshbone.errors import ConflictError, InputError, UnplannableGoalError, WyshboneError

T = TypeVar("T")

CLI_USER = SupervisorUserContext(user_id=CLI_USER_ID)
"""Who the command line plans and sends as."""


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise fail("invalid setting: " + "; ".join(_setting_problem(e) for e in exc.errors())) from None
    except ValueError as exc:
        raise fail(f"invalid WYSHBONE_* setting: {exc}") from None


def _setting_problem(error: ErrorDetails) -> str:
    """One problem with the settings, named by its variable, in the words its check used."""
    name = "_".join(str(part) for part in error["loc"]).upper()
    message = error["msg"].removeprefix("Value error, ")
    return f"WYSHBONE_{name}: {message}" if name else message


def setup_logging(settings: Settings, verbose: bool) -> None:
    """Event lines go to ``<home>/logs/events.log``; with --verbose to stderr too."""
    log_dir = settings.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(log_dir / "events.log")]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=handlers, force=True)


def with_app(settings: Settings, use: Callable[[AppContext], Coroutine[Any, Any, T]]) -> T:
    """Run ``use`` with the application opened (and closed after it), on a new event loop."""

    async def opened() -> T:
        async with open_app(settings) as context:
            return await use(context)

    return asyncio.run(opened())


def service(use: Callable[[AppContext], Coroutine[Any, Any, T]]) -> T:
    """Run ``use`` with the application; bad input or a missing setting → stderr and exit 2."""
    try:
        return with_app(settings(), use)
    except (InputError, ConflictError) as exc:
        raise fail(str(exc)) from None


def plan_or_exit(make: Callable[[], T]) -> T:
    try:
        return make()
    except WyshboneError as exc:
        raise goal_failure(exc) from None


def goal_failure(exc: WyshboneError) -> typer.Exit:
    """Why a goal was not planned, on stderr; the exit (code 2) to raise."""
    if isinstance(exc, UnplannableGoalError):
        return fail("I can't plan that goal:\n  - " + "\n  - ".join(exc.problems))
    return fail(str(exc))


def overrides(must_be: list[str] | None) -> GoalOverrides | None:
    """``--must-be`` replaces the qualifiers read from the goal (``--must-be ""`` clears them)."""
    if must_be is None:
        return None
    words = [w.strip() for value in must_be for w in value.split(",") if w.strip()]
    return GoalOverrides(qualifiers=words)


def warn_if_no_directory(chosen: Settings) -> None:
    """Say on stderr when the business directory is not imported (its searches would be skipped)."""
    from wyshbone.providers.local_directory import directory_info

    if directory_info(chosen.directory_file) is None:
        err.print(
            "[yellow]warning:[/] the directory is not imported: run `wyshbone db import` (searches will be skipped)"
        )


def store_reachable(chosen: Settings) -> None:
    """Open (and migrate) the store once; a store that cannot be reached → stderr and exit 2."""
    from wyshbone.storage.db import Database

    async def check() -> None:
        await (await Database.connect(chosen.store_url)).close()

    try:
        asyncio.run(check())
    except WyshboneError as exc:
        raise fail(str(exc)) from None
