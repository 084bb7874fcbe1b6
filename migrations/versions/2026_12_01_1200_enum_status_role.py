"""Booking history rows name a known status, checked by the database like the bookings themselves

The status and role columns now use the domain's enums (stored by value, as before), so their CHECK
constraints are unchanged; the history's from/to statuses gain the same CHECK. No row is changed.

Revision ID: e5f7a9c1b3d2
Revises: d4a8f6b2c913
Create Date: 2026-12-01 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5f7a9c1b3d2'
down_revision = 'd4a8f6b2c913'
branch_labels = None
depends_on = None

# Frozen: the statuses as this revision knows them.
STATUSES = ('pending', 'confirmed', 'declined', 'expired', 'cancelled', 'completed', 'no_show')


def _in(column):
    return f"{column} IN ({', '.join(repr(s) for s in STATUSES)})"


def upgrade():
    with op.batch_alter_table('booking_changes', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_booking_changes_from_status_valid'), _in('from_status'))
        batch_op.create_check_constraint(op.f('ck_booking_changes_to_status_valid'), _in('to_status'))


def downgrade():
    with op.batch_alter_table('booking_changes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_changes_to_status_valid'), type_='check')
        batch_op.drop_constraint(op.f('ck_booking_changes_from_status_valid'), type_='check')
