"""Links sent to people: password reset, address change, invitation, personal booking page

Revision ID: acce55000001
Revises: 5e55105e0001
Create Date: 2026-12-03 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'acce55000001'
down_revision = '5e55105e0001'
branch_labels = None
depends_on = None

PURPOSES = ('password_reset', 'email_change', 'invitation', 'booking_page')


def upgrade():
    op.create_table(
        'access_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.Enum(*PURPOSES, name='link_purpose_valid', native_enum=False, length=20,
                                     create_constraint=True), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_links_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_access_links_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_access_links_token_hash')),
    )
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_links_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_access_links_purpose_email', ['purpose', 'email'], unique=False)


def downgrade():
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.drop_index('ix_access_links_purpose_email')
        batch_op.drop_index(batch_op.f('ix_access_links_user_id'))
    op.drop_table('access_links')
