"""course summaries (wait and duration days, network meetings, ORS count, first, last, last date and
the first 20 totals) and indexes for periods over every unit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:50:00

The new columns are filled from the existing rows by `fokus.summaries.rebuild`, in the
migration's own transaction, so an upgraded database gives exactly the figures it gave before.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlmodel import Session


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ORDINALS = 20


def upgrade() -> None:
    from fokus import summaries

    with op.batch_alter_table('course') as batch:
        batch.add_column(sa.Column('wait_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('duration_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('network_meetings', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('ors_count', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('ors_first', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('ors_last', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('ors_last_date', sa.Date(), nullable=True))
        for n in range(1, ORDINALS + 1):
            batch.add_column(sa.Column(f'ors_{n}', sa.Integer(), nullable=True))
        batch.create_index('ix_course_start', ['start'])
        batch.create_index('ix_course_end', ['end'])
    with op.batch_alter_table('referral') as batch:
        batch.create_index('ix_referral_unit_received', ['unit_id', 'received'])
        batch.create_index('ix_referral_unit_decided', ['unit_id', 'decided'])
        batch.create_index('ix_referral_received', ['received'])
        batch.create_index('ix_referral_decided', ['decided'])
    op.create_index('ix_networkmeeting_date', 'networkmeeting', ['date'])
    summaries.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_index('ix_networkmeeting_date', table_name='networkmeeting')
    with op.batch_alter_table('referral') as batch:
        for name in ('ix_referral_decided', 'ix_referral_received', 'ix_referral_unit_decided',
                     'ix_referral_unit_received'):
            batch.drop_index(name)
    with op.batch_alter_table('course') as batch:
        batch.drop_index('ix_course_end')
        batch.drop_index('ix_course_start')
        for n in range(ORDINALS, 0, -1):
            batch.drop_column(f'ors_{n}')
        for name in ('ors_last_date', 'ors_last', 'ors_first', 'ors_count', 'network_meetings', 'duration_days', 'wait_days'):
            batch.drop_column(name)
