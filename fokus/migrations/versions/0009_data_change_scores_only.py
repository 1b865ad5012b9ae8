"""data change scores only: whether a committed change wrote ORS scores and nothing else read

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 07:00:00

Most saves are an ORS score. Overblik's readings that do not read scores (referrals, starts,
ends, the load, the groups) are kept across saves on the newest change that is not scores only
(`fokus.db.data_version_until(..., scores=False)`). Rows written before this revision count as
changes of anything.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.add_column(sa.Column('scores_only', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.drop_column('scores_only')
