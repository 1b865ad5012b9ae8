"""unit settings: the meeting screen's settings kept per unit

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 23:40:00

Until this revision the meeting screen's settings were installation-wide, so a leader of one unit
changed every unit's screen. Each unit may now hold its own values; the installation-wide ones
stay where they are and apply to every unit without its own, so nothing changes at the upgrade.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('unitsetting',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unitsetting_unit_id_unit')),
    sa.PrimaryKeyConstraint('unit_id', 'key', name=op.f('pk_unitsetting'))
    )


def downgrade() -> None:
    op.drop_table('unitsetting')
