"""job failures: failed runs counted per job, parked (dead-letter) jobs, an index of failing jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _where(condition: str) -> dict:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


_OLD_OPEN = _where("done_at IS NULL")
_OPEN = _where("done_at IS NULL AND parked_at IS NULL")
_FAILING = _where("done_at IS NULL AND failures > 0")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index("ix_jobs_kind_due", **_OLD_OPEN)
        batch_op.create_index("ix_jobs_kind_due", ["kind", "due_at"], unique=False, **_OPEN)
        batch_op.create_index("ix_jobs_failing", ["id"], unique=False, **_FAILING)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_index("ix_jobs_failing", **_FAILING)
        batch_op.drop_index("ix_jobs_kind_due", **_OPEN)
        batch_op.create_index("ix_jobs_kind_due", ["kind", "due_at"], unique=False, **_OLD_OPEN)
        batch_op.drop_column("parked_at")
        batch_op.drop_column("failures")
