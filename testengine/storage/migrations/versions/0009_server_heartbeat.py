"""The server heartbeat: when a server process last showed it was running.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 00:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'server_heartbeat',
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('server_heartbeat')
