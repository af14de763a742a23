"""SMS: delivery reports on deliveries, and when a number last got the help reply to unknown text.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite cannot ALTER a table much; plain ADD COLUMN on PostgreSQL.
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("dlr_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("dlr_answer", sa.String(255), nullable=True))
        batch.add_column(sa.Column("dlr_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sms_help_replies",
        sa.Column("address", sa.String(20), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_sms_help_replies"),
    )


def downgrade() -> None:
    op.drop_table("sms_help_replies")
    with op.batch_alter_table("deliveries") as batch:
        for column in ("dlr_at", "dlr_answer", "dlr_status"):
            batch.drop_column(column)
