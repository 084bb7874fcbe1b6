"""The instructor's schedule pages: week grid, month calendar, window and block forms, settings."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..domain.bounds import clamp_date, rule_window
from ..domain.timeutil import utc_to_local
from ..models import Booking, User, WeeklyWindow
from ..names import first_name
from ..services import ServiceError
from ..services import availability as service
from ..services.clock import now as clock_now
from ..services.pages.schedule import schedule_view
from ..views import localtime, managed_instructor, render_page, show_error
from ..wording import CLOCK_24, day, time_of_day
from .forms import (
    BlockForm,
    DeleteForm,
    DeleteWindowForm,
    EditOneTimeForm,
    EditWeeklyForm,
    SettingsForm,
    WindowForm,
    parse_time,
)

bp = Blueprint("availability", __name__)


# --- who and when ---------------------------------------------------------------------------------------


def _today(instructor: User) -> date:
    return utc_to_local(clock_now(), service.instructor_timezone(instructor)).date()


def _parse_date(raw: str | None, fallback: date) -> date:
    try:
        on = date.fromisoformat(raw) if raw else fallback
    except ValueError:
        return fallback
    # The grid is computed around the date: keep it where rules may be (a year back, five ahead).
    return clamp_date(on, *rule_window(clock_now().date()))


# --- the schedule page ------------------------------------------------------------------------------------


def _back_url(instructor_id: int | str | None, view: str | None, back_on: str | None, day: bool = False) -> str:
    view = "month" if view == "month" else "week"
    args: dict[str, Any] = {"view": view}
    if back_on:
        args["date"] = back_on
        if view == "month" and day:
            args["day"] = back_on
    if instructor_id and str(instructor_id) != str(current_user.id):
        args["instructor"] = instructor_id
    return url_for(".schedule", **args)


def _span(start: time, end: time) -> str:
    return f"{time_of_day(start, CLOCK_24)}–{time_of_day(end, CLOCK_24)}"


def _flash_conflicts(conflicts: list[Booking]) -> None:
    if not conflicts:
        return
    listed = "; ".join(
        f"{localtime(b.starts_at, 'day_time')} ({first_name(b.student)})" for b in conflicts[:10]
    )
    more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
    flash(
        f"These confirmed lessons are outside your availability now: {listed}{more}. Contact the student or cancel them.",
        "warning",
    )


def _return_fields(form: Any, instructor: User, view: str, back_on: date) -> None:
    form.instructor.data = str(instructor.id)
    form.view.data = view
    form.back_on.data = back_on.isoformat()


def _render_schedule(
    instructor: User,
    *,
    view: str,
    shown: date,
    day_on: date | None,
    window_form: WindowForm | None = None,
    block_form: BlockForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    def edit_url(kind: str, window_id: int, on: date) -> str:
        return url_for(".edit_window", kind=kind, window_id=window_id, instructor=instructor.id, on=on.isoformat())

    page = schedule_view(instructor, view, shown, day_on, clock_now(), edit_url)
    if window_form is None:
        window_form = WindowForm(formdata=None, occurs_on=page.selected, start_time="09:00", end_time="12:00",
                                 lesson_minutes=page.settings.default_lesson_minutes)
        _return_fields(window_form, instructor, view, shown)
    on = window_form.occurs_on.data
    window_form.label_choices(on if isinstance(on, date) else page.selected)
    if block_form is None:
        block_form = BlockForm(formdata=None, start_on=page.selected, end_on=page.selected)
        _return_fields(block_form, instructor, view, shown)
    delete_form = DeleteWindowForm(formdata=None)
    _return_fields(delete_form, instructor, view, shown)
    block_delete_form = DeleteForm(formdata=None)
    _return_fields(block_delete_form, instructor, view, shown)
    shown_vars = {f.name: getattr(page, f.name) for f in fields(page)}
    return render_page(
        "availability/schedule.html", **shown_vars, weeks=page.weeks, selected_day=page.selected_day,
        rows=page.rows, instructors=service.list_instructors() if current_user.is_owner else [],
        is_self=instructor.id == current_user.id, window_form=window_form, block_form=block_form,
        delete_form=delete_form, block_delete_form=block_delete_form, link=lambda **kw: _link(instructor, **kw),
    ), status


def _link(instructor: User, **kwargs: Any) -> str:
    args: dict[str, Any] = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in kwargs.items() if v is not None}
    if instructor.id != current_user.id:
        args["instructor"] = instructor.id
    return url_for(".schedule", **args)


@bp.route("/schedule")
@login_required
def schedule() -> tuple[str, int]:
    """Show the week grid or month calendar of an instructor's availability."""
    instructor = managed_instructor(request.args.get("instructor"))
    tz = service.instructor_timezone(instructor)
    today = utc_to_local(clock_now(), tz).date()
    view = "month" if request.args.get("view") == "month" else "week"
    shown = _parse_date(request.args.get("date"), today)
    day_raw = request.args.get("day")
    day_on = _parse_date(day_raw, shown) if day_raw else None
    return _render_schedule(instructor, view=view, shown=shown, day_on=day_on)


