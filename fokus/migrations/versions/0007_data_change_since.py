"""data change since: the earliest day a committed change can move a figure of

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 03:30:00

Overblik compares every figure with the previous period; a save of today's work cannot move
that period's figures, so they are cached on the newest change that reaches back into it
(`fokus.db.data_version_until`). Rows written before this revision have no day: they may
have touched any, as a change that cannot name its earliest day does.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.add_column(sa.Column('since', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.drop_column('since')
