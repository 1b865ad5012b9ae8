"""covering indexes for the figures of every unit at once

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 00:30:00

The indexes on course start, course end and referral received (0005) are replaced by indexes
that also hold every column the period figures read, so a period over every unit is read from
the index alone; attendance gets one by session with the present flag. The column lists are written out here, not imported, so this revision stays
as it is whatever the models become.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COURSE_START_COVER = ['start', 'unit_id', 'form', 'wait_days', 'end', 'contact_person_id',
                      *(f'ors_{n}' for n in range(1, 21))]
COURSE_END_COVER = ['end', 'unit_id', 'duration_days', 'next_step', 'network_meetings', 'ors_count', 'ors_first',
                    'ors_last', 'start', 'form', 'contact_person_id', 'group_id']
REFERRAL_RECEIVED_COVER = ['received', 'unit_id', 'referrer', 'target_group', 'from_sel85']


def upgrade() -> None:
    op.create_index('ix_course_start_cover', 'course', COURSE_START_COVER)
    op.create_index('ix_course_end_cover', 'course', COURSE_END_COVER)
    op.create_index('ix_referral_received_cover', 'referral', REFERRAL_RECEIVED_COVER)
    op.create_index('ix_attendance_session_present', 'attendance', ['session_id', 'present'])
    op.drop_index('ix_course_start', table_name='course')
    op.drop_index('ix_course_end', table_name='course')
    op.drop_index('ix_referral_received', table_name='referral')


def downgrade() -> None:
    op.drop_index('ix_attendance_session_present', table_name='attendance')
    op.create_index('ix_referral_received', 'referral', ['received'])
    op.create_index('ix_course_end', 'course', ['end'])
    op.create_index('ix_course_start', 'course', ['start'])
    op.drop_index('ix_referral_received_cover', table_name='referral')
    op.drop_index('ix_course_end_cover', table_name='course')
    op.drop_index('ix_course_start_cover', table_name='course')
