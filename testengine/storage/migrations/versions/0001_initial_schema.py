"""Initial schema: item versions, candidates, forms, sittings, responses, results.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 17:44:33.290707
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('candidate_number')
    )
    op.create_table('item_versions',
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('item_id', 'version')
    )
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_versions_unit'), ['unit'], unique=False)

    op.create_table('forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('blueprint_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('total_marks', sa.Integer(), nullable=False),
    sa.Column('cut_score', sa.Integer(), nullable=False),
    sa.Column('pass_rule', sa.JSON(), nullable=False),
    sa.Column('expected_facility', sa.Float(), nullable=False),
    sa.Column('expected_seconds', sa.Integer(), nullable=False),
    sa.Column('exposure_relaxed', sa.JSON(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forms_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forms_unit'), ['unit'], unique=False)

    op.create_table('form_items',
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('learning_outcome', sa.Integer(), nullable=False),
    sa.Column('criterion', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('amplification', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('marks', sa.Integer(), nullable=False),
    sa.Column('item_set', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('premise_order', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], ),
    sa.ForeignKeyConstraint(['item_id', 'version'], ['item_versions.item_id', 'item_versions.version'], ),
    sa.PrimaryKeyConstraint('form_id', 'position')
    )
    with op.batch_alter_table('form_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_items_item_id'), ['item_id'], unique=False)

    op.create_table('sittings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('practice', sa.Boolean(), nullable=False),
    sa.Column('simulated', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], ),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('form_id')
    )
    with op.batch_alter_table('sittings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sittings_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sittings_unit'), ['unit'], unique=False)

    op.create_table('responses',
    sa.Column('sitting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sitting_id'], ['sittings.id'], ),
    sa.PrimaryKeyConstraint('sitting_id', 'position')
    )
    op.create_table('results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('maximum', sa.Integer(), nullable=False),
    sa.Column('cut_score', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('by_learning_outcome', sa.JSON(), nullable=False),
    sa.Column('by_criterion', sa.JSON(), nullable=False),
    sa.Column('item_scores', sa.JSON(), nullable=False),
    sa.Column('failed_hurdles', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('marked_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], ),
    sa.ForeignKeyConstraint(['sitting_id'], ['sittings.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['results.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_sitting_id'), ['sitting_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_sitting_id'))

    op.drop_table('results')
    op.drop_table('responses')
    with op.batch_alter_table('sittings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sittings_unit'))
        batch_op.drop_index(batch_op.f('ix_sittings_candidate_id'))

    op.drop_table('sittings')
    with op.batch_alter_table('form_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_items_item_id'))

    op.drop_table('form_items')
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forms_unit'))
        batch_op.drop_index(batch_op.f('ix_forms_candidate_id'))

    op.drop_table('forms')
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_versions_unit'))

    op.drop_table('item_versions')
    op.drop_table('candidates')
