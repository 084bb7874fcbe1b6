"""Each instructor's notes and colours for their students, and lesson notes (a summary and a private note) with their history

Revision ID: 57d000000001
Revises: acc0e1100001
Create Date: 2026-12-04 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '57d000000001'
down_revision = 'acc0e1100001'
branch_labels = None
depends_on = None

# The palette as it stood when this migration was written (booking_app/domain/students.py COLOURS).
COLOURS = ('blue', 'green', 'purple', 'orange', 'pink', 'teal', 'brown', 'grey')


def upgrade():
    # Added in place (no table rebuild on SQLite), so the bookings triggers stay as they are.
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lesson_summary', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('private_note', sa.Text(), server_default='', nullable=False))
    palette = ', '.join(f"'{c}'" for c in COLOURS)
    op.create_table(
        'student_notes',
        sa.Column('instructor_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('colour', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f'colour IS NULL OR colour IN ({palette})',
                           name=op.f('ck_student_notes_colour_in_palette')),
        sa.CheckConstraint('length(note) <= 2000', name=op.f('ck_student_notes_note_length')),
        sa.ForeignKeyConstraint(['instructor_id'], ['users.id'], name=op.f('fk_student_notes_instructor_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_student_notes_student_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instructor_id', 'student_id', name=op.f('pk_student_notes')),
    )
    with op.batch_alter_table('student_notes', schema=None) as batch_op:
        batch_op.create_index('ix_student_notes_student_id', ['student_id'], unique=False)
    op.create_table(
        'lesson_note_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('field', sa.String(length=20), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("field IN ('summary', 'private_note')", name=op.f('ck_lesson_note_changes_field_valid')),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_lesson_note_changes_booking_id_bookings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_lesson_note_changes_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_note_changes')),
    )
    with op.batch_alter_table('lesson_note_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_note_changes_booking_id'), ['booking_id'], unique=False)


def downgrade():
    with op.batch_alter_table('lesson_note_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_note_changes_booking_id'))
    op.drop_table('lesson_note_changes')
    with op.batch_alter_table('student_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_student_notes_student_id')
    op.drop_table('student_notes')
    # Dropping columns rebuilds the table on SQLite, which drops its triggers: drop them without a rebuild where
    # the database can (SQLite 3.35+), as the triggers must survive.
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute('ALTER TABLE bookings DROP COLUMN private_note')
        op.execute('ALTER TABLE bookings DROP COLUMN lesson_summary')
    else:
        with op.batch_alter_table('bookings', schema=None) as batch_op:
            batch_op.drop_column('private_note')
            batch_op.drop_column('lesson_summary')
