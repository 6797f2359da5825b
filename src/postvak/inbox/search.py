"""Inbox search behind one interface: SQLite FTS5, or PostgreSQL full-text search (`dutch`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    Table,
    Text,
    Uuid,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

# Migration 0002 makes the table (an FTS5 virtual table on SQLite), so it stays out of the models'
# metadata; this description only serves the queries.
inbox_search = Table(
    "inbox_search",
    MetaData(),
    Column("message_id", Uuid),
    Column("mailbox_id", Uuid),
    Column("subject", Text),
    Column("sender_name", Text),
    Column("message_type", Text),
    Column("reference", Text),
)


class SearchIndex(Protocol):
    """Subject, sender name, message type and reference of each message; never the (encrypted) body.

    A message matches when every word the citizen typed starts a word in one of those fields.
    """

    def add(self, session: Session, rows: Sequence[dict]) -> None:
        """Index messages: rows with message_id, mailbox_id, subject, sender_name, message_type, reference."""

    def matching(self, mailbox_id: uuid.UUID, words: Sequence[str]) -> Select:
        """The ids of the mailbox's matching messages; `words` come from rules.search_words."""


class _Index:
    def add(self, session: Session, rows: Sequence[dict]) -> None:
        if rows:
            session.execute(inbox_search.insert(), list(rows))

    def matching(self, mailbox_id: uuid.UUID, words: Sequence[str]) -> Select:
        return select(inbox_search.c.message_id).where(
            inbox_search.c.mailbox_id == mailbox_id, self._condition(words)
        )

    def _condition(self, words: Sequence[str]) -> ColumnElement[bool]:
        raise NotImplementedError


class Fts5Index(_Index):
    """SQLite: each word becomes a quoted prefix term, `"word"*`; terms side by side must all match."""

    def _condition(self, words: Sequence[str]) -> ColumnElement[bool]:
        return literal_column("inbox_search").op("MATCH")(fts5_expression(words))


class PostgresIndex(_Index):
    """PostgreSQL: each word as a prefix, stemmed (`dutch`) or as written (`simple`: references,
    message types), ANDed over the words, against the generated `document` tsvector."""

    def _condition(self, words: Sequence[str]) -> ColumnElement[bool]:
        query = None
        for word in words:
            term = _prefix_query("dutch", word).op("||")(_prefix_query("simple", word))
            query = term if query is None else query.op("&&")(term)
        return literal_column("inbox_search.document").op("@@")(query)


def _prefix_query(config: str, word: str) -> ColumnElement:
    # `word` holds letters and digits only (rules.search_words), so `word:*` is always one valid
    # prefix operand and no tsquery operator can come from the citizen; it is bound, never inlined.
    return func.to_tsquery(config, f"{word}:*")


def fts5_expression(words: Sequence[str]) -> str:
    """`"word1"* "word2"*`: quoted, so FTS5 keywords (AND, NEAR) and column filters stay plain words."""
    return " ".join(f'"{word}"*' for word in words)


def index_for(session: Session) -> SearchIndex:
    return PostgresIndex() if session.get_bind().dialect.name == "postgresql" else Fts5Index()
