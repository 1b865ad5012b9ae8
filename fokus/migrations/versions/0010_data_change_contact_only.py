"""data change contact only: whether a committed change moved courses' contact people and nothing else read

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:00:00

A course handed to another contact person moves only the figures narrowed to contact people.
Overblik's other readings are kept across such saves on the newest change that is not contact
only (`fokus.db.data_version_until(..., contacts=False)`). Rows written before this revision
count as changes of anything.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.add_column(sa.Column('contact_only', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('datachange') as batch:
        batch.drop_column('contact_only')
