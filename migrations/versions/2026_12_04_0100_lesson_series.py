"""Standing weekly lessons: the lesson_series table, bookings.series_id, and the studio's series maximum

Revision ID: 5e71e5000001
Revises: 57d000000001
Create Date: 2026-12-04 01:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5e71e5000001"
down_revision = "57d000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lesson_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=False),
        sa.Column("lesson_minutes", sa.Integer(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_lesson_series_weekday_iso")),
        sa.CheckConstraint(
            "lesson_minutes BETWEEN 5 AND 480", name=op.f("ck_lesson_series_lesson_minutes_range")
        ),
        sa.CheckConstraint("weeks >= 1", name=op.f("ck_lesson_series_weeks_positive")),
        sa.CheckConstraint("instructor_id <> student_id", name=op.f("ck_lesson_series_not_self")),
        sa.ForeignKeyConstraint(
            ["instructor_id"], ["users.id"], name=op.f("fk_lesson_series_instructor_id_users")
        ),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_lesson_series_student_id_users")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_lesson_series_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_series")),
    )
    op.create_index("ix_lesson_series_request_key", "lesson_series", ["request_key"], unique=False)
    op.create_index("ix_lesson_series_student_id", "lesson_series", ["student_id"], unique=False)
    op.create_index("ix_lesson_series_instructor_id", "lesson_series", ["instructor_id"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN keeps the bookings table (and its overlap and version triggers); batch mode would
        # rebuild it and drop them.
        op.execute(
            "ALTER TABLE bookings ADD COLUMN series_id INTEGER "
            "CONSTRAINT fk_bookings_series_id_lesson_series REFERENCES lesson_series (id)"
        )
        op.execute(
            "ALTER TABLE studio_settings ADD COLUMN series_max_weeks INTEGER NOT NULL DEFAULT '12' "
            "CONSTRAINT ck_studio_settings_series_max_weeks_range CHECK (series_max_weeks BETWEEN 0 AND 52)"
        )
    else:
        op.add_column("bookings", sa.Column("series_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_bookings_series_id_lesson_series"), "bookings", "lesson_series", ["series_id"], ["id"]
        )
        op.add_column(
            "studio_settings",
            sa.Column("series_max_weeks", sa.Integer(), server_default="12", nullable=False),
        )
        op.create_check_constraint(
            op.f("ck_studio_settings_series_max_weeks_range"),
            "studio_settings",
            "series_max_weeks BETWEEN 0 AND 52",
        )
    op.create_index("ix_bookings_series_id", "bookings", ["series_id"], unique=False)


def _triggers(table):
    return [
        row[0]
        for row in op.get_bind().execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}
        )
    ]


def downgrade():
    op.drop_index("ix_bookings_series_id", table_name="bookings")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode rebuilds the tables, which drops their triggers: put the same ones back.
        # A column with its own CHECK drops in place; one with a foreign key needs the rebuild.
        op.execute("ALTER TABLE studio_settings DROP COLUMN series_max_weeks")
        kept = _triggers("bookings")
        with op.batch_alter_table("bookings", schema=None) as batch_op:
            batch_op.drop_column("series_id")
        for sql in kept:
            op.execute(sql)
    else:
        op.drop_constraint(
            op.f("ck_studio_settings_series_max_weeks_range"), "studio_settings", type_="check"
        )
        op.drop_column("studio_settings", "series_max_weeks")
        op.drop_constraint(op.f("fk_bookings_series_id_lesson_series"), "bookings", type_="foreignkey")
        op.drop_column("bookings", "series_id")
    op.drop_index("ix_lesson_series_instructor_id", table_name="lesson_series")
    op.drop_index("ix_lesson_series_student_id", table_name="lesson_series")
    op.drop_index("ix_lesson_series_request_key", table_name="lesson_series")
    op.drop_table("lesson_series")
