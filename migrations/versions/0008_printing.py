"""printing: the address register, print batches and a print record per letter asked to be printed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("bsn", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=100), nullable=False),
        sa.Column("house_number", sa.String(length=20), nullable=False),
        sa.Column("postal_code", sa.String(length=7), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bsn", name=op.f("pk_addresses")),
    )
    op.create_table(
        "print_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batches")),
    )
    op.create_table(
        "print_records",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["print_batches.id"], name=op.f("fk_print_records_batch_id_print_batches")
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"], ["mailboxes.id"], name=op.f("fk_print_records_mailbox_id_mailboxes")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_print_records_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_print_records")),
    )
    op.create_index("ix_print_records_batch_id", "print_records", ["batch_id"])
    op.create_index("ix_print_records_state", "print_records", ["state", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_print_records_state", table_name="print_records")
    op.drop_index("ix_print_records_batch_id", table_name="print_records")
    op.drop_table("print_records")
    op.drop_table("print_batches")
    op.drop_table("addresses")
