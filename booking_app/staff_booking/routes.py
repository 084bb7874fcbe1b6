"""The "Book a student" page: an instructor (own lessons) or the owner books a student in, confirmed at once."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import wording
from ..availability.forms import options
from ..domain.bounds import clamp_date, rule_window
from ..domain.timeutil import local_to_utc, utc_to_local
from ..forms_common import parse_id
from ..models import User
from ..services import ServiceError, availability
from ..services.bookings import series as series_service
from ..services.bookings import staff as service
from ..services.clock import now as clock_now
from ..services.pages.book_student import BookStudentPage, book_student_page
from ..views import managed_instructor, render_page, show_error
from .forms import NEW_STUDENT, BookStudentForm

bp = Blueprint("staff_booking", __name__)

# Where a service's refusal is shown on the form.
FIELDS = {
    "start": "at",
    "student_id": "student",
    "email": "new_email",
    "name": "new_name",
    "timezone": "new_email",
}


def _prefilled(page: BookStudentPage) -> BookStudentForm:
    """Return the empty form, with what the link preselects (?student_id=, ?date=, ?time=)."""
    today = utc_to_local(clock_now(), page.tz).date()
    try:
        on = date.fromisoformat(request.args.get("date") or "")
    except ValueError:
        on = today
    raw_time = request.args.get("time") or ""
    student = parse_id(request.args.get("student_id"))
    return BookStudentForm(
        formdata=None,
        on=clamp_date(on, *rule_window(today)),
        at=raw_time if len(raw_time) == 5 else "09:00",
        student=str(student) if student and any(s.id == student for s in page.students) else "",
        instructor=str(page.instructor.id),
        lesson_minutes=0,
    )


def _choices(page: BookStudentPage, form: BookStudentForm) -> BookStudentForm:
    form.student.choices = [
        ("", "Choose a student"),
        (NEW_STUDENT, "A new student (enter name and email below)"),
        *((str(s.id), f"{s.name} ({s.email})") for s in page.students),
    ]
    form.weeks.choices = options(
        [(1, wording.SERIES_REPEAT_ONCE), *((n, wording.staff_repeat_choice(n)) for n in range(2, page.series_max_weeks + 1))]
    )
    return form


def _render(page: BookStudentPage, form: BookStudentForm, status: int = 200) -> tuple[str, int]:
    return render_page("staff_booking/book_student.html", page=page, form=_choices(page, form)), status


def _start(form: BookStudentForm, tz: str) -> datetime | None:
    hours, minutes = (form.at.data or "00:00").split(":")[:2]
    assert form.on.data is not None
    return local_to_utc(form.on.data, time(int(hours), int(minutes)), tz)


def _book(form: BookStudentForm, instructor: User, starts_at: datetime) -> service.StaffBooked:
    minutes = form.lesson_minutes.data or None
    notes = form.notes.data or ""
    if form.student.data == NEW_STUDENT:
        return service.book_new_student(
            current_user,
            instructor.id,
            name=form.new_name.data or "",
            email=form.new_email.data or "",
            starts_at=starts_at,
            lesson_minutes=minutes,
            notes=notes,
        )
    student_id = parse_id(form.student.data)
    if student_id is None:
        raise ServiceError(wording.STAFF_BOOK_NO_STUDENT, "no_student", 422, field="student_id")
    return service.book_student(current_user, instructor.id, student_id, starts_at, minutes, notes)


def _book_weekly(form: BookStudentForm, instructor: User, starts_at: datetime) -> Response:
    """Book the student into a weekly lesson (confirmed at once) and show it, with any week that was not open."""
    outcome = series_service.request_series(
        current_user,
        instructor.id,
        starts_at,
        form.lesson_minutes.data or None,
        form.weeks.data or 1,
        form.notes.data or "",
        student_id=parse_id(form.student.data),
    )
    assert outcome.series is not None and outcome.bookings  # a series with no open week is refused
    student = outcome.bookings[0].student.name
    flash(wording.staff_series_done(student, len(outcome.bookings), len(outcome.skipped)), "success")
    return redirect(url_for("series.detail", series_id=outcome.series.id))


def _done(booked: service.StaffBooked, instructor: User) -> Response:
    booking = booked.booking
    flash(
        wording.booked_in_done(
            booking.student.name,
            wording.when_with_zone(booking.starts_at, current_user.timezone or "UTC"),
            booked.invitation is not None,
        ),
        "success",
    )
    on = utc_to_local(booking.starts_at, availability.instructor_timezone(instructor)).date()
    args: dict[str, Any] = {"view": "week", "date": on.isoformat()}
    if instructor.id != current_user.id:
        args["instructor"] = instructor.id
    return redirect(url_for("availability.schedule", **args))


@bp.route("/schedule/book-student", methods=["GET", "POST"])
@login_required
def book_student() -> Response | tuple[str, int]:
    """Show the form, or book the student in and go back to the schedule; refusals keep what was typed."""
    form = BookStudentForm() if request.method == "POST" else None
    instructor = managed_instructor(form.instructor.data if form else request.args.get("instructor"))
    page = book_student_page(current_user, instructor)
    if form is None:
        return _render(page, _prefilled(page))
    if _choices(page, form).validate_on_submit():
        starts_at = _start(form, page.tz)
        if starts_at is None:
            form.at.errors = [wording.STAFF_BOOK_NO_SUCH_TIME]
        else:
            try:
                if (form.weeks.data or 1) > 1:
                    return _book_weekly(form, instructor, starts_at)
                return _done(_book(form, instructor, starts_at), instructor)
            except ServiceError as exc:
                show_error(form, exc, default="at", aliases=FIELDS)
    flash(wording.STAFF_BOOK_NOT_BOOKED, "danger")
    return _render(page, form, 422)
