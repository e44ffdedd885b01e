"""The item bank in the database: item versions as written, item sets, the review trail, and
each unit's bank revision.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 00:20:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bank_items',
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('unit', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('item_id', 'version'),
    )
    with op.batch_alter_table('bank_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_items_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_items_unit'), ['unit'], unique=False)
    op.create_table(
        'bank_item_sets',
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('set_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('unit', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('scenario', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('set_id'),
    )
    with op.batch_alter_table('bank_item_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_item_sets_unit'), ['unit'], unique=False)
    op.create_table(
        'item_transitions',
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('item_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_transitions_item_id'), ['item_id'], unique=False)
    op.create_table(
        'bank_revisions',
        sa.Column('seeded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('unit', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('files_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('unit'),
    )


def downgrade() -> None:
    op.drop_table('bank_revisions')
    with op.batch_alter_table('item_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_transitions_item_id'))
    op.drop_table('item_transitions')
    with op.batch_alter_table('bank_item_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_item_sets_unit'))
    op.drop_table('bank_item_sets')
    with op.batch_alter_table('bank_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_items_unit'))
        batch_op.drop_index(batch_op.f('ix_bank_items_status'))
    op.drop_table('bank_items')
