"""Mail: SMTP and outbox delivery, invitations, preferences, batching of messages, reminders, the calendar feed."""

from __future__ import annotations

import email
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from icalendar import Calendar

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange, Effect, Message, MessageRead
from booking_app.services import effects, mail
from booking_app.services.maintenance import sweep
from tests.conftest import count, utc

NOW = utc(2027, 3, 10, 12, 0)


@pytest.fixture
def lesson(app, users):
    """A confirmed lesson: New York instructor, Berlin student, across New York's DST change (14 Mar 2027)."""
    app.config["FROZEN_NOW"] = NOW
    teacher = users.make("instructor", name="Maria Alvarez", timezone="America/New_York")
    student = users.make("student", name="Sam Lee", timezone="Europe/Berlin")
    booking = Booking(
        instructor_id=teacher.id, student_id=student.id, starts_at=utc(2027, 3, 16, 18, 0), ends_at=utc(2027, 3, 16, 19, 0),
        status="confirmed", notes="<b>bring shoes</b>", created_at=NOW - timedelta(hours=3), expires_at=NOW + timedelta(hours=1),
    )
    db.session.add(booking)
    db.session.flush()
    db.session.add(BookingChange(booking_id=booking.id, actor_id=student.id, to_status="pending", at=NOW - timedelta(hours=3)))
    db.session.add(BookingChange(booking_id=booking.id, actor_id=teacher.id, from_status="pending", to_status="confirmed", at=NOW))
    db.session.commit()
    return booking


def _queue(user_id: int, template: str, booking_id: int) -> None:
    mail.queue_mail(user_id, template, booking_id)
    db.session.commit()


