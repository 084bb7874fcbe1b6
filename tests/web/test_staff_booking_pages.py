"""The "Book a student" page without JavaScript: the link from the schedule, preselection, booking, refusals."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import AccessLink, Booking, User
from booking_app.services import bookings, invitations
from booking_app.services.availability import add_weekly_window
from booking_app.services.bookings import staff
from tests.conftest import count, utc

NOW = utc(2027, 3, 1, 12, 0)  # Monday
pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def teacher(users):  # type: ignore[no-untyped-def]
    ines = users.make("instructor", name="Ines Teacher", timezone="America/New_York")
    ines.instructor_settings.timezone = "America/New_York"
    db.session.commit()
    # Tuesdays 14:00–18:00 New York, hour lessons.
    add_weekly_window(ines, ines.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60)
    return ines


@pytest.fixture
def sam(users, teacher):  # type: ignore[no-untyped-def]
    student = users.make("student", name="Sam Student")
    # Sam is one of Ines's students: he had a lesson with her.
    db.session.add(
        Booking(
            instructor_id=teacher.id,
            student_id=student.id,
            starts_at=utc(2027, 2, 2, 19),
            ends_at=utc(2027, 2, 2, 20),
            status="completed",
            created_at=NOW - timedelta(days=30),
            expires_at=utc(2027, 2, 2, 19),
        )
    )
    db.session.commit()
    return student


def form(**changes: str) -> dict[str, str]:
    data = {
        "student": "",
        "new_name": "",
        "new_email": "",
        "on": "2027-03-09",
        "at": "15:00",
        "lesson_minutes": "0",
        "notes": "",
    }
    data.update(changes)
    return data


def test_the_schedule_links_to_the_form_in_both_views(client, auth, teacher):
    auth.login(teacher)
    for view in ("week", "month"):
        html = client.get(f"/schedule?view={view}&date=2027-03-09&day=2027-03-09").get_data(as_text=True)
        assert 'href="/schedule/book-student?date=2027-03-09"' in html
        # Each window of the week (week view) or of the chosen day (month view) offers booking from its start.
        assert 'href="/schedule/book-student?date=2027-03-09&amp;time=14:00"' in html


def test_the_form_lists_the_instructors_students_and_preselects_from_the_link(
    client, auth, users, teacher, sam
):
    stranger = users.make("student", name="Stella Stranger")
    invited_by_teacher = users.make("student", name="Ivy Invited", email="ivy@example.test")
    invitations.invite(teacher, email="ivy2@example.test", name="Ivy", role="student")
    db.session.add(
        AccessLink(
            purpose="invitation",
            token_hash="x" * 64,
            email=invited_by_teacher.email,
            created_by_id=teacher.id,
            created_at=NOW,
        )
    )
    db.session.commit()
    auth.login(teacher)
    html = client.get(f"/schedule/book-student?student_id={sam.id}&date=2027-03-16&time=16:00").get_data(
        as_text=True
    )
    student_select = re.search(r'<select[^>]*name="student".*?</select>', html, re.S).group(0)
    options = dict(re.findall(r'<option (?:selected )?value="(\d+)">([^<]+)</option>', student_select))
    assert str(sam.id) in options and str(invited_by_teacher.id) in options
    assert str(stranger.id) not in options
    assert re.search(rf'<option selected value="{sam.id}">', html)
    assert 'value="2027-03-16"' in html
    assert '<option selected value="16:00">' in html
    assert 'id="instructor-picker"' not in html  # an instructor books their own lessons: no instructor choice


def test_booking_an_existing_student_confirms_and_returns_to_the_schedule(client, auth, teacher, sam):
    auth.login(teacher)
    response = client.post("/schedule/book-student", data=form(student=str(sam.id), notes="Bring the etude"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/schedule?view=week&date=2027-03-09")
    booking = db.session.scalars(sa.select(Booking).where(Booking.status == "confirmed")).one()
    # 15:00 in New York on 9 March 2027 (EST) is 20:00 UTC.
    assert (booking.student_id, booking.starts_at, booking.ends_at) == (
        sam.id,
        utc(2027, 3, 9, 20),
        utc(2027, 3, 9, 21),
    )
    assert booking.notes == "Bring the etude"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sam Student is booked in for" in page


def test_a_new_student_is_added_invited_and_booked(client, auth, teacher):
    auth.login(teacher)
    response = client.post(
        "/schedule/book-student",
        data=form(student="new", new_name="Pat Phoned", new_email="pat@example.test"),
    )
    assert response.status_code == 302
    pat = db.session.scalar(sa.select(User).where(User.email == "pat@example.test"))
    assert pat is not None
    assert count(Booking, Booking.student_id == pat.id, Booking.status == "confirmed") == 1
    assert (
        count(AccessLink, AccessLink.email == "pat@example.test", AccessLink.created_by_id == teacher.id) == 1
    )
    assert "They get an invitation to set a password" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_new_student_without_a_name_or_address_re_renders_with_the_input_kept(client, auth, teacher):
    auth.login(teacher)
    response = client.post(
        "/schedule/book-student", data=form(student="new", new_email="pat@example.test", notes="Keep me")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the new student&#39;s name" in html
    assert 'value="pat@example.test"' in html and "Keep me" in html
    assert count(Booking) == 0 and count(User, User.email == "pat@example.test") == 0


def test_a_time_outside_the_availability_is_refused_on_the_start_field(client, auth, teacher, sam):
    auth.login(teacher)
    response = client.post("/schedule/book-student", data=form(student=str(sam.id), at="19:00"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That time is outside Ines Teacher&#39;s availability" in html
    assert '<option selected value="19:00">' in html
    assert count(Booking, Booking.status == "confirmed") == 0


def test_a_taken_time_is_refused_in_words(client, auth, users, teacher, sam):
    other = users.make("student")
    staff.book_student(teacher, teacher.id, other.id, utc(2027, 3, 9, 20), None, "", NOW)
    auth.login(teacher)
    response = client.post("/schedule/book-student", data=form(student=str(sam.id)))
    assert response.status_code == 422
    assert "Ines Teacher already has a lesson or a request at that time" in response.get_data(as_text=True)


def test_a_local_time_the_clocks_skip_is_refused(client, auth, users, teacher, sam):
    # 14 March 2027: New York springs forward at 02:00.
    add_weekly_window(teacher, teacher.id, weekday=7, start_time=time(0), end_time=time(6), lesson_minutes=60)
    auth.login(teacher)
    response = client.post(
        "/schedule/book-student", data=form(student=str(sam.id), on="2027-03-14", at="02:30")
    )
    assert response.status_code == 422
    assert "That time does not exist on that date" in response.get_data(as_text=True)


def test_the_owner_chooses_the_instructor_and_every_student(client, auth, users, teacher, sam):
    olivia = users.make("owner", name="Olivia Owner")
    stranger = users.make("student", name="Stella Stranger")
    auth.login(olivia)
    html = client.get(f"/schedule/book-student?instructor={teacher.id}").get_data(as_text=True)
    assert f'<option value="{teacher.id}" selected>Ines Teacher</option>' in html
    assert f'value="{stranger.id}"' in html
    response = client.post(
        "/schedule/book-student", data=form(student=str(stranger.id), instructor=str(teacher.id))
    )
    assert response.status_code == 302
    assert f"instructor={teacher.id}" in response.headers["Location"]
    assert count(Booking, Booking.student_id == stranger.id, Booking.instructor_id == teacher.id) == 1


def test_students_and_other_instructors_are_refused(client, auth, users, teacher, sam):
    ben = users.make("instructor")
    auth.login(sam)
    assert client.get("/schedule/book-student").status_code == 403
    assert client.post("/schedule/book-student", data=form(student=str(sam.id))).status_code == 403
    auth.logout()
    auth.login(ben)
    assert client.get(f"/schedule/book-student?instructor={teacher.id}").status_code == 403
    response = client.post(
        "/schedule/book-student", data=form(student=str(sam.id), instructor=str(teacher.id))
    )
    assert response.status_code == 403
    assert count(Booking, Booking.status == "confirmed") == 0


def test_an_instructor_cannot_pick_a_student_who_is_not_theirs_by_posting_the_id(
    client, auth, users, teacher
):
    stranger = users.make("student")
    auth.login(teacher)
    response = client.post("/schedule/book-student", data=form(student=str(stranger.id)))
    assert response.status_code == 422
    assert count(Booking) == 0


def test_a_booked_lesson_appears_on_the_students_dashboard_as_confirmed(client, auth, teacher, sam):
    bookings_before = count(Booking)
    staff.book_student(teacher, teacher.id, sam.id, utc(2027, 3, 9, 20), None, "", NOW)
    assert count(Booking) == bookings_before + 1
    auth.login(sam)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Ines Teacher" in html and "Confirmed" in html
    assert (
        bookings.status_of(db.session.scalars(sa.select(Booking).order_by(Booking.id.desc())).first()).value
        == "confirmed"
    )


def test_the_booking_page_and_the_audit_log_say_staff_booked_the_lesson_in(client, auth, users, teacher, sam):
    booking = staff.book_student(teacher, teacher.id, sam.id, utc(2027, 3, 9, 20), None, "", NOW).booking
    auth.login(sam)
    html = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert re.search(r"<strong>Ines Teacher</strong>\s+booked the lesson in", html)
    auth.logout()
    auth.login(users.make("owner"))
    assert "booked a student in for a lesson" in client.get("/admin/audit").get_data(as_text=True)


def test_the_student_who_phoned_accepts_the_invitation_and_finds_the_lesson(client, auth, teacher):
    result = staff.book_new_student(teacher, teacher.id, name="Pat Phoned", email="pat@example.test",
                                    starts_at=utc(2027, 3, 9, 20), now=NOW)
    assert result.invitation is not None
    path = "/invitations/" + result.invitation.url.rsplit("/", 1)[1]
    assert client.get(path).status_code == 200
    response = client.post(path, data={"name": "Pat Phoned", "password": "a-good-password"})
    assert response.status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Ines Teacher" in html and "Confirmed" in html
    auth.logout()
    assert auth.login(db.session.get(User, result.booking.student_id), "a-good-password").status_code == 302


def test_staff_book_a_student_into_weekly_lessons_confirmed_with_a_blocked_week_named(client, auth, teacher, sam):
    from booking_app.services.availability import add_block

    add_block(teacher, teacher.id, start_on=utc(2027, 3, 23).date(), end_on=utc(2027, 3, 23).date())
    auth.login(teacher)
    response = client.post("/schedule/book-student", data=form(student=str(sam.id), weeks="4"))
    assert response.status_code == 302 and "/series/" in response.headers["Location"]
    lessons = db.session.scalars(
        sa.select(Booking).where(Booking.series_id.is_not(None)).order_by(Booking.starts_at)
    ).all()
    # Tuesdays 9, 16 and 30 March at 15:00 New York; the 23rd is blocked. The clocks change on 14 March,
    # so the UTC hour moves from 20:00 to 19:00 while the local time stays.
    assert [(b.starts_at, b.status) for b in lessons] == [
        (utc(2027, 3, 9, 20), "confirmed"),
        (utc(2027, 3, 16, 19), "confirmed"),
        (utc(2027, 3, 30, 19), "confirmed"),
    ]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sam Student is booked in for 3 weekly lessons" in page and "1 week could not be booked" in page
    assert "Tue 23 Mar 2027" in page


def test_weekly_lessons_for_a_new_student_are_refused_in_words_and_nothing_is_written(client, auth, teacher):
    auth.login(teacher)
    response = client.post(
        "/schedule/book-student",
        data=form(student="new", new_name="Pat Phoned", new_email="pat@example.test", weeks="4"),
    )
    assert response.status_code == 422
    assert "Book a new student&#39;s first lesson on its own" in response.get_data(as_text=True)
    assert count(Booking) == 0 and count(User, User.email == "pat@example.test") == 0


def test_the_repeat_choice_is_hidden_when_the_studio_turns_weekly_lessons_off(client, auth, teacher):
    from booking_app.services.studio import get_studio

    auth.login(teacher)
    assert 'name="weeks"' in client.get("/schedule/book-student").get_data(as_text=True)
    get_studio().series_max_weeks = 0
    db.session.commit()
    assert 'name="weeks"' not in client.get("/schedule/book-student").get_data(as_text=True)
