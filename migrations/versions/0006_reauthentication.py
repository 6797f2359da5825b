"""web sessions: when the citizen last proved who they are (a full log-in, or the password again),
for the changes that ask for it recently

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions of before this revision have none: their first sensitive change asks for the password.
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.add_column(sa.Column("authenticated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.drop_column("authenticated_at")
