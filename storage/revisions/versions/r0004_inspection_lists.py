"""The Public Inspection lists as fetched (the intraday poll, issue 15): which documents each
whole list held, so that a filing is called withdrawn only when a later complete list lacks
it. Empty here; lists are kept from now on. And where each version's payloads were fetched
(``versions.fetched_from``, issue 15's provenance): {} for the versions stored before.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_lists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("day", sa.String, nullable=False),
        sa.Column("at", sa.String, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("numbers", sa.Text, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
    )
    op.create_index("inspection_lists_query", "inspection_lists", ["query", "id"])
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("fetched_from", sa.Text, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("fetched_from")
    op.drop_index("inspection_lists_query", "inspection_lists")
    op.drop_table("inspection_lists")