def test_a_confirmation_arrives_by_smtp_with_local_times_and_an_invitation(app, inbox, lesson):
    _queue(lesson.student_id, "booking_confirmed", lesson.id)
    assert effects.run_due(NOW) == 1
    [received] = inbox.messages
    assert received["To"] == "Sam Lee <student2@example.test>"
    # 18:00 UTC on 16 Mar 2027 is 19:00 in Berlin (CET) — New York is already on EDT then.
    assert received["Subject"] == "Confirmed: your lesson with Maria Alvarez on Tue 16 Mar, 7:00 PM CET"
    text = received.get_body(("plain",)).get_content()
    assert "Tue 16 Mar, 7:00 PM CET – Tue 16 Mar, 8:00 PM CET" in text
    assert f"/bookings/{lesson.id}" in text
    html = received.get_body(("html",)).get_content()
    assert "Open the booking" in html
    [attachment] = [part for part in received.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == lesson.starts_at
    assert event.decoded("DTEND") == lesson.ends_at
    assert str(event["UID"]) == f"booking-{lesson.id}@booking-app"


def test_a_cancellation_carries_a_cancel_with_the_same_uid_and_a_higher_sequence(app, inbox, lesson):
    _queue(lesson.student_id, "booking_confirmed", lesson.id)
    effects.run_due(NOW)
    lesson.status = "cancelled"
    db.session.add(BookingChange(booking_id=lesson.id, actor_id=lesson.instructor_id, from_status="confirmed", to_status="cancelled", at=NOW))
    db.session.commit()
    _queue(lesson.student_id, "booking_cancelled", lesson.id)
    effects.run_due(NOW)
    first, second = (
        Calendar.from_ical(next(m.iter_attachments()).get_content()).walk("VEVENT")[0] for m in inbox.messages
    )
    assert second["UID"] == first["UID"]
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(second["STATUS"]) == "CANCELLED"


def test_the_html_part_escapes_what_people_typed(app, inbox, lesson):
    lesson.status = "pending"  # a request mail is only sent while the request is open
    _queue(lesson.instructor_id, "request_received", lesson.id)
    effects.run_due(NOW)
    html = inbox.messages[0].get_body(("html",)).get_content()
    assert "&lt;b&gt;bring shoes&lt;/b&gt;" in html
    assert "<b>bring shoes</b>" not in html


def test_a_mail_is_sent_once_even_if_its_job_runs_twice(app, inbox, lesson):
    _queue(lesson.student_id, "booking_confirmed", lesson.id)
    effect_id = db.session.query(Effect.id).scalar()
    assert effects.run_effect(effect_id, NOW) is True
    assert effects.run_effect(effect_id, NOW) is False
    assert len(inbox.messages) == 1


def test_without_smtp_mails_are_written_to_the_outbox(app, lesson, tmp_path):
    app.config.update(SMTP_HOST=None, OUTBOX_DIR=str(tmp_path / "outbox"))
    _queue(lesson.student_id, "booking_confirmed", lesson.id)
    effects.run_due(NOW)
    [path] = list((tmp_path / "outbox").iterdir())
    saved = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert saved["Subject"].startswith("Confirmed: your lesson with Maria Alvarez")


def test_a_user_who_switched_a_kind_off_gets_no_such_mail(app, inbox, lesson):
    student = lesson.student
    mail.set_preferences(student, {"requests", "messages", "reminders", "lesson_notes"})
    _queue(student.id, "booking_confirmed", lesson.id)
    effects.run_due(NOW)
    assert inbox.messages == []
    assert student.email_opt_out == ["decisions"]


def test_messages_are_batched_into_one_mail_per_thread_per_ten_minutes(app, inbox, lesson):
    for minute, body in ((0, "First line"), (1, "Second line")):
        db.session.add(Message(booking_id=lesson.id, sender_id=lesson.instructor_id, body=body, created_at=NOW + timedelta(minutes=minute)))
        mail.queue_message_mail(lesson.id, lesson.student_id, now=NOW + timedelta(minutes=minute))
        db.session.commit()
    assert count(Effect, Effect.kind == "mail") == 1
    assert effects.run_due(NOW + timedelta(minutes=1)) == 0  # not due yet: the batch waits a little
    effects.run_due(NOW + timedelta(minutes=3))
    [received] = inbox.messages
    text = received.get_body(("plain",)).get_content()
    assert '"First line"' in text and '"Second line"' in text
    # A third line four minutes later waits until ten minutes after the first mail.
    mail.queue_message_mail(lesson.id, lesson.student_id, now=NOW + timedelta(minutes=4))
    db.session.commit()
    later = db.session.query(Effect).order_by(Effect.id.desc()).first()
    assert later.due_at == NOW + timedelta(minutes=12)


def test_no_message_mail_when_the_thread_was_read_meanwhile(app, inbox, lesson):
    msg = Message(booking_id=lesson.id, sender_id=lesson.instructor_id, body="See you", created_at=NOW)
    db.session.add(msg)
    db.session.flush()
    mail.queue_message_mail(lesson.id, lesson.student_id, now=NOW)
    db.session.add(MessageRead(user_id=lesson.student_id, booking_id=lesson.id, last_read_message_id=msg.id, read_at=NOW))
    db.session.commit()
    effects.run_due(NOW + timedelta(minutes=5))
    assert inbox.messages == []


def test_reminders_go_out_24_hours_and_1_hour_before_to_both_people_once(app, inbox, lesson):
    app.config["FROZEN_NOW"] = lesson.starts_at - timedelta(hours=30)
    assert sweep(app.config["FROZEN_NOW"])["reminders"] == 0
    day_before = lesson.starts_at - timedelta(hours=23, minutes=59)
    assert sweep(day_before)["reminders"] == 2
    assert sweep(day_before + timedelta(minutes=1))["reminders"] == 0  # once only
    hour_before = lesson.starts_at - timedelta(minutes=59)
    assert sweep(hour_before)["reminders"] == 2
    subjects = sorted(str(m["Subject"]).strip() for m in inbox.messages)
    assert len(subjects) == 4
    assert sum(s.startswith("Tomorrow:") for s in subjects) == 2
    assert sum(s.startswith("In one hour:") for s in subjects) == 2
    assert "at Tue 16 Mar, 2:00 PM EDT" in " ".join(subjects)  # the New York instructor's copy


def test_the_calendar_feed_lists_pending_and_confirmed_lessons_and_can_be_revoked(app, client, auth, lesson):
    pending = Booking(instructor_id=lesson.instructor_id, student_id=lesson.student_id, starts_at=utc(2027, 3, 18, 18, 0),
                      ends_at=utc(2027, 3, 18, 19, 0), status="pending", created_at=NOW, expires_at=NOW + timedelta(hours=4))
    declined = Booking(instructor_id=lesson.instructor_id, student_id=lesson.student_id, starts_at=utc(2027, 3, 19, 18, 0),
                       ends_at=utc(2027, 3, 19, 19, 0), status="declined", created_at=NOW, expires_at=NOW + timedelta(hours=4))
    db.session.add_all([pending, declined])
    db.session.commit()
    auth.login(lesson.instructor)
    client.post("/profile/feed", data={"action": "enable"})
    token = lesson.instructor.feed_token
    assert token and token in client.get("/profile").get_data(as_text=True)
    response = client.get(f"/calendar/{token}.ics")
    assert response.mimetype == "text/calendar"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    by_start = {e.decoded("DTSTART"): e for e in events}
    assert set(by_start) == {lesson.starts_at, pending.starts_at}
    assert str(by_start[lesson.starts_at]["STATUS"]) == "CONFIRMED"
    assert str(by_start[pending.starts_at]["STATUS"]) == "TENTATIVE"
    assert "Sam Lee" in str(by_start[lesson.starts_at]["SUMMARY"])  # the instructor sees the student's name
    client.post("/profile/feed", data={"action": "revoke"})
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_feed_imports_into_an_independent_ical_parser(app, client, auth, lesson):
    import ics  # the ics.py project: a separate RFC 5545 parser, not the library that wrote the feed

    auth.login(lesson.student)
    client.post("/profile/feed", data={"action": "enable"})
    text = client.get(f"/calendar/{lesson.student.feed_token}.ics").get_data(as_text=True)
    [event] = ics.Calendar(text).events
    assert event.begin.datetime == lesson.starts_at
    assert event.end.datetime == lesson.ends_at
    assert event.name == "Lesson with Maria Alvarez"  # the student sees the instructor's name
    assert event.status == "CONFIRMED"


def test_a_request_confirm_remind_cancel_cycle_delivers_the_right_mails(app, inbox, users):
    from booking_app.services import bookings
    from tests.booking_helpers import NOW as MONDAY
    from tests.booking_helpers import at, open_hours

    app.config["FROZEN_NOW"] = MONDAY
    teacher = users.make("instructor", name="Maria Alvarez", timezone="America/New_York")
    student = users.make("student", name="Sam Lee", timezone="Europe/London")
    open_hours(teacher)  # 09:00–17:00 New York time, every day
    start = at(5, 19)  # Thu 5 Feb 2026, 2:00 PM in New York, 7:00 PM in London
    booking = bookings.request_booking(student, teacher.id, start, notes="Salsa basics").booking
    effects.run_due(MONDAY)  # the request mail goes while the request is still pending
    bookings.confirm(teacher, booking.id)
    effects.run_due(MONDAY)
    sweep(start - timedelta(hours=23))  # the 24-hour reminders
    bookings.cancel(teacher, booking.id, reason="Sick, sorry")
    effects.run_due(start - timedelta(hours=22))

    def mails_to(user):
        return [(str(m["Subject"]).strip(), m) for m in inbox.messages if user.email in str(m["To"])]

    assert [s for s, _ in mails_to(teacher)] == [
        "New lesson request from Sam Lee for Thu 5 Feb, 2:00 PM EST",
        "Tomorrow: your lesson with Sam Lee at Thu 5 Feb, 2:00 PM EST",
    ]
    student_mails = mails_to(student)
    assert [s for s, _ in student_mails] == [
        "Confirmed: your lesson with Maria Alvarez on Thu 5 Feb, 7:00 PM GMT",
        "Tomorrow: your lesson with Maria Alvarez at Thu 5 Feb, 7:00 PM GMT",
        "Cancelled: your lesson with Maria Alvarez on Thu 5 Feb, 7:00 PM GMT",
    ]
    methods = [
        Calendar.from_ical(part.get_content())["METHOD"]
        for _, m in student_mails for part in m.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    assert methods == ["REQUEST", "CANCEL"]
    cancelled_text = student_mails[-1][1].get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "\nReason: Sick, sorry\n" in cancelled_text  # on a line of its own, not run onto the lesson's


def test_the_students_note_sits_on_its_own_line_in_the_request_mail(app, inbox, lesson):
    lesson.status = "pending"
    lesson.notes = "First lesson"
    db.session.commit()
    _queue(lesson.instructor_id, "request_received", lesson.id)
    effects.run_due(NOW)
    [received] = inbox.messages
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Student: Sam Lee\nNote: First lesson\n" in text


def test_a_sent_message_mails_the_other_party_only(app, inbox, lesson):
    from booking_app.services.messages import send_message

    send_message(lesson, lesson.instructor, "Bring water, the studio is warm.")
    effects.run_due(NOW + timedelta(minutes=5))
    [received] = inbox.messages
    assert "Sam Lee" in str(received["To"])
    assert "Bring water, the studio is warm." in received.get_body(("plain",)).get_content()


def test_a_reminder_queued_before_a_cancellation_is_not_sent(app, inbox, lesson):
    from booking_app.services import bookings

    app.config["FROZEN_NOW"] = lesson.starts_at - timedelta(hours=23)
    _queue(lesson.student_id, "reminder_24h", lesson.id)
    bookings.cancel(lesson.instructor, lesson.id, reason="Sick, sorry")
    effects.run_due(app.config["FROZEN_NOW"])
    assert [str(m["Subject"]).split(":")[0] for m in inbox.messages] == ["Cancelled"]


@pytest.mark.parametrize(
    ("template", "status", "moment", "sent"),
    [
        ("reminder_24h", "confirmed", timedelta(hours=-23), True),
        ("reminder_1h", "confirmed", timedelta(minutes=1), False),  # the lesson has started
        ("reminder_1h", "cancelled", timedelta(hours=-1), False),
        ("booking_confirmed", "confirmed", timedelta(days=-2), True),
        ("booking_confirmed", "cancelled", timedelta(days=-2), False),
        ("request_received", "pending", timedelta(days=-6, hours=-1), True),
        ("request_received", "pending", timedelta(days=-1), False),  # past its expiry, not yet persisted
        ("request_received", "declined", timedelta(days=-6, hours=-1), False),
        ("booking_cancelled", "cancelled", timedelta(days=-2), True),
    ],
)
def test_a_queued_mail_is_dropped_when_the_booking_no_longer_fits_it(app, lesson, template, status, moment, sent):
    lesson.status = status
    lesson.expires_at = lesson.starts_at - timedelta(days=3)
    db.session.commit()
    now = lesson.starts_at + moment
    app.config["FROZEN_NOW"] = now
    recipient = lesson.instructor if template == "request_received" else lesson.student
    assert (mail.compose(recipient, template, lesson) is not None) is sent


def test_a_long_lived_worker_context_names_the_studio_as_it_is_now(app, inbox):
    """A worker keeps one app context for many jobs; the studio row is read afresh for each, never kept."""
    from booking_app.services.studio import get_studio, update_studio

    get_studio()
    db.session.remove()  # the end of one job
    update_studio(name="Riverside Dance")
    db.session.remove()
    mail.queue_account_mail("ana@example.test", "Ana", "password_changed", {})
    db.session.commit()
    effects.run_due(utc(2030, 1, 1))
    [received] = inbox.messages
    assert "Riverside Dance" in str(received["Subject"])
