"""The full-text index of stored versions (storage/search.py): an FTS5 table on SQLite, a
tsvector column with a GIN index on PostgreSQL. Empty here; versions stored from now on are
indexed as they are stored, and `regwatch rebuild` indexes those stored before (issue 14).

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

from storage import search

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create(op.get_bind())


def downgrade() -> None:
    search.drop(op.get_bind())
