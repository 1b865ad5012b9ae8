"""data change course: the one course whose rows a committed change wrote

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 17:00:00

A change that wrote the rows of one course alone (the course, its scores, its network meetings)
names that course, so the work list, kept by course (`fokus.db.kept_by_course`), reads only that
course again. Rows written before this revision name none: they count as changes of anything.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.add_column(sa.Column('course_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.drop_column('course_id')
