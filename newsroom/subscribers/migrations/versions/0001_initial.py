"""Subscribers, subscriptions, consent log, suppressions, notifications and deliveries.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def when(name: str, nullable: bool = False) -> sa.Column[Any]:
    column: sa.Column[Any] = sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)
    return column


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        when("created_at"),
        when("confirmed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("email", name="uq_subscribers_email"),
        sa.UniqueConstraint("phone", name="uq_subscribers_phone"),
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="ck_subscribers_has_address"),
        sa.CheckConstraint("status IN ('pending', 'active', 'unsubscribed')", name="ck_subscribers_status"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("all_topics", sa.Boolean(), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            ondelete="CASCADE",
            name="fk_subscriptions_subscriber_id_subscribers",
        ),
        sa.UniqueConstraint("subscriber_id", "channel", name="uq_subscriptions_subscriber_id_channel"),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_subscriptions_channel"),
        sa.CheckConstraint(
            "frequency IN ('immediate', 'daily', 'weekly')", name="ck_subscriptions_frequency"
        ),
    )
    op.create_table(
        "subscription_topics",
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "topic", name="pk_subscription_topics"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            ondelete="CASCADE",
            name="fk_subscription_topics_subscription_id_subscriptions",
        ),
    )
    op.create_index("ix_subscription_topics_topic", "subscription_topics", ["topic"])
    op.create_table(
        "consent_log",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", ID, nullable=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        when("at"),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_log"),
    )
    op.create_index("ix_consent_log_subscriber_id", "consent_log", ["subscriber_id"])
    op.create_index("ix_consent_log_address", "consent_log", ["address"])
    op.create_table(
        "suppressions",
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        when("at"),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_suppressions"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("key", name="uq_notifications_key"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("notification_id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        when("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        when("claimed_at", nullable=True),
        when("sent_at", nullable=True),
        sa.Column("provider_id", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            ondelete="CASCADE",
            name="fk_deliveries_notification_id_notifications",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            ondelete="CASCADE",
            name="fk_deliveries_subscriber_id_subscribers",
        ),
        sa.UniqueConstraint(
            "notification_id",
            "subscriber_id",
            "channel",
            name="uq_deliveries_notification_id_subscriber_id_channel",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')", name="ck_deliveries_status"
        ),
    )
    open_rows = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["status", "next_attempt_at"],
        sqlite_where=open_rows,
        postgresql_where=open_rows,
    )
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])
    _forbid_consent_rewrites()


def _forbid_consent_rewrites() -> None:
    """The consent log is append-only: the database itself refuses UPDATE and DELETE on it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION consent_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'consent_log is append-only: % is not allowed', TG_OP;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER consent_log_append_only BEFORE UPDATE OR DELETE ON consent_log "
            "FOR EACH ROW EXECUTE FUNCTION consent_log_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER consent_log_no_{action.lower()} BEFORE {action} ON consent_log "
                f"BEGIN SELECT RAISE(ABORT, 'consent_log is append-only: {action} is not allowed'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_log_append_only ON consent_log")
        op.execute("DROP FUNCTION IF EXISTS consent_log_append_only()")
    for table in (
        "deliveries",
        "notifications",
        "suppressions",
        "consent_log",
        "subscription_topics",
        "subscriptions",
        "subscribers",
    ):
        op.drop_table(table)
