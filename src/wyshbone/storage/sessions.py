"""Sessions and their conversation: the messages a session is told (a finished plan's summary, a monitor's news).

``SessionRepository`` is the contract; ``SqlSessionRepository`` keeps it in the database,
``MemorySessionRepository`` in memory, with the same behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select

from wyshbone.storage import tables as t
from wyshbone.storage._memory import Table
from wyshbone.storage._sql import stamp
from wyshbone.storage.db import Database


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a session's conversation (e.g. a finished plan's summary)."""

    id: int
    session_id: str
    plan_id: str | None
    role: str
    text: str
    created_at: str


class SessionRepository(Protocol):
    """Where sessions and their messages are kept."""

    async def ensure(self, session_id: str) -> None:
        """Record the session (a session seen again is no error)."""
        ...

    async def add_message(self, *, session_id: str, plan_id: str | None, role: str, text: str) -> None: ...
    async def messages(self, *, session_id: str) -> list[Message]:
        """The session's messages, oldest first."""
        ...


class SqlSessionRepository(SessionRepository):
    """``SessionRepository`` in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(self, session_id: str) -> None:
        stmt = self._db.insert(t.sessions).values(id=session_id, created_at=stamp()).on_conflict_do_nothing()
        await self._db.write(lambda conn: conn.execute(stmt))

    async def add_message(self, *, session_id: str, plan_id: str | None, role: str, text: str) -> None:
        stmt = t.messages.insert().values(
            session_id=session_id, plan_id=plan_id, role=role, text=text, created_at=stamp()
        )
        await self._db.write(lambda conn: conn.execute(stmt))

    async def messages(self, *, session_id: str) -> list[Message]:
        stmt = select(t.messages).where(t.messages.c.session_id == session_id).order_by(t.messages.c.id)
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [Message(**row._mapping) for row in rows]


@dataclass
class MemorySessionRepository(SessionRepository):
    """``SessionRepository`` in memory."""

    _sessions: dict[str, str] = field(default_factory=dict)
    _messages: Table = field(default_factory=Table)

    async def ensure(self, session_id: str) -> None:
        self._sessions.setdefault(session_id, stamp())

    async def add_message(self, *, session_id: str, plan_id: str | None, role: str, text: str) -> None:
        self._messages.insert(
            {"session_id": session_id, "plan_id": plan_id, "role": role, "text": text, "created_at": stamp()}
        )

    async def messages(self, *, session_id: str) -> list[Message]:
        return [Message(**row) for row in self._messages.where(session_id=session_id)]
