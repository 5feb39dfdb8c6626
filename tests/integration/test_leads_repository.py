"""The leads repository: on SQLite, on Postgres and in memory, each business once per list, lists in order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import EVERY_BACKEND
from wyshbone.domain.models import Lead, LeadGenGoal, LeadGenPlan
from wyshbone.storage import Repositories
from wyshbone.storage.leads import LeadListRow

pytestmark = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)


def lead(source_id: str, name: str, postcode: str | None) -> Lead:
    return Lead(
        name=name, source="fsa_fhrs", source_id=source_id, postcode=postcode, provenance={"name": "fsa_fhrs"}
    )


async def test_leads_save_is_idempotent_and_deduplicates(repos: Repositories) -> None:
    leads = [
        lead("fsa_fhrs:1", "The Crown & Anchor", "M1 1AA"),
        lead("fsa_fhrs:2", "Crown and Anchor", "M11AA"),  # same name + postcode as 1
        lead("fsa_fhrs:3", "Costa Coffee", None),  # no postcode: only its id identifies it
        lead("fsa_fhrs:4", "Costa Coffee", None),
        lead("fsa_fhrs:1", "Renamed since", "LS1 1AA"),  # same source record as 1
    ]
    first = await repos.leads.save(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    again = await repos.leads.save(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    assert (first.added, first.total, again.added, again.total) == (3, 3, 0, 3)
    assert (first.list_id, first.name) == (again.list_id, again.name) == (first.list_id, "Pubs")
    saved = await repos.leads.for_plan(plan_id="p1")
    assert [x.source_id for x in saved] == ["fsa_fhrs:1", "fsa_fhrs:3", "fsa_fhrs:4"]
    assert saved[0] == leads[0]
    assert await repos.leads.of_list(first.list_id) == saved
    assert await repos.leads.for_plan(plan_id="other") == []


async def test_leads_keeps_leads_whose_keys_outgrow_their_columns(repos: Repositories) -> None:
    # Keys are unbounded text (an OpenStreetMap id, a list of postcodes): every backend must save them whole.
    long_id = "overpass:node/" + "7" * 300
    leads = [
        lead(long_id + "1", "The Bell", "SW1A 1AA;SW1A 2AA;SW1A 3AA"),  # an OpenStreetMap list of postcodes
        lead(long_id + "2", "The Bell", None),  # its id differs from the first only past the column's length
    ]
    saved = await repos.leads.save(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    assert (saved.added, saved.total) == (2, 2)
    assert await repos.leads.for_plan(plan_id="p1") == leads


async def test_leads_lists_of_a_plan_keep_their_order_and_say_whose_they_are(repos: Repositories) -> None:
    plan = LeadGenPlan(
        id="p1", user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[], created_at=datetime.now(UTC)
    )
    await repos.plans.save(plan, session_id="s1")
    first = await repos.leads.save(
        plan_id="p1", step_id="save", list_name="Pubs", leads=[lead("a:1", "A", None)]
    )
    later = await repos.leads.save(
        plan_id="p1",
        step_id="monitor",
        list_name="New",
        leads=[lead("a:3", "C", None), lead("a:2", "B", None)],
    )
    appended = await repos.leads.save(
        plan_id="p1", step_id="save", list_name="Pubs", leads=[lead("a:4", "D", None)]
    )
    assert first.list_id != later.list_id and appended.list_id == first.list_id
    assert [x.name for x in await repos.leads.for_plan(plan_id="p1")] == ["A", "D", "C", "B"]
    assert [x.name for x in await repos.leads.of_list(later.list_id)] == ["C", "B"]
    assert await repos.leads.list_info(first.list_id) == LeadListRow(
        first.list_id, "p1", "save", "Pubs", "s1", "u", 2
    )
    orphan = await repos.leads.save(plan_id="gone", step_id="save", list_name="X", leads=[])
    # a list is known through its plan: without one, there is nothing to say whose it is
    assert await repos.leads.list_info(orphan.list_id) is None
    assert await repos.leads.list_info(999) is None
    assert await repos.leads.of_list(999) == []