@bp.route("/schedule/windows", methods=["POST"])
@login_required
def add_window() -> Response | tuple[str, int]:
    """Add a recurring (from the date on) or one-time window from the plain form."""
    form = WindowForm()
    instructor = managed_instructor(form.instructor.data)
    view = "month" if form.view.data == "month" else "week"
    back_on = _parse_date(form.back_on.data, form.occurs_on.data or _today(instructor))
    if form.validate_on_submit():
        on = form.occurs_on.data
        assert on is not None
        start, end = parse_time(form.start_time.data), parse_time(form.end_time.data)
        assert start is not None and end is not None
        try:
            if form.repeat.data == "weekly":
                change = service.add_weekly_window(
                    current_user, instructor.id, weekday=on.isoweekday(), start_time=start, end_time=end,
                    lesson_minutes=form.lesson_minutes.data, effective_from=on,
                )
                flash(f"Added {_span(start, end)} every {day(on, 'weekday')} from {day(on, 'date')}.", "success")
            else:
                change = service.add_one_time_window(
                    current_user, instructor.id, occurs_on=on, start_time=start, end_time=end,
                    lesson_minutes=form.lesson_minutes.data,
                )
                flash(f"Added {_span(start, end)} on {day(on, 'day_year')} only.", "success")
        except ServiceError as exc:
            show_error(form, exc, default="start_time")
        else:
            _flash_conflicts(change.conflicts)
            return redirect(_back_url(instructor.id, view, (on if view == "week" else back_on).isoformat(), day=True))
    flash("The window was not added. Check the highlighted fields.", "danger")
    return _render_schedule(instructor, view=view, shown=back_on, day_on=form.occurs_on.data, window_form=form)


@bp.route("/schedule/blocks", methods=["POST"])
@login_required
def add_block() -> Response | tuple[str, int]:
    """Block a day, a range of days, or part of each day."""
    form = BlockForm()
    instructor = managed_instructor(form.instructor.data)
    view = "month" if form.view.data == "month" else "week"
    back_on = _parse_date(form.back_on.data, form.start_on.data or _today(instructor))
    if form.validate_on_submit():
        assert form.start_on.data is not None
        try:
            change = service.add_block(
                current_user, instructor.id, start_on=form.start_on.data, end_on=form.end_on.data,
                start_time=parse_time(form.start_time.data), end_time=parse_time(form.end_time.data),
                reason=form.reason.data or "",
            )
        except ServiceError as exc:
            show_error(form, exc, default="end_time")
        else:
            flash("Blocked. Students can no longer book that time.", "success")
            _flash_conflicts(change.conflicts)
            return redirect(_back_url(instructor.id, view, back_on.isoformat(), day=True))
    flash("The time was not blocked. Check the highlighted fields.", "danger")
    return _render_schedule(instructor, view=view, shown=back_on, day_on=form.start_on.data, block_form=form)


@bp.route("/schedule/blocks/<int:block_id>/delete", methods=["POST"])
@login_required
def delete_block(block_id: int) -> Response:
    """Remove a block."""
    form = DeleteForm()
    try:
        block = service.get_block(block_id)
        instructor_id = block.instructor_id
        service.delete_block(current_user, block_id)
    except ServiceError as exc:
        abort(exc.status)
    flash("The block was removed.", "success")
    return redirect(_back_url(instructor_id, form.view.data, form.back_on.data, day=True))


def _edit_form(window: Any) -> EditWeeklyForm | EditOneTimeForm:
    # Selects hold "HH:MM" strings, so the stored times are given as such (not through obj=).
    times = {"start_time": time_of_day(window.start_time, CLOCK_24), "end_time": time_of_day(window.end_time, CLOCK_24),
             "lesson_minutes": window.lesson_minutes}
    if isinstance(window, WeeklyWindow):
        return EditWeeklyForm(weekday=window.weekday, effective_from=window.effective_from,
                              effective_until=window.effective_until, **times)
    return EditOneTimeForm(occurs_on=window.occurs_on, **times)


def _save_window(form: EditWeeklyForm | EditOneTimeForm, window_id: int) -> service.Change:
    start, end = parse_time(form.start_time.data), parse_time(form.end_time.data)
    if isinstance(form, EditWeeklyForm):
        return service.update_weekly_window(
            current_user, window_id, weekday=form.weekday.data, start_time=start, end_time=end,
            lesson_minutes=form.lesson_minutes.data, effective_from=form.effective_from.data,
            effective_until=form.effective_until.data, clear_effective=True,
        )
    return service.update_one_time_window(
        current_user, window_id, occurs_on=form.occurs_on.data, start_time=start, end_time=end,
        lesson_minutes=form.lesson_minutes.data,
    )


