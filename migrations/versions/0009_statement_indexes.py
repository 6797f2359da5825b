"""statements: indexes to count one sender's month (events by type and moment, sends by channel and moment)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:00:00.000000
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_events_statement", "message_events", ["sender_id", "type", "at"])
    op.create_index("ix_notifications_statement", "notifications", ["channel", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_statement", table_name="notifications")
    op.drop_index("ix_message_events_statement", table_name="message_events")
