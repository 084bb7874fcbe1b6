"""Twenty writers racing for one slot leave exactly one booking, on both backends."""

from __future__ import annotations

import threading
from datetime import timedelta

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
