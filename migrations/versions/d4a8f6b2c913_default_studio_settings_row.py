"""The studio settings row exists from the start, with the default rules

Revision ID: d4a8f6b2c913
Revises: c7d2e9f1a3b5
Create Date: 2026-11-26 11:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a8f6b2c913'
down_revision = 'c7d2e9f1a3b5'
branch_labels = None
depends_on = None

DEFAULT_ROW = (
    "INSERT INTO studio_settings (id, name, horizon, horizon_days, pending_expiry_hours, cancellation_window_hours) "
    "SELECT 1, 'The Studio', 'end_of_month', NULL, 4, 24 "
    "WHERE NOT EXISTS (SELECT 1 FROM studio_settings WHERE id = 1)"
)


def upgrade():
    op.execute(DEFAULT_ROW)


def downgrade():
    pass  # the row is harmless under the earlier schema, which also creates it on first use
