"""The sessions repository: on SQLite, on Postgres and in memory, a session's messages in the order said."""

from __future__ import annotations

import pytest

from tests.conftest import EVERY_BACKEND
from wyshbone.storage import Repositories

pytestmark = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)


async def test_sessions_keep_each_sessions_messages_in_order(repos: Repositories) -> None:
    await repos.sessions.ensure("s1")
    await repos.sessions.ensure("s1")  # a session seen again is no error
    await repos.sessions.add_message(session_id="s1", plan_id="p2", role="assistant", text="Found 3 cafes")
    await repos.sessions.add_message(session_id="s2", plan_id=None, role="user", text="dentists")
    await repos.sessions.add_message(session_id="s1", plan_id=None, role="user", text="and pubs?")
    messages = await repos.sessions.messages(session_id="s1")
    assert [(m.session_id, m.plan_id, m.role, m.text) for m in messages] == [
        ("s1", "p2", "assistant", "Found 3 cafes"),
        ("s1", None, "user", "and pubs?"),
    ]
    assert messages[0].id < messages[1].id
    assert await repos.sessions.messages(session_id="nobody") == []
