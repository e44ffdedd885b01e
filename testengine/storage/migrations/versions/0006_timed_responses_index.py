"""A partial index on the answers that carry a reported time, for the response-time medians.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:37:18.291011
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_timed', ['sitting_id'], unique=False, sqlite_where=sa.text('seconds IS NOT NULL'), postgresql_where=sa.text('seconds IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_timed', sqlite_where=sa.text('seconds IS NOT NULL'), postgresql_where=sa.text('seconds IS NOT NULL'))

