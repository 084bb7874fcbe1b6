"""Schedule versions: counters per instructor, bumped by the database with every change to what slots depend on

Revision ID: acc0e1100001
Revises: acc0d1100001
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'acc0e1100001'
down_revision = 'acc0d1100001'
branch_labels = None
depends_on = None

# (table, the column naming the instructor, the counter it bumps, the columns whose change matters on UPDATE)
WATCHED = [
    ("weekly_windows", "instructor_id", "version", None),
    ("one_time_windows", "instructor_id", "version", None),
    ("blocks", "instructor_id", "version", None),
    ("instructor_settings", "user_id", "version", None),
    ("users", "id", "version", ("timezone", "role", "active")),
    ("bookings", "instructor_id", "busy_version", ("status", "starts_at", "ends_at", "expires_at", "instructor_id")),
]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_schedule_version() RETURNS trigger AS $$
DECLARE
    new_id integer;
    old_id integer;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        new_id := (to_jsonb(NEW) ->> TG_ARGV[0])::integer;
        IF TG_ARGV[1] = 'busy_version' THEN
            INSERT INTO schedule_versions (instructor_id, version, busy_version, token)
            VALUES (new_id, 1, 1, substr(md5(random()::text || clock_timestamp()::text), 1, 16))
            ON CONFLICT (instructor_id) DO UPDATE SET busy_version = schedule_versions.busy_version + 1;
        ELSE
            INSERT INTO schedule_versions (instructor_id, version, busy_version, token)
            VALUES (new_id, 1, 1, substr(md5(random()::text || clock_timestamp()::text), 1, 16))
            ON CONFLICT (instructor_id) DO UPDATE SET version = schedule_versions.version + 1;
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_id := (to_jsonb(OLD) ->> TG_ARGV[0])::integer;
        IF old_id IS DISTINCT FROM new_id THEN
            INSERT INTO schedule_versions (instructor_id, version, busy_version, token)
            VALUES (old_id, 1, 1, substr(md5(random()::text || clock_timestamp()::text), 1, 16))
            ON CONFLICT (instructor_id) DO UPDATE
            SET version = schedule_versions.version + 1, busy_version = schedule_versions.busy_version + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _sqlite_bump(ref: str, counter: str) -> str:
    return (
        f"INSERT INTO schedule_versions (instructor_id, version, busy_version, token) "
        f"VALUES ({ref}, 1, 1, lower(hex(randomblob(8)))) "
        f"ON CONFLICT (instructor_id) DO UPDATE SET {counter} = {counter} + 1;"
    )


def upgrade():
    op.create_table(
        'schedule_versions',
        sa.Column('instructor_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('busy_version', sa.BigInteger(), nullable=False),
        sa.Column('token', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('instructor_id', name=op.f('pk_schedule_versions')),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(PG_FUNCTION)
        op.execute(
            "INSERT INTO schedule_versions (instructor_id, version, busy_version, token) "
            "SELECT id, 1, 1, substr(md5(random()::text || id::text), 1, 16) FROM users"
        )
    else:
        op.execute(
            "INSERT INTO schedule_versions (instructor_id, version, busy_version, token) "
            "SELECT id, 1, 1, lower(hex(randomblob(8))) FROM users"
        )
    for table, column, counter, columns in WATCHED:
        for action in ("INSERT", "UPDATE", "DELETE"):
            name = f"trg_{table}_schedule_version_{action.lower()}"
            of = f" OF {', '.join(columns)}" if action == "UPDATE" and columns else ""
            if postgres:
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {action}{of} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION bump_schedule_version('{column}', '{counter}')"
                )
                continue
            body = []
            if action != "DELETE":
                body.append(_sqlite_bump(f"NEW.{column}", counter))
            if action == "DELETE":
                body.append(_sqlite_bump(f"OLD.{column}", counter))
            when = f" WHEN OLD.{column} IS NOT NEW.{column}" if action == "UPDATE" else ""
            op.execute(f"CREATE TRIGGER {name} AFTER {action}{of} ON {table} FOR EACH ROW BEGIN {' '.join(body)} END")
            if action == "UPDATE":
                # The row moved to another instructor: the old one's schedule changed too.
                op.execute(
                    f"CREATE TRIGGER {name}_old AFTER UPDATE{of} ON {table} FOR EACH ROW{when} "
                    f"BEGIN {_sqlite_bump(f'OLD.{column}', counter)} END"
                )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _column, _counter, _columns in WATCHED:
        for action in ("insert", "update", "delete"):
            name = f"trg_{table}_schedule_version_{action}"
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
                op.execute(f"DROP TRIGGER IF EXISTS {name}_old")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS bump_schedule_version()")
    op.drop_table('schedule_versions')
