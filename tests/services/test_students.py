"""Each instructor's students, the note and colour kept about them, and lesson notes with their history."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking_app.extensions import db
from booking_app.models import Booking, Effect, LessonNoteChange, Message, Notification, StudentNote
from booking_app.services import ServiceError, effects, invitations, messages
from booking_app.services import bookings as booking_service
from booking_app.services.lesson_notes import lesson_notes_view, write_lesson_notes
from booking_app.services.privacy import export_data
from booking_app.services.students import set_student_note, student_rows, students_of
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count
from tests.services.test_dashboard_helpers import counting


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez")
    open_hours(instructor, minutes=30)
    return instructor


@pytest.fixture
def ben(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Ben Brown")
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student")


@pytest.fixture
def owner(users):  # type: ignore[no-untyped-def]
    return users.make("owner", name="Olivia Owner")


def lesson(student, instructor, day: int, hour: int, minute: int = 0, *, confirm: bool = True) -> Booking:  # type: ignore[no-untyped-def]
    """Book (and confirm) a lesson in February 2026, seen from NOW."""
    booking = booking_service.request_booking(student, instructor.id, at(day, hour, minute), now=NOW).booking
    if confirm:
        booking_service.confirm(instructor, booking.id, now=NOW)
    return booking


def refused(call, *args, **kwargs) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as info:
        call(*args, **kwargs)
    return info.value


# --- the students list ---------------------------------------------------------------------------------


def test_the_list_holds_everyone_who_booked_with_next_and_last_lesson_recent_lessons_and_no_shows(
    maria, sam, users
):
    other = users.make("student", name="Alex Another")
    lesson(sam, maria, 3, 10)
    lesson(sam, maria, 4, 10)
    lesson(sam, maria, 20, 10)
    lesson(other, maria, 5, 10, confirm=False)
    later = at(10, 12)
    booking_service.mark_no_show(
        maria,
        db.session.scalar(sa.select(Booking.id).where(Booking.starts_at == at(4, 10))),
        now=at(4, 10, 10),
    )
    rows = {r.student.name: r for r in students_of(maria, maria, later)}
    assert list(rows) == ["Alex Another", "Sam Student"]  # by name
    assert rows["Sam Student"].next_at == at(20, 10)
    assert rows["Sam Student"].last_at == at(3, 10)  # the no-show is not a lesson held
    assert rows["Sam Student"].recent == 1
    assert rows["Sam Student"].no_shows == 1
    # a request that expired unanswered is neither the next nor the last lesson
    assert rows["Alex Another"].next_at is None and rows["Alex Another"].last_at is None


def test_students_who_joined_from_the_instructors_invitation_are_listed_before_any_booking(maria, ben):
    sent = invitations.invite(maria, email="ivy@example.test", name="Ivy Invited", role="student")
    invitations.accept(sent.url.rsplit("/", 1)[1], name="Ivy Invited", password="a-good-password")
    invitations.invite(maria, email="nobody-yet@example.test", name="Not Yet", role="student")
    rows = students_of(maria, maria, NOW)
    assert [(r.student.name, r.invited_only) for r in rows] == [("Ivy Invited", True)]
    assert students_of(ben, ben, NOW) == []


def test_unread_messages_are_counted_per_student_for_the_viewer(maria, sam, users):
    booking = lesson(sam, maria, 5, 10)
    messages.send_message(booking, sam, "Can we do scales?")
    messages.send_message(booking, sam, "And arpeggios?")
    row = students_of(maria, maria, NOW)[0]
    assert row.unread == 2
    messages.mark_read(booking, maria)
    assert students_of(maria, maria, NOW)[0].unread == 0


def test_an_instructor_sees_only_their_own_list_and_the_owner_every_one(maria, ben, sam, owner):
    lesson(sam, ben, 5, 10)
    assert refused(students_of, maria, ben, NOW).status == 403
    assert refused(students_of, sam, maria, NOW).status == 403
    assert [r.student.id for r in students_of(owner, ben, NOW)] == [sam.id]


def test_the_list_takes_the_same_few_statements_for_three_students_or_twelve(maria, users):
    def measure() -> int:
        db.session.expire_all()
        assert maria.role  # the viewer is loaded already on a page
        with counting() as counter:
            rows = student_rows(maria, [maria.id], NOW)
        assert rows
        return len(counter.queries)

    for n in range(3):
        lesson(users.make("student"), maria, 5 + n, 10)
    few = measure()
    for n in range(9):
        student = users.make("student")
        booking = lesson(student, maria, 10 + n, 11)
        messages.send_message(booking, student, "Hello")
        set_student_note(maria, maria.id, student.id, f"Note {n}", "blue", now=NOW)
    many = measure()
    assert few == many <= 5


# --- the note and colour ------------------------------------------------------------------------------


def test_the_note_and_colour_are_kept_per_instructor_and_student(maria, ben, sam, owner):
    lesson(sam, maria, 5, 10)
    lesson(sam, ben, 6, 10)
    set_student_note(maria, maria.id, sam.id, "  Prefers mornings.\r\nWorking on Bach.  ", "teal", now=NOW)
    set_student_note(owner, ben.id, sam.id, "Owner's note for Ben", None, now=NOW)
    assert students_of(maria, maria, NOW)[0].note == "Prefers mornings.\nWorking on Bach."
    assert students_of(maria, maria, NOW)[0].colour == "teal"
    assert students_of(ben, ben, NOW)[0].note == "Owner's note for Ben"
    assert students_of(ben, ben, NOW)[0].colour is None


@pytest.mark.parametrize(
    ("note", "colour", "field"),
    [
        ("x" * 2001, None, "note"),
        ("nul \x00 byte", None, "note"),
        ("lone \ud800 surrogate", None, "note"),
        ("fine", "chartreuse", "colour"),
        ("fine", "BLUE", "colour"),
    ],
)
def test_a_bad_note_or_colour_is_refused_with_a_sentence_and_nothing_is_written(
    maria, sam, note, colour, field
):
    lesson(sam, maria, 5, 10)
    error = refused(set_student_note, maria, maria.id, sam.id, note, colour, now=NOW)
    assert error.status == 422 and error.field == field
    assert error.message.endswith(".") and len(error.message.split()) > 4
    assert count(StudentNote) == 0


def test_staff_cannot_keep_notes_on_someone_who_is_not_their_student(maria, ben, sam):
    lesson(sam, ben, 5, 10)
    assert refused(set_student_note, maria, maria.id, sam.id, "x", None, now=NOW).status == 404
    assert refused(set_student_note, maria, ben.id, sam.id, "x", None, now=NOW).status == 403
    assert refused(set_student_note, sam, ben.id, sam.id, "x", None, now=NOW).status == 403
    assert count(StudentNote) == 0


def test_the_database_refuses_a_colour_outside_the_palette(maria, sam):
    db.session.add(
        StudentNote(
            instructor_id=maria.id,
            student_id=sam.id,
            note="",
            colour="chartreuse",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- lesson notes --------------------------------------------------------------------------------------


def test_lesson_notes_wait_until_the_lesson_has_started(maria, sam):
    booking = lesson(sam, maria, 5, 10)
    error = refused(write_lesson_notes, maria, booking.id, "Scales", "", now=at(5, 9, 59))
    assert error.status == 409 and "started" in error.message
    saved = write_lesson_notes(maria, booking.id, "Scales in G", "Tired today", now=at(5, 10))
    assert saved.changed == ["summary", "private_note"] and saved.mailed
    assert (booking.lesson_summary, booking.private_note) == ("Scales in G", "Tired today")


def test_only_the_lessons_instructor_or_the_owner_write_lesson_notes(maria, ben, sam, owner):
    booking = lesson(sam, maria, 5, 10)
    started = at(5, 10, 30)
    assert refused(write_lesson_notes, sam, booking.id, "I did well", None, now=started).status == 403
    assert refused(write_lesson_notes, ben, booking.id, "Hm", None, now=started).status == 404
    write_lesson_notes(owner, booking.id, None, "Owner was here", now=started)
    assert booking.private_note == "Owner was here" and booking.lesson_summary == ""
    assert count(LessonNoteChange) == 1


def test_a_lesson_that_did_not_take_place_takes_no_notes(maria, sam):
    booking = lesson(sam, maria, 5, 10)
    booking_service.cancel(maria, booking.id, "Ill", now=NOW)
    assert refused(write_lesson_notes, maria, booking.id, "x", None, now=at(5, 11)).status == 409


@pytest.mark.parametrize(
    ("summary", "private_note", "field"),
    [
        ("x" * 4001, None, "summary"),
        (None, "y" * 4001, "private_note"),
        ("a\x00b", None, "summary"),
        (None, "\udfff", "private_note"),
    ],
)
def test_bad_lesson_notes_are_refused_naming_the_field_and_nothing_is_written(
    maria, sam, summary, private_note, field
):
    booking = lesson(sam, maria, 5, 10)
    error = refused(write_lesson_notes, maria, booking.id, summary, private_note, now=at(5, 11))
    assert error.status == 422 and error.field == field
    db.session.expire_all()
    assert (booking.lesson_summary, booking.private_note) == ("", "")
    assert count(LessonNoteChange) == 0


def test_each_change_of_the_summary_sends_one_mail_and_a_private_note_sends_none(maria, sam):
    booking = lesson(sam, maria, 5, 10)
    mails_before = count(Effect, Effect.kind == "mail")
    later = at(5, 11)
    write_lesson_notes(maria, booking.id, "Scales", "", now=later)
    write_lesson_notes(maria, booking.id, "Scales", "Private thought", now=later)  # summary unchanged
    write_lesson_notes(maria, booking.id, "Scales and arpeggios", "Private thought", now=later)
    assert (
        write_lesson_notes(maria, booking.id, "Scales and arpeggios", "Private thought", now=later).changed
        == []
    )
    mails = db.session.scalars(sa.select(Effect).where(Effect.kind == "mail").order_by(Effect.id)).all()[
        mails_before:
    ]
    assert [(m.payload["user_id"], m.payload["template"]) for m in mails] == [(sam.id, "lesson_summary")] * 2
    assert (
        count(Notification, Notification.user_id == sam.id, Notification.kind == "booking.lesson_summary")
        == 2
    )
    changes = db.session.scalars(sa.select(LessonNoteChange).order_by(LessonNoteChange.id)).all()
    assert [(c.field, c.body, c.actor_id) for c in changes] == [
        ("summary", "Scales", maria.id),
        ("private_note", "Private thought", maria.id),
        ("summary", "Scales and arpeggios", maria.id),
    ]


def test_the_student_never_receives_the_private_note_on_the_page_in_mail_or_in_the_export(
    app, inbox, maria, sam
):
    app.config["FROZEN_NOW"] = at(5, 11)  # when the mails are due
    booking = lesson(sam, maria, 5, 10)
    secret = "SECRET-STAFF-ONLY-remark"
    write_lesson_notes(maria, booking.id, "Practise the G major scale", secret, now=at(5, 11))
    student_view = lesson_notes_view(sam, booking, at(5, 12))
    assert student_view.private_note is None
    assert all(c.field == "summary" for c in student_view.changes)
    staff_view = lesson_notes_view(maria, booking, at(5, 12))
    assert staff_view.private_note == secret and {c.field for c in staff_view.changes} == {
        "summary",
        "private_note",
    }
    effects.run_due(at(5, 12))
    summary_mails = [
        m for m in inbox.messages if str(m["Subject"]).startswith("Lesson notes from Maria Lopez")
    ]
    assert len(summary_mails) == 1 and summary_mails[0]["To"].addresses[0].addr_spec == sam.email
    assert "G major scale" in summary_mails[0].get_body(("plain",)).get_content()
    assert not [m for m in inbox.messages if secret in m.as_string()]
    student_export = repr(export_data(sam, at(5, 12)))
    assert secret not in student_export and "G major scale" in student_export
    assert secret in repr(export_data(maria, at(5, 12)))


def test_a_message_thread_does_not_leak_into_the_note_history(maria, sam):
    booking = lesson(sam, maria, 5, 10)
    messages.send_message(booking, sam, "hello")
    write_lesson_notes(maria, booking.id, "", "only staff", now=at(5, 11) + timedelta(minutes=1))
    assert count(Message) == 1
    assert lesson_notes_view(sam, booking, at(5, 12)).changes == []


def test_a_student_who_deletes_their_account_leaves_the_list_and_the_note_about_them_goes(maria, sam, users):
    from booking_app.services.users import delete_account
    from tests.conftest import Users

    lesson(sam, maria, 5, 10)
    set_student_note(maria, maria.id, sam.id, "Allergic to cats", "pink", now=NOW)
    delete_account(sam, Users.password, now=NOW)
    assert students_of(maria, maria, NOW) == []
    assert count(StudentNote) == 0
