"""Email preferences and the private calendar feed token on users

Revision ID: b5e1c0a7d2f4
Revises: 3b7241b190e7
Create Date: 2026-11-26 10:12:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5e1c0a7d2f4'
down_revision = '3b7241b190e7'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table rebuild) so SQLite keeps the rows that reference users.
    op.add_column('users', sa.Column('email_opt_out', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('users', sa.Column('feed_token', sa.String(length=64), nullable=True))
    op.create_index('ix_users_feed_token', 'users', ['feed_token'], unique=True)


def downgrade():
    op.drop_index('ix_users_feed_token', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('feed_token')
        batch_op.drop_column('email_opt_out')
