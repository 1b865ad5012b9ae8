"""group session attendance counts: the attendance registered at each session and how much present

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 04:10:00

Overblik's group chart reads a period's attendance; from the attendance rows that is every
member of every session (about 190,000 rows a year for 100 units). Each session now carries
its two counts, kept with its attendance rows in the same transaction
(`fokus.summaries.refresh_sessions`). They are filled here from the rows already there, in SQL
written out in this file, so this revision stays as it is whatever the code becomes.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('groupsession') as batch:
        batch.add_column(sa.Column('present_count', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('registered_count', sa.Integer(), nullable=False, server_default='0'))
    op.execute(
        'UPDATE groupsession SET '
        'present_count = (SELECT count(*) FROM attendance '
        'WHERE attendance.session_id = groupsession.id AND attendance.present), '
        'registered_count = (SELECT count(*) FROM attendance WHERE attendance.session_id = groupsession.id)'
    )


def downgrade() -> None:
    with op.batch_alter_table('groupsession') as batch:
        batch.drop_column('registered_count')
        batch.drop_column('present_count')
