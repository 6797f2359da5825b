"""citizen accounts, sessions, inbox state and search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 21:52:07.099813
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttles")),
    )
    op.create_table(
        "citizens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_key", sa.LargeBinary(), nullable=True),
        sa.Column("totp_kek_id", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sms_notifications", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["mailbox_id"], ["mailboxes.id"], name=op.f("fk_citizens_mailbox_id_mailboxes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizens")),
        sa.UniqueConstraint("mailbox_id", name=op.f("uq_citizens_mailbox_id")),
        sa.UniqueConstraint("username", name=op.f("uq_citizens_username")),
    )
    op.create_table(
        "folders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"], ["mailboxes.id"], name=op.f("fk_folders_mailbox_id_mailboxes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folders")),
        sa.UniqueConstraint("mailbox_id", "name", name=op.f("uq_folders_mailbox_id_name")),
    )
    op.create_table(
        "email_addresses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_email_addresses_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_addresses")),
        sa.UniqueConstraint("citizen_id", "address", name=op.f("uq_email_addresses_citizen_id_address")),
    )
    with op.batch_alter_table("email_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_addresses_citizen_id"), ["citizen_id"], unique=False)

    op.create_table(
        "inbox_items",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unread", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("folder_id", sa.Uuid(), nullable=True),
        sa.Column("binned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["folder_id"], ["folders.id"], name=op.f("fk_inbox_items_folder_id_folders")),
        sa.ForeignKeyConstraint(
            ["mailbox_id"], ["mailboxes.id"], name=op.f("fk_inbox_items_mailbox_id_mailboxes")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_inbox_items_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_inbox_items")),
    )
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_items_listing", ["mailbox_id", "binned_at", "delivered_at"], unique=False
        )

    op.create_table(
        "login_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_login_events_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("login_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_events_citizen_id"), ["citizen_id"], unique=False)

    op.create_table(
        "passkeys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_passkeys_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passkeys_citizen_id"), ["citizen_id"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("webauthn_challenge", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_web_sessions_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_citizen_id"), ["citizen_id"], unique=False)

    _create_search_index()


def _create_search_index() -> None:
    """The inbox search index: FTS5 on SQLite, a tsvector with the `dutch` configuration on PostgreSQL.

    Bodies are encrypted and never indexed: only subject, sender name, message type and the
    sender's reference are searchable.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE inbox_search USING fts5("
            "message_id UNINDEXED, mailbox_id UNINDEXED, subject, sender_name, message_type, reference, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        return
    op.execute(
        "CREATE TABLE inbox_search ("
        " message_id uuid PRIMARY KEY REFERENCES messages (id),"
        " mailbox_id uuid NOT NULL REFERENCES mailboxes (id),"
        " subject text NOT NULL, sender_name text NOT NULL,"
        " message_type text NOT NULL, reference text NOT NULL,"
        " document tsvector GENERATED ALWAYS AS ("
        "  setweight(to_tsvector('dutch', subject), 'A') ||"
        "  setweight(to_tsvector('dutch', sender_name), 'B') ||"
        "  to_tsvector('simple', message_type || ' ' || reference)) STORED)"
    )
    op.execute("CREATE INDEX ix_inbox_search_document ON inbox_search USING gin (document)")
    op.execute("CREATE INDEX ix_inbox_search_mailbox ON inbox_search (mailbox_id)")


def downgrade() -> None:
    op.execute("DROP TABLE inbox_search")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_citizen_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passkeys_citizen_id"))

    op.drop_table("passkeys")
    with op.batch_alter_table("login_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_events_citizen_id"))

    op.drop_table("login_events")
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_items_listing")

    op.drop_table("inbox_items")
    with op.batch_alter_table("email_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_addresses_citizen_id"))

    op.drop_table("email_addresses")
    op.drop_table("folders")
    op.drop_table("citizens")
    op.drop_table("throttles")
