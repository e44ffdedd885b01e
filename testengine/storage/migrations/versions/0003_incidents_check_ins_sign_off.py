"""Invigilator console: the incident log, browsers' check-ins, session sign-off; cleared answers as SQL NULL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:47:22.487959
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['exam_sessions.id'], ),
    sa.ForeignKeyConstraint(['sitting_id'], ['sittings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_session_id'), ['session_id'], unique=False)

    with op.batch_alter_table('exam_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_off_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        # Rows already there get the empty note and no unsent answers.
        batch_op.add_column(sa.Column('sign_off_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False, server_default=''))

    with op.batch_alter_table('sittings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unsent', sa.Integer(), nullable=False, server_default='0'))

    # Cleared answers were stored as JSON null; they are SQL NULL from now on.
    op.execute("UPDATE responses SET response = NULL WHERE CAST(response AS TEXT) = 'null'")



def downgrade() -> None:
    with op.batch_alter_table('sittings', schema=None) as batch_op:
        batch_op.drop_column('unsent')
        batch_op.drop_column('last_seen')

    with op.batch_alter_table('exam_sessions', schema=None) as batch_op:
        batch_op.drop_column('sign_off_note')
        batch_op.drop_column('signed_off_by')

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_session_id'))

    op.drop_table('incidents')
