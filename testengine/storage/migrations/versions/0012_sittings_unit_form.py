"""An index for exposure control: a Start reads the unit's most recent forms.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 02:40:00.000000
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_sittings_unit_form', 'sittings', ['unit', 'form_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sittings_unit_form', table_name='sittings')
