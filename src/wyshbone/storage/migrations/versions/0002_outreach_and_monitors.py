"""Outreach (sequences, their leads and messages, the suppression list) and monitors (with known leads and runs).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _suppressions()
    _monitors()
    _monitor_history()
    _outreach()
    _outreach_messages()


def _suppressions() -> None:
    """The addresses and domains never to write to, per account."""
    op.create_table(
        "suppressions",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kind", "value"),
    )


def _monitors() -> None:
    """Monitors: what each watches, how often, and when it runs next."""
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("search", sa.JSON(), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_run_at", sa.String(length=40), nullable=False),
        sa.Column("last_run_at", sa.String(length=40), nullable=True),
        sa.Column("last_success_at", sa.String(length=40), nullable=True),
        sa.Column("lease_until", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["lead_lists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "step_id", name="uq_monitors_plan_step"),
    )
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.create_index("ix_monitors_due", ["status", "next_run_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitors_session_id"), ["session_id"], unique=False)


def _monitor_history() -> None:
    """The businesses each monitor knows, and its runs."""
    op.create_table(
        "monitor_known",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor_id", "key"),
    )
    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.String(length=40), nullable=False),
        sa.Column("finished_at", sa.String(length=40), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("drafted", sa.Integer(), nullable=False),
        sa.Column("new_leads", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_runs_monitor", ["monitor_id", "id"], unique=False)


def _outreach() -> None:
    """Sequences and their leads."""
    op.create_table(
        "outreach_sequences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=128), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("sender", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["lead_lists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "step_id", name="uq_outreach_sequences_plan_step"),
    )
    with op.batch_alter_table("outreach_sequences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outreach_sequences_list_id"), ["list_id"], unique=False)

    op.create_table(
        "outreach_leads",
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("lead_key", sa.Text(), nullable=False),
        sa.Column("lead_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["sequence_id"], ["outreach_sequences.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sequence_id", "lead_key"),
    )
    with op.batch_alter_table("outreach_leads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outreach_leads_email"), ["email"], unique=False)


def _outreach_messages() -> None:
    """The messages drafted for each lead, each sent once."""
    op.create_table(
        "outreach_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("lead_key", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["sequence_id"], ["outreach_sequences.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("sequence_id", "lead_key", "step_index", name="uq_outreach_messages_lead_step"),
    )
    with op.batch_alter_table("outreach_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outreach_messages_sequence_status", ["sequence_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outreach_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outreach_messages_sequence_status")

    op.drop_table("outreach_messages")
    with op.batch_alter_table("outreach_leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_leads_email"))

    op.drop_table("outreach_leads")
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_monitor_runs_monitor")

    op.drop_table("monitor_runs")
    op.drop_table("monitor_known")
    with op.batch_alter_table("outreach_sequences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_sequences_list_id"))

    op.drop_table("outreach_sequences")
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitors_session_id"))
        batch_op.drop_index("ix_monitors_due")

    op.drop_table("monitors")
    op.drop_table("suppressions")
