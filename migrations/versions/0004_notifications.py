"""notifications: the record of sent notifications, reminder settings per message type, daily digest,
jobs claimed per kind

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OPEN = {"postgresql_where": sa.text("done_at IS NULL"), "sqlite_where": sa.text("done_at IS NULL")}


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_notifications_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "message_id", "reason", "channel", name=op.f("uq_notifications_message_id_reason_channel")
        ),
    )
    op.create_index("ix_notifications_reference", "notifications", ["channel", "reference"])
    op.create_table(
        "message_type_settings",
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("message_type", sa.String(length=100), nullable=False),
        sa.Column("unread_reminder_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["senders.id"], name=op.f("fk_message_type_settings_sender_id_senders")
        ),
        sa.PrimaryKeyConstraint("sender_id", "message_type", name=op.f("pk_message_type_settings")),
    )
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.add_column(
            sa.Column("daily_digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_index("ix_jobs_due", **_OPEN)
        batch_op.create_index("ix_jobs_kind_due", ["kind", "due_at"], unique=False, **_OPEN)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_index("ix_jobs_kind_due", **_OPEN)
        batch_op.create_index("ix_jobs_due", ["due_at"], unique=False, **_OPEN)
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("daily_digest")
    op.drop_table("message_type_settings")
    op.drop_index("ix_notifications_reference", table_name="notifications")
    op.drop_table("notifications")
