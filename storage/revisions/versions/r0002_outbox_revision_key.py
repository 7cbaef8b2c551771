"""The outbox keyed by (digest, revision, channel, recipient): one message per revision of a
day's digest per channel and recipient (issue 13).

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Table, UniqueConstraint, inspect

from storage.revisions.versions import r0001_base

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

KEY = "outbox_message_key"
OLD_KEY = ("digest", "channel", "recipient")
NEW_KEY = ("digest", "revision", "channel", "recipient")


def _outbox(key: tuple[str, ...], name: str | None) -> Table:
    """The outbox as r0001 left it, with the unique key ``key`` (for a batch copy)."""
    table = r0001_base.frozen().tables["outbox"]  # a fresh copy: free to change
    for unique in [c for c in table.constraints if isinstance(c, UniqueConstraint)]:
        table.constraints.remove(unique)
    table.append_constraint(UniqueConstraint(*key, name=name))
    return table


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
    return list(inspect(op.get_bind()).get_unique_constraints("outbox"))


def upgrade() -> None:
    _rekey(OLD_KEY, NEW_KEY, KEY)


def downgrade() -> None:
    _rekey(NEW_KEY, OLD_KEY, None)
