"""The FastAPI application factory: lifespan (open storage, resume interrupted plans in embedded mode), errors,
routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import sqlalchemy.exc
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from wyshbone import __version__
from wyshbone.bootstrap import open_context
from wyshbone.config import Settings
from wyshbone.errors import ConflictError, InputError, NotFoundError, UnplannableGoalError, WyshboneError
from wyshbone.signing import load_or_create_secret
from wyshbone.web.guard import BodyGuard
from wyshbone.web.routes import api, pages, sales
from wyshbone.web.sessions import SessionIssuer

logger = logging.getLogger("wyshbone.web")


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the application context, resume interrupted plans and start the monitor scheduler; undo it all on
    the way out."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        embedded = settings.execution == "embedded"
        context = await open_context(settings, adopt=embedded)
        app.state.context = context
        # In queue mode the workers resume interrupted plans (procrastinate's stalled-job detection).
        resumed = await context.runs.resume_interrupted()
        if resumed:
            logger.info("resumed %d interrupted plan(s): %s", len(resumed), ", ".join(resumed))
        # The embedded monitor scheduler (WYSHBONE_MONITOR_TICK_SECONDS=0 leaves it to cron: monitors run-due).
        # In queue mode the workers check due monitors (a periodic task: wyshbone.worker).
        scheduler = (
            asyncio.create_task(context.monitors.run_forever(settings.monitor_tick_seconds), name="monitors")
            if settings.monitor_tick_seconds > 0 and embedded
            else None
        )
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.cancel()
                await asyncio.gather(scheduler, return_exceptions=True)
            await context.close()  # the sends and runs first, then the HTTP client, then the store

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; the repositories are opened and interrupted plans resumed when it starts serving."""
    settings = settings or Settings()
    app = FastAPI(
        title="Wyshbone Supervisor",
        version=__version__,
        description="A sales goal in plain words → an approved plan → live execution → a lead list.",
        lifespan=_lifespan(settings),
    )
    app.state.sessions = SessionIssuer(settings.secret_key or load_or_create_secret(settings.home))
    _install_error_handlers(app)
    app.add_middleware(BodyGuard)
    app.include_router(api.router)
    app.include_router(sales.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, str]:
        """Liveness: answers as long as the process serves requests."""
        return {"status": "ok"}

    return app


def _error(status: int, detail: str, problems: list[str] | None = None) -> JSONResponse:
    body: dict[str, object] = {"detail": detail}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(status_code=status, content=body)


def _install_error_handlers(app: FastAPI) -> None:
    async def unplannable(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, UnplannableGoalError)
        return _error(422, f"I can't plan that goal: {exc}", exc.problems)

    async def not_found(_: Request, exc: Exception) -> Response:
        return _error(404, str(exc))

    async def conflict(_: Request, exc: Exception) -> Response:
        return _error(409, str(exc))

    async def bad_input(_: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def invalid(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [_describe(err) for err in exc.errors()]
        return _error(422, "the request is not valid: " + "; ".join(problems), problems)

    async def store_down(request: Request, exc: Exception) -> Response:
        logger.warning("the database did not answer on %s %s: %s", request.method, request.url.path, exc)
        response = _error(503, "the database is not answering right now; try again in a few seconds")
        response.headers["Retry-After"] = "5"
        return response

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.error("unhandled error on %s %s: %r", request.method, request.url.path, exc, exc_info=exc)
        return _error(500, "something went wrong on our side; the error is logged")

    app.add_exception_handler(UnplannableGoalError, unplannable)
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(InputError, bad_input)
    app.add_exception_handler(WyshboneError, bad_input)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, store_down)
    app.add_exception_handler(Exception, unexpected)


def _describe(err: object) -> str:
    if not isinstance(err, dict):
        return str(err)
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    return f"{where or 'body'}: {err.get('msg', 'invalid')}"
