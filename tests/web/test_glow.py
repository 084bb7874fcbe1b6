"""A booking with unread messages glows on the instructor's schedule, and stops glowing once read."""

from __future__ import annotations

from datetime import timedelta

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange
from booking_app.services.messages import mark_read, send_message
from tests.conftest import utc

# The lessons below lie in March 2027; the clock stands a week before them so the tests never age.
BEFORE_THE_LESSONS = utc(2027, 3, 2, 9, 0)


def test_a_lesson_with_an_unread_message_glows_on_the_schedule_until_read(app, client, auth, users):
    app.config["FROZEN_NOW"] = BEFORE_THE_LESSONS
    teacher = users.make("instructor", timezone="Europe/London")
    student = users.make("student")
    start = utc(2027, 3, 9, 14, 0)
    booking = Booking(instructor_id=teacher.id, student_id=student.id, starts_at=start, ends_at=start + timedelta(hours=1),
                      status="confirmed", created_at=start - timedelta(days=2), expires_at=start - timedelta(days=1))
    db.session.add(booking)
    db.session.flush()
    db.session.add(BookingChange(booking_id=booking.id, actor_id=student.id, to_status="pending"))
    db.session.commit()
    send_message(booking, student, "Can we focus on cross-body lead?")
    auth.login(teacher)
    page = client.get("/schedule?view=week&date=2027-03-09").get_data(as_text=True)
    assert f'class="ev ev-confirmed glow" data-booking-id="{booking.id}"' in page
    mark_read(booking, teacher)
    page = client.get("/schedule?view=week&date=2027-03-09").get_data(as_text=True)
    assert f'class="ev ev-confirmed" data-booking-id="{booking.id}"' in page


def test_a_lesson_with_an_unread_message_glows_on_the_month_view(app, client, auth, users):
    app.config["FROZEN_NOW"] = BEFORE_THE_LESSONS
    teacher = users.make("instructor", timezone="Europe/London")
    student = users.make("student")
    start = utc(2027, 3, 9, 14, 0)
    booking = Booking(instructor_id=teacher.id, student_id=student.id, starts_at=start, ends_at=start + timedelta(hours=1),
                      status="pending", created_at=start - timedelta(days=2), expires_at=start)
    db.session.add(booking)
    db.session.commit()
    send_message(booking, student, "Is the studio on the second floor?")
    auth.login(teacher)
    page = client.get("/schedule?view=month&date=2027-03-01").get_data(as_text=True)
    assert f'class="lesson-mark mark-pending glow" data-booking-id="{booking.id}"' in page


def test_the_students_own_lessons_are_marked_on_the_book_calendar_and_glow_when_unread(app, client, auth, users):
    from booking_app.services import bookings
    from tests.booking_helpers import NOW, at, open_hours

    app.config["FROZEN_NOW"] = NOW
    teacher = users.make("instructor", name="Maria Alvarez")
    student = users.make("student", timezone="UTC")
    open_hours(teacher)
    booking = bookings.request_booking(student, teacher.id, at(5, 14)).booking
    auth.login(student)
    page = client.get(f"/book/{teacher.id}?month=2026-02").get_data(as_text=True)
    assert f'class="my-lesson my-pending" data-booking-id="{booking.id}"' in page
    assert "Your requested lesson with Maria Alvarez at 2:00 PM" in page
    send_message(booking, teacher, "See you Thursday!")
    page = client.get(f"/book/{teacher.id}?month=2026-02").get_data(as_text=True)
    assert f'class="my-lesson my-pending glow" data-booking-id="{booking.id}"' in page