@bp.route("/schedule/windows/<kind>/<int:window_id>", methods=["GET", "POST"])
@login_required
def edit_window(kind: str, window_id: int) -> Response | str:
    """Edit a window's times and length, or delete it."""
    try:
        window = service.get_window(kind, window_id)
    except ServiceError:
        abort(404)
    instructor = managed_instructor(str(window.instructor_id))
    tz = service.instructor_timezone(instructor)
    on = _parse_date(request.args.get("on"), utc_to_local(clock_now(), tz).date())
    view = request.values.get("view") or "week"
    form = _edit_form(window)
    if request.method == "GET":
        _return_fields(form, instructor, view, on)
    if form.validate_on_submit():
        try:
            change = _save_window(form, window_id)
        except ServiceError as exc:
            show_error(form, exc, default="start_time")
        else:
            flash("The window was saved.", "success")
            _flash_conflicts(change.conflicts)
            return redirect(_back_url(instructor.id, form.view.data, form.back_on.data))
    delete_form = DeleteWindowForm(formdata=None, from_on=on, scope="from" if kind == "weekly" else "all")
    _return_fields(delete_form, instructor, view, on)
    return render_template(
        "availability/window.html", window=window, kind=kind, form=form, delete_form=delete_form,
        instructor=instructor, tz=tz, on=on, back=_back_url(instructor.id, view, on.isoformat()),
    )


@bp.route("/schedule/windows/<kind>/<int:window_id>/delete", methods=["POST"])
@login_required
def delete_window(kind: str, window_id: int) -> Response:
    """Delete a window; a recurring one from a date on, or entirely."""
    form = DeleteWindowForm()
    try:
        window = service.get_window(kind, window_id)
        instructor_id = window.instructor_id
        if isinstance(window, WeeklyWindow):
            from_on = form.from_on.data if form.scope.data == "from" else None
            if form.scope.data == "from" and from_on is None:
                flash("Choose the first date to delete the window from, or delete it entirely.", "danger")
                return redirect(url_for(".edit_window", kind=kind, window_id=window_id))
            change = service.delete_weekly_window(current_user, window_id, from_on=from_on)
            message = (
                f"The window no longer repeats from {day(from_on, 'day_year')} on." if change.item is not None and from_on
                else "The recurring window was deleted."
            )
        else:
            change = service.delete_one_time_window(current_user, window_id)
            message = "The one-time window was deleted."
    except ServiceError as exc:
        abort(exc.status)
    flash(message, "success")
    _flash_conflicts(change.conflicts)
    return redirect(_back_url(instructor_id, form.view.data, form.back_on.data))


# --- settings -------------------------------------------------------------------------------------------


def notice_hours(minutes: int) -> Decimal:
    """Return minutes as hours for the settings form, without trailing zeros: 90 -> 1.5, 1440 -> 24."""
    text = f"{Decimal(minutes) / 60:.4f}".rstrip("0").rstrip(".")
    return Decimal(text)


@bp.route("/schedule/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | str:
    """Edit the instructor's timezone, default lesson length, buffer and minimum notice."""
    instructor = managed_instructor(request.values.get("instructor"))
    current = service.settings_for(instructor)
    form = SettingsForm(
        instructor=str(instructor.id),
        timezone=current.timezone,
        default_lesson_minutes=current.default_lesson_minutes,
        buffer_minutes=current.buffer_minutes,
        min_notice_hours=notice_hours(current.min_notice_minutes),
    )
    if form.validate_on_submit():
        hours = form.min_notice_hours.data or Decimal(0)
        # An unchanged field keeps the stored minutes exactly (a value like 7 minutes set via the API).
        unchanged = hours == notice_hours(current.min_notice_minutes)
        try:
            change = service.update_settings(
                current_user, instructor.id, timezone=form.timezone.data,
                default_lesson_minutes=form.default_lesson_minutes.data, buffer_minutes=form.buffer_minutes.data,
                min_notice_minutes=None if unchanged else int((hours * 60).to_integral_value(ROUND_HALF_UP)),
            )
        except ServiceError as exc:
            show_error(form, exc, default="timezone", aliases={"min_notice_minutes": "min_notice_hours"})
        else:
            flash("Your settings were saved.", "success")
            _flash_conflicts(change.conflicts)
            args: dict[str, Any] = {"instructor": instructor.id} if instructor.id != current_user.id else {}
            return redirect(url_for(".settings", **args))
    return render_template("availability/settings.html", form=form, instructor=instructor,
                           back=_back_url(instructor.id, "week", None))
