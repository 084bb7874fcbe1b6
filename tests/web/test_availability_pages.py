"""Schedule pages without JavaScript: both views, plain-form windows and blocks, warnings, settings, access."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from booking_app.extensions import db
from booking_app.models import Block, Booking, OneTimeWindow, WeeklyWindow
from booking_app.services import availability as service
from tests.conftest import count, utc

NOW = utc(2027, 3, 1, 12, 0)
frozen = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def teacher(users):
    return users.make("instructor", name="Ines Teacher", timezone="America/New_York")


def window_form(**changes):
    data = {"view": "week", "back_on": "2027-03-08", "occurs_on": "2027-03-09", "start_time": "14:00",
            "end_time": "18:00", "lesson_minutes": "60", "repeat": "weekly"}
    data.update(changes)
    return data


@frozen
def test_the_week_view_draws_windows_blocks_and_lessons_in_the_instructors_timezone(client, auth, users, teacher):
    maria = users.make("student", name="Maria Lopez")
    service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60)
    service.add_one_time_window(teacher, teacher.id, occurs_on=date(2027, 3, 13), start_time=time(9), end_time=time(12), lesson_minutes=60)
    service.add_block(teacher, teacher.id, start_on=date(2027, 3, 12), reason="Dentist")
    db.session.add(Booking(instructor_id=teacher.id, student_id=maria.id, starts_at=utc(2027, 3, 9, 19), ends_at=utc(2027, 3, 9, 20),
                           status="pending", created_at=NOW, expires_at=NOW + timedelta(hours=4)))
    db.session.commit()
    auth.login(teacher)
    page = client.get("/schedule?date=2027-03-10").get_data(as_text=True)
    assert "8 Mar – 14 Mar 2027" in page and "Times in America/New York" in page
    assert 'class="ev ev-weekly"' in page and "14:00–18:00" in page
    assert 'class="ev ev-one-time"' in page and "09:00–12:00" in page
    assert 'class="ev ev-block"' in page and "Dentist" in page
    assert 'class="ev ev-pending"' in page and "Maria" in page and "Lopez" not in page
    assert 'href="/schedule?view=month&amp;date=2027-03-10"' in page  # the switch keeps the date
    assert 'href="/schedule?view=week&amp;date=2027-03-01"' in page  # previous week


@frozen
def test_the_month_view_shows_each_days_windows_blocks_and_lesson_counts(client, auth, users, teacher):
    theo = users.make("student", name="Theo Park")
    service.add_weekly_window(teacher, teacher.id, weekday=4, start_time=time(10), end_time=time(14), lesson_minutes=60)
    service.add_block(teacher, teacher.id, start_on=date(2027, 3, 22), end_on=date(2027, 3, 28), reason="Vacation")
    db.session.add(Booking(instructor_id=teacher.id, student_id=theo.id, starts_at=utc(2027, 3, 4, 15), ends_at=utc(2027, 3, 4, 16),
                           status="confirmed", created_at=NOW, expires_at=NOW + timedelta(hours=4)))
    db.session.commit()
    auth.login(teacher)
    page = client.get("/schedule?view=month&date=2027-03-01&day=2027-03-04").get_data(as_text=True)
    assert "March 2027" in page
    # 4, 11, 18, 25 March (the 25th blocked but still listed) and 1 April in the trailing week
    assert page.count('class="mini mini-weekly">10:00–14:00') == 5
    assert "Thursday 4 March, 1 window, 1 confirmed" in page
    assert "Monday 22 March, blocked" in page
    assert "Thursday 4 March 2027" in page and "Add a window on this day" in page and "Block this day" in page
    assert "Recurring — every Thursday from this date on" in page and "One time — only on Thu 4 Mar 2027" in page


@frozen
@pytest.mark.parametrize("view", ["week", "month"])
def test_a_recurring_and_a_one_time_window_can_be_added_with_plain_forms_from_either_view(client, auth, teacher, view):
    auth.login(teacher)
    recurring = client.post("/schedule/windows", data=window_form(view=view))
    assert recurring.status_code == 302 and f"view={view}" in recurring.location
    once = client.post("/schedule/windows", data=window_form(view=view, occurs_on="2027-03-13", start_time="09:00", end_time="12:00", repeat="once"))
    assert once.status_code == 302
    weekly = db.session.scalars(db.select(WeeklyWindow)).one()
    assert (weekly.weekday, weekly.start_time, weekly.end_time, weekly.effective_from) == (2, time(14), time(18), date(2027, 3, 9))
    extra = db.session.scalars(db.select(OneTimeWindow)).one()
    assert (extra.occurs_on, extra.start_time, extra.end_time) == (date(2027, 3, 13), time(9), time(12))
    followed = client.get(recurring.location).get_data(as_text=True)
    assert "Added 14:00–18:00 every Tuesday from 9 Mar 2027." in followed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "14:00"}, "The end time must be after the start time on the same day."),
        ({"end_time": "14:30"}, "The window is shorter than one 60-minute lesson."),
        ({"repeat": ""}, "Choose recurring (every week) or one time (this date only)."),
        ({"occurs_on": ""}, "Choose the date of the window."),
    ],
)
def test_an_invalid_window_form_is_shown_again_with_the_reason(client, auth, teacher, changes, message):
    auth.login(teacher)
    response = client.post("/schedule/windows", data=window_form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(WeeklyWindow) == 0 and count(OneTimeWindow) == 0


def test_blocks_are_added_and_removed_with_plain_forms(client, auth, teacher):
    auth.login(teacher)
    bad = client.post("/schedule/blocks", data={"start_on": "2027-03-10", "end_on": "2027-03-09", "view": "week"})
    assert "The end date must be on or after the start date." in bad.get_data(as_text=True)
    part = client.post("/schedule/blocks", data={"start_on": "2027-03-10", "start_time": "12:00", "end_time": "13:00", "reason": "Lunch", "view": "week"})
    assert part.status_code == 302
    block = db.session.scalars(db.select(Block)).one()
    assert (block.start_on, block.end_on, block.start_time, block.end_time, block.reason) == (date(2027, 3, 10), date(2027, 3, 10), time(12), time(13), "Lunch")
    assert client.post(f"/schedule/blocks/{block.id}/delete", data={"view": "week"}).status_code == 302
    assert count(Block) == 0


def test_a_recurring_window_is_deleted_from_a_date_on_or_entirely_from_its_page(client, auth, teacher):
    auth.login(teacher)
    window = service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60,
                                       effective_from=date(2027, 3, 2)).item
    page = client.get(f"/schedule/windows/weekly/{window.id}?on=2027-03-16").get_data(as_text=True)
    assert "Delete from this date on" in page and "Delete entirely" in page and 'value="2027-03-16"' in page
    assert '<option selected value="14:00">' in page and '<option selected value="18:00">' in page
    assert '<option selected value="2">Tuesday' in page and 'value="2027-03-02"' in page
    client.post(f"/schedule/windows/weekly/{window.id}/delete", data={"scope": "from", "from_on": "2027-03-16"})
    db.session.refresh(window)
    assert window.effective_until == date(2027, 3, 15)
    client.post(f"/schedule/windows/weekly/{window.id}/delete", data={"scope": "all"})
    assert count(WeeklyWindow) == 0


def test_a_window_is_edited_from_its_page(client, auth, teacher):
    auth.login(teacher)
    window = service.add_one_time_window(teacher, teacher.id, occurs_on=date(2027, 3, 13), start_time=time(9), end_time=time(12), lesson_minutes=60).item
    response = client.post(f"/schedule/windows/one-time/{window.id}", data={"occurs_on": "2027-03-13", "start_time": "09:00", "end_time": "11:00", "lesson_minutes": "30"})
    assert response.status_code == 302
    db.session.refresh(window)
    assert (window.end_time, window.lesson_minutes) == (time(11), 30)


@frozen
def test_a_change_that_uncovers_a_confirmed_lesson_warns_and_keeps_it(client, auth, users, teacher):
    theo = users.make("student", name="Theo Park")
    window = service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(18), lesson_minutes=60).item
    lesson = Booking(instructor_id=teacher.id, student_id=theo.id, starts_at=utc(2027, 3, 9, 19), ends_at=utc(2027, 3, 9, 20),
                     status="confirmed", created_at=NOW, expires_at=NOW + timedelta(hours=4))
    db.session.add(lesson)
    db.session.commit()
    auth.login(teacher)
    response = client.post(f"/schedule/windows/weekly/{window.id}/delete", data={"scope": "all", "view": "week", "back_on": "2027-03-09"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "These confirmed lessons are outside your availability now: Tue 9 Mar, 2:00 PM (Theo). Contact the student or cancel them." in page
    assert 'id="conflicts"' in page and "with Theo Park" in page
    db.session.refresh(lesson)
    assert lesson.status == "confirmed"


def test_the_settings_page_saves_and_explains_each_bad_field(client, auth, teacher):
    auth.login(teacher)
    assert "Default lesson length" in client.get("/schedule/settings").get_data(as_text=True)
    bad = client.post("/schedule/settings", data={"timezone": "Mars/Base", "default_lesson_minutes": "61", "buffer_minutes": "-1", "min_notice_hours": "999"})
    page = bad.get_data(as_text=True)
    assert "Not a valid choice" in page or "Choose" in page
    assert "Choose a buffer between 0 and 240 minutes." in page
    assert "Choose a minimum notice between 0 and 336 hours (two weeks)." in page
    good = client.post("/schedule/settings", data={"timezone": "Europe/London", "default_lesson_minutes": "45", "buffer_minutes": "10", "min_notice_hours": "24"})
    assert good.status_code == 302
    db.session.refresh(teacher.instructor_settings)
    settings = teacher.instructor_settings
    assert (settings.timezone, settings.default_lesson_minutes, settings.buffer_minutes, settings.min_notice_minutes) == ("Europe/London", 45, 10, 1440)


def _settings_form(page: str, **changes: str) -> dict[str, str]:
    data = {
        "timezone": re.search(r'<option selected value="([^"]+)"', page).group(1),
        "default_lesson_minutes": "60", "buffer_minutes": "0",
        "min_notice_hours": re.search(r'name="min_notice_hours"[^>]*value="([^"]*)"', page).group(1),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(("minutes", "shown"), [(90, "1.5"), (7, "0.1167"), (1440, "24")])
def test_saving_settings_keeps_a_minimum_notice_that_is_not_whole_hours(client, auth, teacher, minutes, shown):
    from booking_app.services import availability as service

    service.update_settings(teacher, teacher.id, min_notice_minutes=minutes)
    auth.login(teacher)
    page = client.get("/schedule/settings").get_data(as_text=True)
    assert re.search(rf'name="min_notice_hours"[^>]*value="{re.escape(shown)}"', page)
    assert client.post("/schedule/settings", data=_settings_form(page, buffer_minutes="5")).status_code == 302
    db.session.refresh(teacher.instructor_settings)
    assert (teacher.instructor_settings.buffer_minutes, teacher.instructor_settings.min_notice_minutes) == (5, minutes)


def test_the_minimum_notice_can_be_set_in_quarter_hours(client, auth, teacher):
    auth.login(teacher)
    page = client.get("/schedule/settings").get_data(as_text=True)
    assert 'step="0.25"' in page
    assert client.post("/schedule/settings", data=_settings_form(page, min_notice_hours="1.75")).status_code == 302
    db.session.refresh(teacher.instructor_settings)
    assert teacher.instructor_settings.min_notice_minutes == 105


def test_students_cannot_open_the_schedule_and_instructors_only_their_own(client, auth, users, teacher):
    other = users.make("instructor")
    student = users.make("student")
    assert client.get("/schedule").status_code == 302  # sign in first
    auth.login(student)
    assert client.get("/schedule").status_code == 403
    assert client.post("/schedule/windows", data=window_form()).status_code == 403
    auth.logout()
    auth.login(other)
    assert client.get(f"/schedule?instructor={teacher.id}").status_code == 403
    assert client.post("/schedule/windows", data=window_form(instructor=str(teacher.id))).status_code == 403
    assert client.get("/schedule/settings?instructor=" + str(teacher.id)).status_code == 403
    assert count(WeeklyWindow) == 0


def test_the_owner_opens_any_instructors_schedule_with_a_picker_and_edits_it(client, auth, users, teacher):
    owner = users.make("owner", name="Olga Owner")
    auth.login(owner)
    page = client.get(f"/schedule?instructor={teacher.id}").get_data(as_text=True)
    assert "Schedule of Ines Teacher" in page and 'id="instructor-picker"' in page and "Olga Owner" in page
    response = client.post("/schedule/windows", data=window_form(instructor=str(teacher.id)))
    assert response.status_code == 302 and f"instructor={teacher.id}" in response.location
    assert db.session.scalars(db.select(WeeklyWindow)).one().instructor_id == teacher.id
    assert client.get("/schedule?instructor=9999").status_code == 404
