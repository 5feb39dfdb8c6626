"""The HTTP API end to end on the real directory: approval → execution → progress as one pipeline."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from wyshbone.config import Settings
from wyshbone.web import create_app

pytestmark = pytest.mark.data
ME = {"X-Session-Id": "session-me-0001"}
OTHER = {"X-Session-Id": "session-other-0002"}
GOAL = {"goal": "Find 20 coffee shops in Manchester"}


@pytest.fixture
async def app(
    real_db: tuple[Path, object], tmp_path: Path, data_dir: Path, store_url: str
) -> AsyncIterator[FastAPI]:
    """The app on SQLite and on Postgres (``store_url`` is parametrized over both)."""
    settings = Settings(
        home=tmp_path / "home", directory_path=real_db[0], open_data_dir=data_dir, database_url=store_url
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def wait_finished(client: httpx.AsyncClient, plan_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(200):
        progress = (await client.get(f"/api/plan/{plan_id}/progress", headers=headers)).json()
        if progress["status"] in ("completed", "failed", "cancelled"):
            return progress  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"plan {plan_id} did not finish: {progress}")


async def test_api_start_approve_progress_result_leads(client: httpx.AsyncClient) -> None:
    started = await client.post("/api/plan/start", json=GOAL, headers=ME)
    assert started.status_code == 201, started.text
    plan = started.json()
    plan_id = plan["planId"]
    assert plan["status"] == "pending_approval"
    assert plan["goal"]["targetPersona"] == "coffee shop"
    assert plan["steps"][0]["title"] == "Search Wyshbone Global Database"
    assert plan["estimate"]["steps"][1] == {
        "stepId": "hunter_domain_lookup_1",
        "willRun": False,
        "reason": "Not set up: needs a Hunter.io key\nhunter: set WYSHBONE_HUNTER_API_KEY",
    }
    assert isinstance(plan["warnings"], list)
    assert (await client.get(f"/api/plan/{plan_id}/progress", headers=ME)).json()["status"] == "pending"
    assert (await client.get(f"/api/plan/{plan_id}/result", headers=ME)).status_code == 409

    approved = await client.post("/api/plan/approve", json={"planId": plan_id}, headers=ME)
    assert (approved.status_code, approved.json()) == (200, {"planId": plan_id, "status": "executing"})
    # visible at once: approval hands the plan to the executor and the progress says so
    assert (await client.get("/api/plan/progress", headers=ME)).json()["status"] == "executing"
    again = await client.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME)
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "this plan has already been approved and is running",
    )

    progress = await wait_finished(client, plan_id, ME)
    assert (progress["status"], progress["detail"], progress["totalSteps"]) == ("completed", "partial", 4)
    assert [(s["stepId"], s["status"]) for s in progress["steps"]] == [
        ("global_db_search_1", "completed"),
        ("hunter_domain_lookup_1", "skipped"),
        ("hunter_enrich_1", "skipped"),
        ("lead_list_save_1", "completed"),
    ]
    assert progress["steps"][0]["provider"] == "local_directory"

    result = (await client.get(f"/api/plan/{plan_id}/result", headers=ME)).json()
    assert (result["planId"], result["overallStatus"]) == (plan_id, "partial")
    assert result["delivery"] == {"wanted": 20, "delivered": 20, "note": None}
    leads = (await client.get(f"/api/plan/{plan_id}/leads", headers=ME)).json()
    assert len(leads) == 20
    assert all(lead["provenance"]["name"] == lead["source"] for lead in leads)
    download = await client.get(f"/api/plan/{plan_id}/leads", params={"format": "csv"}, headers=ME)
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["sourceId"] for r in rows] == [lead["sourceId"] for lead in leads]

    messages = (await client.get("/api/conversations/current/messages", headers=ME)).json()
    assert len(messages) == 1 and messages[0]["planId"] == plan_id
    assert messages[0]["text"].split("\n") == [
        "Finished: partial.",
        "Saved 20 coffee shops in Manchester.",
        "Find Company Domains — not set up: needs a Hunter.io key.",
        "Enrich Contact Data — not set up: needs a Hunter.io key or reading businesses' own websites switched on.",
    ]
    listed = (await client.get("/api/plans", headers=ME)).json()
    assert [(p["planId"], p["status"]) for p in listed] == [(plan_id, "partial")]


async def test_api_result_states_a_short_delivery_and_why(client: httpx.AsyncClient) -> None:
    # The open data holds very few gyms in Manchester, and no online search is set up: fewer than asked.
    plan_id = (
        await client.post("/api/plan/start", json={"goal": "10 gyms in Manchester"}, headers=ME)
    ).json()["planId"]
    await client.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME)
    progress = await wait_finished(client, plan_id, ME)
    assert (progress["status"], progress["detail"]) == ("completed", "partial")  # the contract's values stay

    delivery = (await client.get(f"/api/plan/{plan_id}/result", headers=ME)).json()["delivery"]
    leads = (await client.get(f"/api/plan/{plan_id}/leads", headers=ME)).json()
    assert (delivery["wanted"], delivery["delivered"]) == (10, len(leads))
    assert delivery["delivered"] < 10
    assert delivery["note"].startswith(f"{len(leads)} of 10 gyms: ")
    # the session's summary says the same, in the same words
    messages = (await client.get("/api/conversations/current/messages", headers=ME)).json()
    delivered = next(line for line in messages[0]["text"].split("\n") if line.startswith("Saved "))
    assert delivered.startswith(f"Saved {delivery['note']}.")


async def test_api_plan_carries_its_warnings_for_the_page(client: httpx.AsyncClient) -> None:
    started = (
        await client.post("/api/plan/start", json={"goal": "10 gyms in Manchester"}, headers=ME)
    ).json()
    shown = (await client.get(f"/api/plan/{started['planId']}", headers=ME)).json()
    assert started["warnings"] and shown["warnings"] == started["warnings"]
    assert any("10 were asked for" in warning for warning in shown["warnings"])


async def test_api_events_page_and_stream_resume(client: httpx.AsyncClient) -> None:
    plan_id = (await client.post("/api/plan/start", json=GOAL, headers=ME)).json()["planId"]
    await client.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME)
    await wait_finished(client, plan_id, ME)

    events = (await client.get(f"/api/plan/{plan_id}/events", headers=ME)).json()
    types = [e["type"] for e in events]
    assert types[0] == "PLAN_STARTED" and types[-1] == "PLAN_COMPLETED"
    assert types.count("STEP_SKIPPED") == 2 and types.count("STEP_SUCCEEDED") == 2
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    later = (await client.get(f"/api/plan/{plan_id}/events", params={"after": seqs[2]}, headers=ME)).json()
    assert later == events[3:]

    stream = await client.get(f"/api/plan/{plan_id}/stream", headers=ME)
    assert stream.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in stream.text.split("\n\n") if f.startswith("id:")]
    assert [json.loads(f.split("data: ", 1)[1])["seq"] for f in frames] == seqs
    resumed = await client.get(f"/api/plan/{plan_id}/stream", headers={**ME, "Last-Event-ID": str(seqs[-3])})
    frames = [f for f in resumed.text.split("\n\n") if f.startswith("id:")]
    assert [int(f.split("\n")[0][4:]) for f in frames] == seqs[-2:]


async def test_api_other_session_gets_404_everywhere(client: httpx.AsyncClient) -> None:
    plan_id = (await client.post("/api/plan/start", json=GOAL, headers=ME)).json()["planId"]
    for method, path in [
        ("GET", f"/api/plan/{plan_id}"),
        ("GET", f"/api/plan/{plan_id}/progress"),
        ("GET", f"/api/plan/{plan_id}/events"),
        ("GET", f"/api/plan/{plan_id}/stream"),
        ("GET", f"/api/plan/{plan_id}/result"),
        ("GET", f"/api/plan/{plan_id}/leads"),
        ("POST", f"/api/plan/{plan_id}/approve"),
        ("POST", f"/api/plan/{plan_id}/cancel"),
    ]:
        answer = await client.request(method, path, headers=OTHER, json={} if method == "POST" else None)
        assert answer.status_code == 404, (method, path, answer.text)
    answer = await client.post("/api/plan/approve", json={"planId": plan_id}, headers=OTHER)
    assert answer.status_code == 404
    assert (await client.get("/api/plans", headers=OTHER)).json() == []
    assert (await client.get("/api/plan/progress", headers=OTHER)).json() == {"status": "idle"}
    # and the owner's plan was not touched
    assert (await client.get(f"/api/plan/{plan_id}", headers=ME)).json()["status"] == "pending_approval"


async def test_api_cookie_session_is_issued_signed_and_reused(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/plans")
    cookie = first.headers["set-cookie"]
    assert "wyshbone_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    started = await client.post("/api/plan/start", json=GOAL)  # the client sends the cookie back
    assert started.status_code == 201
    assert [p["planId"] for p in (await client.get("/api/plans")).json()] == [started.json()["planId"]]
    client.cookies.set("wyshbone_session", "forged.value")
    assert (await client.get("/api/plans")).json() == []  # a forged cookie is a new, empty session


async def test_api_cancel_pending_then_finished_is_conflict(client: httpx.AsyncClient) -> None:
    plan_id = (await client.post("/api/plan/start", json=GOAL, headers=ME)).json()["planId"]
    cancelled = await client.post(f"/api/plan/{plan_id}/cancel", json={}, headers=ME)
    assert cancelled.json() == {"planId": plan_id, "status": "cancelled"}
    assert (await client.get(f"/api/plan/{plan_id}/progress", headers=ME)).json()["status"] == "cancelled"
    assert (await client.post(f"/api/plan/{plan_id}/cancel", json={}, headers=ME)).status_code == 409
    assert (await client.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME)).status_code == 409


async def test_api_approvals_at_once_one_wins_and_the_plan_runs_once(client: httpx.AsyncClient) -> None:
    plan_id = (await client.post("/api/plan/start", json=GOAL, headers=ME)).json()["planId"]
    answers = await asyncio.gather(
        *(client.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME) for _ in range(20))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 19
    await wait_finished(client, plan_id, ME)
    events = (await client.get(f"/api/plan/{plan_id}/events", headers=ME)).json()
    assert [e["type"] for e in events].count("PLAN_STARTED") == 1


async def test_api_cancel_and_approve_at_once_one_of_them_wins(client: httpx.AsyncClient) -> None:
    plan_id = (await client.post("/api/plan/start", json=GOAL, headers=ME)).json()["planId"]
    cancel, approve = await asyncio.gather(
        client.post(f"/api/plan/{plan_id}/cancel", json={}, headers=ME),
        client.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME),
    )
    progress = await wait_finished(client, plan_id, ME)
    events = [e["type"] for e in (await client.get(f"/api/plan/{plan_id}/events", headers=ME)).json()]
    if approve.status_code == 200:  # approved first: the cancel stops the run, or finds it finished
        assert cancel.status_code in (200, 409), cancel.text
        assert events.count("PLAN_STARTED") == 1
    else:  # cancelled while pending: nothing ran
        assert (cancel.status_code, approve.status_code, progress["status"]) == (200, 409, "cancelled")
        assert approve.json()["detail"] == "this plan was cancelled"
        assert events == ["PLAN_CANCELLED"]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [
        # not JSON: a cross-site form cannot drive the API
        (
            {"content": "goal=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            415,
            "as JSON",
        ),
        (
            {"content": "{not json", "headers": {"Content-Type": "application/json"}},
            422,
            "not valid",
        ),  # malformed
        ({"json": {"goal": 42}}, 422, "goal"),  # wrong type
        ({"json": {}}, 422, "goal"),  # missing field
        ({"json": {"goal": "x" * 2001}}, 422, "goal"),  # too long
        ({"json": {"goal": "hello"}}, 422, "I can't plan that goal"),  # unplannable
        ({"json": {"goal": "Find pubs in Leeds", "extra": 1}}, 422, "extra"),  # unknown field
        ({"json": {"goal": "Find pubs in Leeds", "overrides": {"volume": 0}}}, 422, "volume"),  # bad override
        ({"content": "x" * 70_000, "headers": {"Content-Type": "application/json"}}, 413, "too large"),
    ],
)
async def test_api_start_bad_input_is_4xx_with_message(
    client: httpx.AsyncClient, request_kwargs: dict[str, Any], status: int, message: str
) -> None:
    kwargs = {**request_kwargs, "headers": {**ME, **request_kwargs.get("headers", {})}}
    answer = await client.post("/api/plan/start", **kwargs)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert (await client.get("/api/plans", headers=ME)).json() == []  # nothing stored


async def test_api_unknown_plan_and_bad_session_header(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/plan/nope", headers=ME)).status_code == 404
    bad = await client.get("/api/plans", headers={"X-Session-Id": "no spaces allowed"})
    assert bad.status_code == 400 and "X-Session-Id" in bad.json()["detail"]


async def test_api_overrides_change_the_plan(client: httpx.AsyncClient) -> None:
    body = {"goal": "Find 20 coffee shops in Manchester", "overrides": {"targetRegion": "Leeds", "volume": 5}}
    plan = (await client.post("/api/plan/start", json=body, headers=ME)).json()
    assert (plan["goal"]["targetRegion"], plan["goal"]["volume"]) == ("Leeds", 5)
    assert plan["steps"][0]["params"]["maxResults"] == 10


async def test_api_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/api/plan/start", "/api/plan/approve", "/api/plan/{plan_id}/stream", "/api/plans"} <= set(paths)
