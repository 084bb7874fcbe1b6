"""One Alembic history matches the models, and upgrades and downgrades cleanly on the current backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from booking_app import create_app
from booking_app.extensions import db

OVERLAP_TRIGGERS = {"trg_bookings_no_overlap_insert", "trg_bookings_no_overlap_update"}


def _is_overlap_guard(diff: object) -> bool:
    # Alembic cannot compare the hand-written exclusion constraint; it is checked by name below instead.
    return "ex_bookings_no_overlap" in repr(diff)


def test_autogenerate_finds_no_difference_between_models_and_migrations(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diffs = [d for d in compare_metadata(context, db.metadata) if not _is_overlap_guard(d)]
    assert diffs == []


def test_the_database_has_its_overlap_guard(app, backend):
    with db.engine.connect() as conn:
        if backend == "postgresql":
            found = conn.execute(sa.text(
                "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ex_bookings_no_overlap'"
            )).one()
            assert found[0] == "x"  # an exclusion constraint
            assert "tstzrange(starts_at, ends_at) WITH &&" in found[1]
            assert "'pending'" in found[1] and "'confirmed'" in found[1]
        else:
            names = set(conn.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bookings'")).scalars())
            assert {n.lower() for n in names} >= OVERLAP_TRIGGERS


@pytest.fixture
def scratch_database_url(test_env, backend, tmp_path: Path) -> Iterator[str]:
    """An empty database on the backend under test, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(test_env["database_url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(test_env["database_url"]).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_round_trips_on_an_empty_database(test_env, scratch_database_url):
    scratch = create_app({
        "TESTING": True, "SECRET_KEY": "scratch-key-for-migration-tests", "SQLALCHEMY_DATABASE_URI": scratch_database_url,
        "REDIS_URL": test_env["redis_url"],
    })
    expected = {t.name for t in db.metadata.sorted_tables}
    with scratch.app_context():
        try:
            upgrade()
            assert _tables(db.engine) == expected
            downgrade(revision="base")
            assert _tables(db.engine) == set()
            upgrade()
            assert _tables(db.engine) == expected
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert [d for d in compare_metadata(context, db.metadata) if not _is_overlap_guard(d)] == []
        finally:
            db.session.remove()
            db.engine.dispose()
