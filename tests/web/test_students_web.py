"""The students pages, the lesson notes on the booking page, and student colours on the schedule."""

from __future__ import annotations

import pytest

from booking_app.extensions import db
from booking_app.models import Booking, LessonNoteChange, StudentNote, User
from booking_app.services import bookings as booking_service
from booking_app.services import messages
from booking_app.services.lesson_notes import write_lesson_notes
from booking_app.services.students import set_student_note
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count
from tests.services.test_dashboard_helpers import counting

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)
SECRET = "STAFF-ONLY remark about the family"


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez")
    open_hours(instructor)
    return instructor


@pytest.fixture
def ben(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Ben Brown")
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student")


def lesson(student, instructor, day: int, hour: int) -> Booking:  # type: ignore[no-untyped-def]
    booking = booking_service.request_booking(student, instructor.id, at(day, hour), now=NOW).booking
    booking_service.confirm(instructor, booking.id, now=NOW)
    return booking


def test_an_instructor_sees_their_students_and_finds_one_by_name_or_note(
    client, auth, maria, ben, sam, users
):
    alex = users.make("student", name="Alex Another")
    lesson(sam, maria, 5, 10)
    lesson(alex, maria, 6, 10)
    lesson(users.make("student", name="Bea Bens"), ben, 6, 10)
    set_student_note(maria, maria.id, alex.id, "Preparing for grade 5", "orange", now=NOW)
    auth.login(maria)
    page = client.get("/students").get_data(as_text=True)
    assert 'href="/students"' in page  # the nav entry
    assert "Sam Student" in page and "Alex Another" in page and "Bea Bens" not in page
    assert page.index("Alex Another") < page.index("Sam Student")
    assert "--student-colour: #a34a00" in page
    found = client.get("/students?q=grade").get_data(as_text=True)
    assert "Alex Another" in found and "Sam Student" not in found
    by_next = client.get("/students?sort=next").get_data(as_text=True)
    assert by_next.index("Sam Student") < by_next.index("Alex Another")
    assert "No student matches" in client.get("/students?q=zzz").get_data(as_text=True)


def test_the_owner_sees_every_instructors_students_grouped_and_can_pick_one(
    client, auth, maria, ben, sam, users
):
    owner = users.make("owner", name="Olivia Owner")
    lesson(sam, maria, 5, 10)
    lesson(users.make("student", name="Bea Bens"), ben, 6, 10)
    auth.login(owner)
    page = client.get("/students").get_data(as_text=True)
    assert "Every instructor's students" in page
    page = page[page.index('id="students-list"') :]
    assert (
        page.index("Ben Brown")
        < page.index("Bea Bens")
        < page.index("Maria Lopez")
        < page.index("Sam Student")
    )
    picked = client.get(f"/students?instructor={maria.id}").get_data(as_text=True)
    assert "Sam Student" in picked and "Bea Bens" not in picked


def test_students_get_no_students_list(client, auth, sam):
    auth.login(sam)
    assert client.get("/students").status_code == 403
    assert 'href="/students"' not in client.get("/dashboard").get_data(as_text=True)


def test_a_students_page_lists_their_lessons_with_notes_and_keeps_a_note_and_colour(
    app, client, auth, maria, sam
):
    past = lesson(sam, maria, 3, 10)
    ahead = lesson(sam, maria, 20, 10)
    write_lesson_notes(maria, past.id, "Scales in G", SECRET, now=at(3, 11))
    auth.login(maria)
    page = client.get(f"/students/{sam.id}").get_data(as_text=True)
    assert f'id="lesson-{ahead.id}"' in page and f'id="lesson-{past.id}"' in page
    assert (
        page.index("Upcoming")
        < page.index(f'id="lesson-{ahead.id}"')
        < page.index("Past lessons and requests")
    )
    assert "Scales in G" in page and SECRET in page
    saved = client.post(
        f"/students/{sam.id}/note",
        data={"instructor": str(maria.id), "note": "Loves Bach", "colour": "green"},
        follow_redirects=True,
    )
    assert "Saved the note and colour." in saved.get_data(as_text=True)
    assert db.session.get(StudentNote, (maria.id, sam.id)).colour == "green"
    refused = client.post(
        f"/students/{sam.id}/note",
        data={"instructor": str(maria.id), "note": "x", "colour": "chartreuse"},
        follow_redirects=True,
    )
    assert "Choose the colour from the list" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StudentNote, (maria.id, sam.id)).note == "Loves Bach"


def test_the_book_a_lesson_link_opens_the_staff_booking_form_for_that_student(client, auth, maria, sam):
    lesson(sam, maria, 5, 10)
    auth.login(maria)
    page = client.get(f"/students/{sam.id}").get_data(as_text=True)
    assert f'href="/schedule/book-student?student_id={sam.id}"' in page
    form = client.get(f"/schedule/book-student?student_id={sam.id}").get_data(as_text=True)
    assert f'<option selected value="{sam.id}">' in form or f'value="{sam.id}" selected' in form


def test_another_instructor_cannot_open_someone_elses_student(client, auth, maria, ben, sam):
    lesson(sam, maria, 5, 10)
    auth.login(ben)
    assert client.get(f"/students/{sam.id}").status_code == 404
    assert (
        client.post(f"/students/{sam.id}/note", data={"instructor": str(ben.id), "note": "x"}).status_code
        == 404
    )
    assert count(StudentNote) == 0


