"""Analysts' decisions on items (review, retire, key corrections) and item calibrations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:19:30.593483
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('item_calibrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('facility', sa.Float(), nullable=False),
    sa.Column('difficulty', sa.Float(), nullable=True),
    sa.Column('calibrated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run', 'item_id', 'version')
    )
    with op.batch_alter_table('item_calibrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_calibrations_run'), ['run'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_calibrations_unit'), ['unit'], unique=False)

    op.create_table('item_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('item_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_decisions_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_decisions_unit'), ['unit'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('item_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_decisions_unit'))
        batch_op.drop_index(batch_op.f('ix_item_decisions_item_id'))

    op.drop_table('item_decisions')
    with op.batch_alter_table('item_calibrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_calibrations_unit'))
        batch_op.drop_index(batch_op.f('ix_item_calibrations_run'))

    op.drop_table('item_calibrations')
