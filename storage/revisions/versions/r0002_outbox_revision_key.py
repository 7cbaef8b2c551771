"""The outbox keyed by (digest, revision, channel, recipient): one message per revision of a
day's digest per channel and recipient (issue 13).

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, UniqueConstraint

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

KEY = "outbox_message_key"
OLD_KEY = ("digest", "channel", "recipient")
NEW_KEY = ("digest", "revision", "channel", "recipient")


def _outbox(key: tuple[str, ...], name: str | None) -> Table:
    """The outbox as r0001 left it, with the unique key ``key`` (for a batch copy)."""
    return Table(
        "outbox",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("digest", String, nullable=False),
        Column("channel", String, nullable=False),
        Column("recipient", Text, nullable=False),
        Column("message_id", Text, nullable=False),
        Column("status", String, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt", String),
        Column("sent_at", String),
        Column("message_blob", String(64)),
        Column("subject", Text),
        Column("last_error", Text),
        Column("revision", Integer, nullable=False),
        Column("degraded", Boolean, nullable=False),
        Column("fingerprint", String(64)),
        Column("claimed_by", Text),
        UniqueConstraint(*key, name=name),
    )


def _rekey(old: tuple[str, ...], new: tuple[str, ...], new_name: str | None) -> None:
    if op.get_bind().dialect.name == "sqlite":  # no ALTER CONSTRAINT: copy the table
        with op.batch_alter_table("outbox", recreate="always", copy_from=_outbox(new, new_name)):
            pass
        return
    for unique in _uniques():
        if tuple(unique["column_names"]) == old:
            op.drop_constraint(unique["name"], "outbox", type_="unique")
    op.create_unique_constraint(
        new_name or "outbox_digest_channel_recipient_key", "outbox", list(new)
    )


def _uniques() -> list:
    from sqlalchemy import inspect

    return list(inspect(op.get_bind()).get_unique_constraints("outbox"))


def upgrade() -> None:
    _rekey(OLD_KEY, NEW_KEY, KEY)


def downgrade() -> None:
    _rekey(NEW_KEY, OLD_KEY, None)