def test_staff_write_lesson_notes_on_the_booking_page_once_the_lesson_started(app, client, auth, maria, sam):
    booking = lesson(sam, maria, 5, 10)
    auth.login(maria)
    before = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert 'id="lesson-notes-form"' not in before and "once the lesson has started" in before
    app.config["FROZEN_NOW"] = at(5, 10, 45)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert 'id="lesson-notes-form"' in page
    answer = client.post(
        f"/bookings/{booking.id}/lesson-notes",
        data={"summary": "Practise the G major scale", "private_note": SECRET},
        follow_redirects=True,
    )
    text = answer.get_data(as_text=True)
    assert "Lesson notes saved. Sam Student was sent the summary." in text
    assert "updated the lesson summary" in text and "updated the private note" in text
    assert count(LessonNoteChange) == 2


def test_the_student_sees_the_summary_and_never_the_private_note_anywhere(app, client, auth, maria, sam):
    booking = lesson(sam, maria, 5, 10)
    write_lesson_notes(maria, booking.id, "Practise the G major scale", SECRET, now=at(5, 11))
    app.config["FROZEN_NOW"] = at(5, 12)
    auth.login(sam)
    pages = [
        f"/bookings/{booking.id}",
        f"/bookings/{booking.id}?region=booking_body",
        "/bookings",
        "/dashboard",
        "/notifications",
        "/profile/export",
        f"/api/bookings/{booking.id}",
        "/api/bookings",
        "/api/me/export",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.get_data(as_text=True), path
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Practise the G major scale" in page and "updated the lesson summary" in page
    assert "updated the private note" not in page and 'id="lesson-notes-form"' not in page
    refused = client.post(
        f"/bookings/{booking.id}/lesson-notes", data={"summary": "I was great"}, follow_redirects=True
    )
    assert "Only the lesson&#39;s instructor or the studio owner" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).lesson_summary == "Practise the G major scale"


def test_a_too_long_or_unstorable_lesson_note_is_refused_on_the_page(app, client, auth, maria, sam):
    booking = lesson(sam, maria, 5, 10)
    app.config["FROZEN_NOW"] = at(5, 11)
    auth.login(maria)
    for data in ({"summary": "x" * 4001}, {"private_note": "a\x00b"}):
        answer = client.post(f"/bookings/{booking.id}/lesson-notes", data=data, follow_redirects=True)
        assert answer.status_code == 200
        assert "summary" in answer.get_data(as_text=True) or "private note" in answer.get_data(as_text=True)
    assert count(LessonNoteChange) == 0


def _schedule_statements(client) -> int:  # type: ignore[no-untyped-def]
    client.get("/schedule?date=2026-02-05")
    db.session.remove()
    with counting() as counter:
        assert client.get("/schedule?date=2026-02-05").status_code == 200
    return len(counter.queries)


def test_a_students_colour_marks_their_lessons_on_the_schedule_in_the_same_statements(
    app, client, auth, maria, users
):
    students = [users.make("student") for _ in range(4)]
    ids = [s.id for s in students]
    lesson(students[0], maria, 5, 10)
    maria_id = maria.id
    auth.login(maria)
    plain = _schedule_statements(client)
    teacher = db.session.get(User, maria_id)
    for n, student_id in enumerate(ids):
        student = db.session.get(User, student_id)
        if n:
            lesson(student, teacher, 5 + n, 11)
        set_student_note(teacher, maria_id, student_id, "", ["blue", "pink", "teal", "brown"][n], now=NOW)
    coloured = _schedule_statements(client)
    assert coloured == plain
    page = client.get("/schedule?date=2026-02-05").get_data(as_text=True)
    assert "ev ev-confirmed has-colour" in page and "--student-colour:#0b5cad" in page


def test_every_colour_of_the_palette_is_readable_on_white():
    from booking_app.domain.students import COLOURS

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for name, (_label, accent) in COLOURS.items():
        assert 1.05 / (luminance(accent) + 0.05) >= 4.5, name


def _page_statements(client, path: str) -> int:  # type: ignore[no-untyped-def]
    client.get(path)
    db.session.remove()
    with counting() as counter:
        assert client.get(path).status_code == 200
    return len(counter.queries)


def test_the_students_pages_take_the_same_statements_however_many_students_and_instructors(
    client, auth, users
):
    owner = users.make("owner", name="Olivia Owner")
    first = users.make("instructor", name="Ida First")
    open_hours(first)
    student = users.make("student")
    lesson(student, first, 5, 10)
    ids = {"owner": owner.id, "first": first.id, "student": student.id}
    auth.login(owner)
    few = [
        _page_statements(client, "/students"),
        _page_statements(client, f"/students/{ids['student']}?instructor={ids['first']}"),
    ]
    for n in range(3):
        teacher = users.make("instructor")
        open_hours(teacher)
        for day in (6, 7):
            someone = users.make("student")
            booking = lesson(someone, teacher, day, 10 + n)
            set_student_note(teacher, teacher.id, someone.id, "A note", "grey", now=NOW)
            messages.send_message(booking, someone, "Hello")
    first_again = db.session.get(User, ids["first"])
    for day in (12, 13, 14):
        lesson(db.session.get(User, ids["student"]), first_again, day, 10)
    many = [
        _page_statements(client, "/students"),
        _page_statements(client, f"/students/{ids['student']}?instructor={ids['first']}"),
    ]
    assert few == many
