"""Queue mode's pure parts: the settings it insists on, the retry decision, the URL and cron it derives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from tests.fakes.server import free_port
from wyshbone.cli import app as cli
from wyshbone.config import Settings
from wyshbone.services.queue import libpq_url
from wyshbone.storage.db import shown_url
from wyshbone.worker import MAX_ATTEMPTS, _sweep_cron, every_cron, retry_decision

PG = "postgresql+psycopg://wyshbone:secret@db.example:5432/wyshbone"


@pytest.mark.parametrize(
    "url",
    [
        None,  # the default SQLite store
        "sqlite:////tmp/wyshbone.sqlite",
    ],
)
def test_settings_queue_mode_without_postgres_is_refused(url: str | None) -> None:
    with pytest.raises(ValidationError, match="needs WYSHBONE_DATABASE_URL=postgresql"):
        Settings(execution="queue", database_url=url)


def test_settings_embedded_is_the_default_and_queue_mode_takes_postgres() -> None:
    assert Settings().execution == "embedded"
    assert Settings(execution="queue", database_url=PG).execution == "queue"


def test_cli_worker_in_queue_mode_without_postgres_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WYSHBONE_EXECUTION", "queue")
    monkeypatch.delenv("WYSHBONE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "WYSHBONE_DATABASE_URL=postgresql" in result.output


def test_cli_worker_on_a_queue_that_does_not_exist_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WYSHBONE_EXECUTION", "queue")
    monkeypatch.setenv("WYSHBONE_DATABASE_URL", PG)
    result = CliRunner().invoke(cli, ["worker", "--queues", "plans,emails"])
    assert result.exit_code == 2
    assert "no such queue: emails (the queues are plans, outreach, maintenance)" in result.output


@pytest.mark.parametrize(
    "args",
    [["worker"], ["db", "migrate"], ["plan", "Find 3 coffee shops in Leeds"], ["serve", "--port", "1"]],
)
def test_cli_with_a_database_that_does_not_answer_says_so_without_the_password(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://sales:S3cretPass@127.0.0.1:{free_port()}/wyshbone"  # nothing listens there
    monkeypatch.setenv("WYSHBONE_EXECUTION", "queue")
    monkeypatch.setenv("WYSHBONE_DATABASE_URL", url)
    result = CliRunner().invoke(cli, args)
    said = " ".join(result.output.split())  # as wrapped for the terminal, joined again
    assert result.exit_code == 2, said
    assert "error: cannot reach the database at postgresql://sales:***@127.0.0.1:" in said
    assert "S3cretPass" not in said and "Traceback" not in said


def test_cli_worker_in_embedded_mode_exits_2() -> None:
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "only in queue mode" in result.output


@pytest.mark.parametrize(
    ("exception", "attempts", "seconds"),
    [
        (asyncio.CancelledError(), 0, 0),  # its worker shut down: at once, on another worker
        (OSError("store down"), 0, 2),  # the store failed under it: after a growing wait
        (OSError("store down"), 4, 10),
        (OSError("store down"), 40 // 2 - 1, 40),
        (OSError("store down"), 100 // 2, None),  # past the last attempt (MAX_ATTEMPTS): no more
    ],
)
def test_retry_decision_by_exception_and_attempt(
    exception: BaseException, attempts: int, seconds: int | None
) -> None:
    decision = retry_decision(exception, min(attempts, MAX_ATTEMPTS))
    if seconds is None:
        assert decision is None
    else:
        assert decision is not None and decision.retry_at is not None
        assert abs((decision.retry_at - datetime.now(UTC)).total_seconds() - seconds) < 1


def test_libpq_url_drops_the_driver_and_keeps_the_password() -> None:
    assert libpq_url(PG) == "postgresql://wyshbone:secret@db.example:5432/wyshbone"


@pytest.mark.parametrize(
    ("stalled", "cron"),
    [
        (30.0, "* * * * * */10"),  # the default: a third of it
        (3.0, "* * * * * */1"),
        (1.0, "* * * * * */1"),  # never less than a second
        (600.0, "* * * * * */30"),  # never more than 30 s
    ],
)
def test_sweep_cron_every_third_of_the_stalled_timeout(stalled: float, cron: str) -> None:
    settings = Settings(
        execution="queue", database_url=PG, queue_heartbeat_seconds=0.5, queue_stalled_seconds=stalled
    )
    assert _sweep_cron(settings) == cron


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (1.0, "* * * * * */1"),
        (0.2, "* * * * * */1"),  # never less than a second
        (59.0, "* * * * * */30"),  # seconds up to 30
        (60.0, "*/1 * * * *"),  # the monitors' default: every minute
        (600.0, "*/10 * * * *"),
        (7200.0, "0 * * * *"),  # hourly at most
    ],
)
def test_every_cron(seconds: float, cron: str) -> None:
    assert every_cron(seconds) == cron


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://sales:S3cret@db:5432/wyshbone", "postgresql://sales:***@db:5432/wyshbone"),
        (
            "postgresql://sales@db/wyshbone?password=S3cret&sslmode=disable",
            "postgresql://sales@db/wyshbone?sslmode=disable",
        ),
        ("sqlite:////var/lib/wyshbone/wyshbone.sqlite", "/var/lib/wyshbone/wyshbone.sqlite"),
    ],
)
def test_shown_url_never_holds_the_password(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_settings_take_postgres_as_postgresql() -> None:
    settings = Settings(execution="queue", database_url="postgres://sales:S3cret@db/wyshbone")
    assert settings.database_url == "postgresql://sales:S3cret@db/wyshbone"
