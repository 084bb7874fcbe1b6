"""Twenty writers racing for one slot leave exactly one booking, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from booking_app.extensions import db
from booking_app.models import Booking
from tests.conftest import utc

WRITERS = 20


def test_twenty_concurrent_writers_for_one_slot_produce_exactly_one_booking(app, users):
    teacher = users.make("instructor")
    students = [users.make("student") for _ in range(WRITERS)]
    student_ids = [s.id for s in students]
    teacher_id = teacher.id
    db.session.remove()
    barrier = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(student_id: int, index: int) -> None:
        with app.app_context():
            starts_at = utc(2030, 5, 6, 10, 0) + timedelta(minutes=index % 3 * 10)
            barrier.wait()
            try:
                db.session.add(Booking(
                    instructor_id=teacher_id, student_id=student_id, starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=1), status="pending", expires_at=starts_at,
                ))
                db.session.commit()
                result = "won"
            except DBAPIError as exc:  # IntegrityError (23P01 / trigger) or a deadlock (40P01)
                db.session.rollback()
                result = type(exc).__name__
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=write, args=(sid, i)) for i, sid in enumerate(student_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes) == WRITERS
    assert outcomes.count("won") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


GEVENT_SCRIPT = r'''
from gevent import monkey
monkey.patch_all()
import sys, gevent
from booking_app import create_app
from booking_app.extensions import db
from sqlalchemy import text

app = create_app({"TESTING": True, "SECRET_KEY": "gevent-sqlite-test-key", "REDIS_URL": sys.argv[2],
                  "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
                  "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 1, "check_same_thread": False}}})
order = []

def holder():
    with app.app_context():
        db.session.execute(text("INSERT INTO t (id, name) VALUES (1, 'Held')"))  # a write transaction is open...
        gevent.sleep(0.3)          # ...while this greenlet waits on I/O (Redis, the network)
        db.session.commit()
        order.append("holder committed")

def reader():
    with app.app_context():
        gevent.sleep(0.05)
        name = db.session.execute(text("SELECT name FROM t WHERE id = 1")).scalar_one()
        db.session.rollback()
        order.append("reader saw " + name)

with app.app_context():
    db.session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
    db.session.commit()
gevent.joinall([gevent.spawn(holder), gevent.spawn(reader)], raise_error=True)
print("|".join(order))
'''


def test_sqlite_transactions_wait_cooperatively_under_gevent(test_env, tmp_path):
    """Under gevent a second transaction waits for the first instead of freezing the worker in SQLite's busy loop."""
    script = tmp_path / "gevent_sqlite.py"
    script.write_text(GEVENT_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "g.sqlite"), test_env["redis_url"]],
        capture_output=True, text=True, cwd=str(tmp_path.parent), timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "holder committed|reader saw Held"
