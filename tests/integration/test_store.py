"""The plan store: SQLite (SqlStore) and in-memory (MemoryStore) behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wyshbone.domain.models import (
    Lead,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenStepResult,
    LeadGenStepStatus,
    PlanEvent,
    PlanEventType,
    PlanStatus,
)
from wyshbone.storage import MemoryStore, PlanStore, SqlStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PlanStore]:
    the_store: PlanStore = (
        await SqlStore.connect(f"sqlite:///{tmp_path / 'store.sqlite'}")
        if request.param == "sqlite"
        else MemoryStore()
    )
    yield the_store
    await the_store.close()


def event(type_: PlanEventType, plan_id: str = "p1", step: str | None = None) -> PlanEvent:
    return PlanEvent(timestamp=T0, type=type_, plan_id=plan_id, user_id="u", step_id=step)


def lead(source_id: str, name: str, postcode: str | None) -> Lead:
    return Lead(
        name=name, source="fsa_fhrs", source_id=source_id, postcode=postcode, provenance={"name": "fsa_fhrs"}
    )


async def test_store_plan_roundtrip_and_status(store: PlanStore) -> None:
    plan = LeadGenPlan(id="p1", user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[], created_at=T0)
    await store.save_plan(plan, session_id="s1")
    await store.set_plan_status("p1", PlanStatus.EXECUTING)
    assert await store.get_plan("p1") == plan.model_copy(update={"status": PlanStatus.EXECUTING})
    assert await store.get_plan("nope") is None


async def test_store_events_are_ordered_per_plan_and_pageable(store: PlanStore) -> None:
    # appended concurrently: the group commit must keep each caller's seq and the log order
    stored = await asyncio.gather(
        store.append_event(event(PlanEventType.PLAN_STARTED)),
        store.append_event(event(PlanEventType.PLAN_STARTED, plan_id="p2")),
        store.append_event(event(PlanEventType.STEP_STARTED, step="a")),
    )
    seqs = [e.seq for e in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    events = await store.list_events("p1")
    assert [(e.type.value, e.step_id) for e in events] == [("PLAN_STARTED", None), ("STEP_STARTED", "a")]
    assert events == [stored[0], stored[2]]
    assert await store.list_events("p1", after=stored[0].seq or 0) == [stored[2]]


async def test_store_step_result_written_with_its_event(store: PlanStore) -> None:
    first = LeadGenStepResult(step_id="a", status=LeadGenStepStatus.FAILED, attempts=1)
    final = LeadGenStepResult(step_id="a", status=LeadGenStepStatus.SUCCEEDED, attempts=2, data={"n": 1})
    await store.append_event(event(PlanEventType.STEP_FAILED, step="a"), step_result=first)
    await store.append_event(event(PlanEventType.STEP_SUCCEEDED, step="a"), step_result=final)
    assert await store.step_results("p1") == {"a": final}


async def test_store_save_leads_is_idempotent_and_deduplicates(store: PlanStore) -> None:
    leads = [
        lead("fsa_fhrs:1", "The Crown & Anchor", "M1 1AA"),
        lead("fsa_fhrs:2", "Crown and Anchor", "M11AA"),  # same name + postcode as 1
        lead("fsa_fhrs:3", "Costa Coffee", None),  # no postcode: only its id identifies it
        lead("fsa_fhrs:4", "Costa Coffee", None),
    ]
    first = await store.save_leads(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    again = await store.save_leads(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    assert (first.added, first.total, again.added, again.total) == (3, 3, 0, 3)
    assert first.list_id == again.list_id
    saved = await store.list_leads(plan_id="p1")
    assert [x.source_id for x in saved] == ["fsa_fhrs:1", "fsa_fhrs:3", "fsa_fhrs:4"]
    assert saved[0] == leads[0]
    assert await store.list_leads(plan_id="other") == []
