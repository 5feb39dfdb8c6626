"""SQLAlchemy Core tables: plans, the append-only event log, step results, lead lists and leads.

Whole values (plan, event, step data) are stored as JSON next to the columns that queries filter on.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("created_at", String(40), nullable=False),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("session_id", String(128), nullable=True, index=True),
    Column("user_id", String(128), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("plan", JSON, nullable=False),
    # The LeadGenExecutionResult once the run has finished.
    Column("result", JSON, nullable=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(128), nullable=False),
    Column("plan_id", String(64), nullable=True),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_messages_session_id", "session_id", "id"),
)

plan_events = Table(
    "plan_events",
    metadata,
    # The autoincrement id is the event's ``seq``: monotonic, so ``after=<seq>`` paging works per plan.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("step_id", String(128), nullable=True),
    Column("timestamp", String(40), nullable=False),
    Column("event", JSON, nullable=False),
    Index("ix_plan_events_plan_seq", "plan_id", "seq"),
)

step_results = Table(
    "step_results",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("step_id", String(128), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("result", JSON, nullable=False),
)

lead_lists = Table(
    "lead_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(64), nullable=False),
    Column("step_id", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("plan_id", "step_id", name="uq_lead_lists_plan_step"),
)

leads = Table(
    "leads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list_id", Integer, ForeignKey("lead_lists.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("postcode", Text, nullable=True),
    Column("score", Float, nullable=False, default=0.0),
    Column("lead", JSON, nullable=False),
    # Two ways a lead is "the same": same source record, or same business name at the same postcode.
    UniqueConstraint("list_id", "source_id", name="uq_leads_list_source"),
    UniqueConstraint("list_id", "name_key", name="uq_leads_list_name_postcode"),
)
