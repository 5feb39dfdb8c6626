"""SQLAlchemy Core tables: plans, the event log, step results, lead lists, leads, outreach and monitors.

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
    # While executing: the process running it, which renews its lease; another process may take the plan
    # over (resume it) only once the lease has expired.
    Column("owner", String(128), nullable=True),
    Column("lease_until", String(40), nullable=True),
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

# --- outreach ------------------------------------------------------------------------------------------------
# Times below are ISO 8601 UTC with microseconds (``storage._sql.iso``), so they compare as strings.

outreach_sequences = Table(
    "outreach_sequences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(64), nullable=False),
    Column("step_id", String(128), nullable=False),
    Column("list_id", Integer, ForeignKey("lead_lists.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("account_id", String(128), nullable=False),
    Column("steps", JSON, nullable=False),
    Column("sender", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("plan_id", "step_id", name="uq_outreach_sequences_plan_step"),
)

outreach_leads = Table(
    "outreach_leads",
    metadata,
    Column("sequence_id", Integer, ForeignKey("outreach_sequences.id", ondelete="CASCADE"), primary_key=True),
    Column("lead_key", Text, primary_key=True),
    Column("lead_name", Text, nullable=False),
    Column("email", Text, nullable=True, index=True),
    # active | skipped | suppressed | replied | opted_out | bounced
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("updated_at", String(40), nullable=False),
)

outreach_messages = Table(
    "outreach_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sequence_id", Integer, ForeignKey("outreach_sequences.id", ondelete="CASCADE"), nullable=False),
    Column("lead_key", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("step_key", String(40), nullable=False),
    Column("day", Integer, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    # One send per (sequence, lead, step), whatever happens: also the Message-ID of the sent mail.
    Column("idempotency_key", String(128), nullable=False, unique=True),
    # draft | sending | sent | failed | suppressed | stopped
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reply", Text, nullable=True),
    Column("sent_at", String(40), nullable=True),
    Column("updated_at", String(40), nullable=False),
    UniqueConstraint("sequence_id", "lead_key", "step_index", name="uq_outreach_messages_lead_step"),
    Index("ix_outreach_messages_sequence_status", "sequence_id", "status"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("account_id", String(128), primary_key=True),
    Column("kind", String(16), primary_key=True),  # address | domain
    Column("value", Text, primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("created_at", String(40), nullable=False),
)

# --- monitors -------------------------------------------------------------------------------------------------

monitors = Table(
    "monitors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(64), nullable=False),
    Column("step_id", String(128), nullable=False),
    Column("session_id", String(128), nullable=True, index=True),
    Column("user_id", String(128), nullable=False),
    Column("list_id", Integer, ForeignKey("lead_lists.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("search", JSON, nullable=False),
    Column("cadence", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # active | paused
    Column("next_run_at", String(40), nullable=False),
    Column("last_run_at", String(40), nullable=True),
    Column("last_success_at", String(40), nullable=True),
    # A runner holds the monitor until then (renewing it while it runs), so two schedulers never run it at once.
    Column("lease_until", String(40), nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("plan_id", "step_id", name="uq_monitors_plan_step"),
    Index("ix_monitors_due", "status", "next_run_at"),
)

monitor_known = Table(
    "monitor_known",
    metadata,
    Column("monitor_id", Integer, ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True),
    Column("key", Text, primary_key=True),
    # A business is known by two keys: its source record ("source") and its name at its postcode ("name").
    Column("kind", String(8), nullable=False),
)

monitor_runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", Integer, ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=False),
    Column("found", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    # New leads that got outreach drafts (when the plan emails its leads).
    Column("drafted", Integer, nullable=False, default=0),
    Column("new_leads", JSON, nullable=False),
    Column("message", Text, nullable=True),
    Column("error", Text, nullable=True),
    # The check plan the run executed (none for the set-up's record).
    Column("plan_id", String(64), nullable=True),
    Index("ix_monitor_runs_monitor", "monitor_id", "id"),
)
