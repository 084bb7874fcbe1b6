"""Index bookings by start time for the owner's studio overview

Revision ID: c7d2e9f1a3b5
Revises: b5e1c0a7d2f4
Create Date: 2026-11-26 10:42:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7d2e9f1a3b5'
down_revision = 'b5e1c0a7d2f4'
branch_labels = None
depends_on = None


def upgrade():
    # The overview pages through all instructors' bookings newest first within a date range.
    op.create_index('ix_bookings_starts', 'bookings', ['starts_at'], unique=False)


def downgrade():
    op.drop_index('ix_bookings_starts', table_name='bookings')
