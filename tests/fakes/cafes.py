"""Manchester cafés for outreach and monitor tests: a made-up directory, what the fake Hunter knows of them, and
the settings (env) that point the CLI and the services at the fakes and a local SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fakes.directory import row, write_csv
from tests.fakes.hunter import Company, FakeHunter
from tests.fakes.smtp import RunningSmtp, running_smtp
from wyshbone.cli import app
from wyshbone.providers.local_directory import import_directory

GOAL = "Find 10 coffee shops in Manchester, email them and check every week for new ones"
SENDER = {
    "WYSHBONE_SENDER_NAME": "Sam Roaster",
    "WYSHBONE_SENDER_EMAIL": "sam@roastery.example",
    "WYSHBONE_SENDER_COMPANY": "Good Roast Ltd",
    "WYSHBONE_SENDER_ADDRESS": "1 Mill Lane, Stockport SK1 1AA",
}


def cafe(n: int, name: str, domain: str | None) -> list[str]:
    return row(
        str(n),
        name,
        "cafe",
        postcode=f"M1 {n}AA",
        lat=53.4808 + n * 0.0005,
        lon=-2.2426,
        la="Manchester",
        county="Greater Manchester",
        region="North West",
        source="fsa_fhrs",
        website=f"https://www.{domain}/" if domain else "",
    )


CAFES = [
    cafe(1, "Bean There", "beanthere.co.uk"),
    cafe(2, "Northern Grind", "northerngrind.co.uk"),
    cafe(3, "Tea & <Cake>", "teaandcake.co.uk"),
    cafe(4, "Quiet Please Cafe", "quietplease.co.uk"),  # its address is on the suppression list
    cafe(5, "Blocked Brew", "blockedbrew.co.uk"),  # its whole domain is suppressed
    cafe(6, "No Inbox Cafe", "noinbox.co.uk"),  # Hunter knows the domain but no address
    cafe(7, "Offline Cafe", None),  # no website at all
]
NEW_CAFES = [
    cafe(20, "Fresh Grounds", "freshgrounds.co.uk"),
    cafe(21, "Second Cup Corner", None),
    cafe(22, "The Third Wave", None),
]
WRITTEN_TO = {
    "hello@beanthere.co.uk": "Bean There",
    "maya@northerngrind.co.uk": "Northern Grind",
    "info@teaandcake.co.uk": "Tea & <Cake>",
}


def _email(value: str, *, status: str, kind: str = "generic", first: str | None = None) -> dict[str, Any]:
    return {
        "value": value,
        "type": kind,
        "confidence": 90,
        "sources": [],
        "first_name": first,
        "last_name": None,
        "position": "Owner" if first else None,
        "verification": {"date": "2026-11-01", "status": status},
    }


def companies() -> dict[str, Company]:
    return {
        "beanthere.co.uk": Company("Bean There", (_email("hello@beanthere.co.uk", status="valid"),)),
        "northerngrind.co.uk": Company(
            "Northern Grind",
            (
                _email("info@northerngrind.co.uk", status="accept_all"),
                _email("maya@northerngrind.co.uk", status="valid", kind="personal", first="Maya"),
            ),
        ),
        "teaandcake.co.uk": Company("Tea & Cake", (_email("info@teaandcake.co.uk", status="valid"),)),
        "quietplease.co.uk": Company("Quiet Please", (_email("hello@quietplease.co.uk", status="valid"),)),
        "blockedbrew.co.uk": Company("Blocked Brew", (_email("sales@blockedbrew.co.uk", status="valid"),)),
        "noinbox.co.uk": Company("No Inbox Cafe"),
        # One of the cafés that open later (NEW_CAFES): a monitor run finds its address and drafts to it.
        "freshgrounds.co.uk": Company("Fresh Grounds", (_email("hi@freshgrounds.co.uk", status="valid"),)),
    }


@dataclass
class World:
    tmp: Path
    smtp: RunningSmtp
    hunter: FakeHunter
    directory: Path
    runner: CliRunner

    def cli(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout + result.stderr

    def cli_json(self, *args: str) -> Any:
        result = self.runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return json.loads(result.stdout)

    def add_to_directory(self, rows: list[list[str]]) -> None:
        write_csv(self.tmp / "uk_businesses_extra.csv.gz", rows)
        import_directory(
            [self.tmp / "uk_businesses.csv.gz", self.tmp / "uk_businesses_extra.csv.gz"], self.directory
        )


@contextmanager
def cafe_world(
    tmp_path: Path, data_dir: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """The directory imported, the fakes running, and every WYSHBONE_* setting pointing at them."""
    directory = tmp_path / "directory.sqlite"
    import_directory([write_csv(tmp_path / "uk_businesses.csv.gz", CAFES)], directory)
    with (
        running_smtp(tmp_path) as smtp,
        FakeHunter(companies=companies(), claimed=set(), verdicts={}).running() as hunter,
    ):
        env = {
            "WYSHBONE_DATABASE_URL": store_url,
            "WYSHBONE_DIRECTORY_PATH": str(directory),
            "WYSHBONE_OPEN_DATA_DIR": str(data_dir),
            "WYSHBONE_HUNTER_API_KEY": hunter.api_key,
            "WYSHBONE_HUNTER_BASE_URL": hunter.base_url,
            "WYSHBONE_SMTP_URL": smtp.url(),
            "WYSHBONE_SMTP_CA_FILE": str(smtp.ca_file),
            "WYSHBONE_OUTREACH_GAP_SECONDS": "0",
            "WYSHBONE_PUBLIC_URL": "https://leads.example",
            **SENDER,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield World(tmp_path, smtp, hunter, directory, CliRunner())


def list_id_of(result: dict[str, Any]) -> int:
    """The saved list's id in a ``run --json`` result (or an execution result's JSON)."""
    return int(next(r["data"]["listId"] for r in result["stepResults"] if r["stepId"] == "lead_list_save_1"))
