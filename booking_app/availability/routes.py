"""The instructor's schedule pages: week grid, month calendar, window and block forms, settings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..domain.bounds import clamp_date, rule_window
from ..domain.timeutil import local_date_range_to_utc, utc_to_local
from ..extensions import db
from ..forms_common import parse_id
from ..models import Block, Booking, OneTimeWindow, User, WeeklyWindow
from ..names import first_name
from ..services import ServiceError
from ..services import availability as service
from ..services.clock import now as clock_now
from ..services.slots import active_bookings_filter
from ..web import format_local
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

GRID_FIRST_MINUTE = 6 * 60
GRID_LAST_MINUTE = 22 * 60
GRID_ROW_MINUTES = 30
ONE_DAY = timedelta(days=1)


# --- who and when ---------------------------------------------------------------------------------------


def _instructor_from(raw: str | None) -> User:
    """Return the instructor whose schedule is shown: the owner may pick anyone, others see their own."""
    if not current_user.teaches:
        abort(403)
    if not raw:
        return current_user._get_current_object()  # type: ignore[no-any-return]
    instructor_id = parse_id(raw)
    if instructor_id is None:
        abort(404)
    if not service.can_manage(current_user, instructor_id):
        abort(403)
    try:
        return service.get_instructor(instructor_id)
    except ServiceError:
        abort(404)


def _today(instructor: User) -> date:
    return utc_to_local(clock_now(), service.instructor_timezone(instructor)).date()


def _parse_date(raw: str | None, fallback: date) -> date:
    try:
        on = date.fromisoformat(raw) if raw else fallback
    except ValueError:
        return fallback
    # The grid is computed around the date: keep it where rules may be (a year back, five ahead).
    return clamp_date(on, *rule_window(clock_now().date()))


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- what is on each day -------------------------------------------------------------------------------


@dataclass
class Item:
    """Something drawn on a day: a window, a block or a lesson, in local minutes of the day."""

    kind: str  # weekly | one-time | block | pending | confirmed
    start: int
    end: int
    label: str
    id: int | None = None
    href: str | None = None

    @property
    def time_range(self) -> str:
        return f"{_hhmm(self.start)}–{_hhmm(self.end) if self.end < 1440 else '24:00'}"

    @property
    def top(self) -> float:
        """Return the distance from the grid's first row, in percent of the visible day."""
        span = GRID_LAST_MINUTE - GRID_FIRST_MINUTE
        return round((max(self.start, GRID_FIRST_MINUTE) - GRID_FIRST_MINUTE) / span * 100, 3)

    @property
    def height(self) -> float:
        span = GRID_LAST_MINUTE - GRID_FIRST_MINUTE
        start = max(self.start, GRID_FIRST_MINUTE)
        end = min(self.end, GRID_LAST_MINUTE)
        return round(max(end - start, 0) / span * 100, 3)

    @property
    def visible(self) -> bool:
        return self.end > GRID_FIRST_MINUTE and self.start < GRID_LAST_MINUTE


@dataclass
class Day:
    """One local date of the schedule with its windows, blocks and lessons."""

    on: date
    windows: list[Item] = field(default_factory=list)
    blocks: list[Item] = field(default_factory=list)
    lessons: list[Item] = field(default_factory=list)
    whole_day_block: str | None = None
    in_month: bool = True
    is_today: bool = False

    @property
    def pending(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.kind == "pending")

    @property
    def confirmed(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.kind == "confirmed")

    @property
    def blocked(self) -> bool:
        return self.whole_day_block is not None or bool(self.blocks)


def _days(instructor: User, first: date, last: date, tz: str, today: date) -> list[Day]:
    """Return every date first..last with what the instructor's schedule holds on it."""
    weekly = db.session.scalars(
        sa.select(WeeklyWindow)
        .where(WeeklyWindow.instructor_id == instructor.id)
        .order_by(WeeklyWindow.start_time)
    ).all()
    one_time = db.session.scalars(
        sa.select(OneTimeWindow).where(
            OneTimeWindow.instructor_id == instructor.id,
            OneTimeWindow.occurs_on.between(first, last),
        )
    ).all()
    blocks = db.session.scalars(
        sa.select(Block).where(Block.instructor_id == instructor.id, Block.start_on <= last, Block.end_on >= first)
    ).all()
    start_at, end_at = local_date_range_to_utc(first, last, tz)
    now = clock_now()
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(
            Booking.instructor_id == instructor.id,
            Booking.starts_at < end_at,
            Booking.ends_at > start_at,
            active_bookings_filter(now),
        )
        .order_by(Booking.starts_at)
    ).all()
    lessons_by_date: dict[date, list[Item]] = defaultdict(list)
    for booking in bookings:
        local_start = utc_to_local(booking.starts_at, tz)
        local_end = utc_to_local(booking.ends_at, tz)
        start = local_start.hour * 60 + local_start.minute
        end = start + max(int((local_end - local_start).total_seconds() // 60), 1)
        lessons_by_date[local_start.date()].append(
            Item(booking.status, start, min(end, 1440), first_name(booking.student), booking.id)
        )

    days: list[Day] = []
    on = first
    while on <= last:
        day = Day(on, is_today=on == today)
        for w in weekly:
            if w.weekday == on.isoweekday() and (w.effective_from is None or w.effective_from <= on) and (
                w.effective_until is None or on <= w.effective_until
            ):
                day.windows.append(
                    Item("weekly", _minutes(w.start_time), _minutes(w.end_time), f"{w.lesson_minutes} min", w.id,
                         url_for(".edit_window", kind="weekly", window_id=w.id, instructor=instructor.id, on=on.isoformat()))
                )
        for o in one_time:
            if o.occurs_on == on:
                day.windows.append(
                    Item("one-time", _minutes(o.start_time), _minutes(o.end_time), f"{o.lesson_minutes} min", o.id,
                         url_for(".edit_window", kind="one-time", window_id=o.id, instructor=instructor.id, on=on.isoformat()))
                )
        day.windows.sort(key=lambda item: (item.start, item.end))
        for b in blocks:
            if b.start_on <= on <= b.end_on:
                if b.start_time is None or b.end_time is None:
                    day.whole_day_block = b.reason or "Blocked"
                    day.blocks.append(Item("block", 0, 1440, b.reason or "Blocked", b.id))
                else:
                    day.blocks.append(Item("block", _minutes(b.start_time), _minutes(b.end_time), b.reason or "Blocked", b.id))
        day.lessons = lessons_by_date.get(on, [])
        days.append(day)
        on += ONE_DAY
    return days


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


def _flash_conflicts(conflicts: list[Booking]) -> None:
    if not conflicts:
        return
    listed = "; ".join(
        f"{format_local(b.starts_at, '%a %-d %b, %-I:%M %p')} ({first_name(b.student)})" for b in conflicts[:10]
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
    tz = service.instructor_timezone(instructor)
    today = utc_to_local(clock_now(), tz).date()
    settings = service.settings_for(instructor)
    selected = day_on or shown
    if view == "month":
        month_first = shown.replace(day=1)
        next_month = (month_first + timedelta(days=32)).replace(day=1)
        first = month_first - timedelta(days=month_first.isoweekday() - 1)
        last_of_month = next_month - ONE_DAY
        last = last_of_month + timedelta(days=7 - last_of_month.isoweekday())
        prev_on = (month_first - ONE_DAY).replace(day=1)
        next_on = next_month
        title = month_first.strftime("%B %Y")
    else:
        first = shown - timedelta(days=shown.isoweekday() - 1)
        last = first + timedelta(days=6)
        prev_on, next_on = first - timedelta(days=7), first + timedelta(days=7)
        month_first = first
        title = f"{first.strftime('%-d %b')} – {last.strftime('%-d %b %Y')}"
    days = _days(instructor, first, last, tz, today)
    if view == "month":
        for d in days:
            d.in_month = d.on.month == month_first.month
    selected_day = next((d for d in days if d.on == selected), None)

    if window_form is None:
        window_form = WindowForm(formdata=None, occurs_on=selected, lesson_minutes=settings.default_lesson_minutes,
                                 start_time="09:00", end_time="12:00")
        _return_fields(window_form, instructor, view, shown)
    window_form.label_choices(window_form.occurs_on.data if isinstance(window_form.occurs_on.data, date) else selected)
    if block_form is None:
        block_form = BlockForm(formdata=None, start_on=selected, end_on=selected)
        _return_fields(block_form, instructor, view, shown)
    delete_form = DeleteWindowForm(formdata=None)
    _return_fields(delete_form, instructor, view, shown)
    block_delete_form = DeleteForm(formdata=None)
    _return_fields(block_delete_form, instructor, view, shown)

    rows = [_hhmm(m) for m in range(GRID_FIRST_MINUTE, GRID_LAST_MINUTE, GRID_ROW_MINUTES)]
    return (
        render_template(
            "availability/schedule.html",
            instructor=instructor,
            instructors=service.list_instructors() if current_user.is_owner else [],
            is_self=instructor.id == current_user.id,
            tz=tz,
            settings=settings,
            view=view,
            shown=shown,
            today=today,
            title=title,
            days=days,
            weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
            selected=selected,
            selected_day=selected_day,
            month_first=month_first,
            prev_on=prev_on,
            next_on=next_on,
            rows=rows,
            window_form=window_form,
            block_form=block_form,
            delete_form=delete_form,
            block_delete_form=block_delete_form,
            conflicts=service.confirmed_conflicts(instructor),
            link=lambda **kw: _link(instructor, **kw),
        ),
        status,
    )


def _link(instructor: User, **kwargs: Any) -> str:
    args: dict[str, Any] = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in kwargs.items() if v is not None}
    if instructor.id != current_user.id:
        args["instructor"] = instructor.id
    return url_for(".schedule", **args)


@bp.route("/schedule")
@login_required
def schedule() -> tuple[str, int]:
    """Show the week grid or month calendar of an instructor's availability."""
    instructor = _instructor_from(request.args.get("instructor"))
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
    instructor = _instructor_from(form.instructor.data)
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
                flash(f"Added {start:%H:%M}–{end:%H:%M} every {on:%A} from {on:%-d %b %Y}.", "success")
            else:
                change = service.add_one_time_window(
                    current_user, instructor.id, occurs_on=on, start_time=start, end_time=end,
                    lesson_minutes=form.lesson_minutes.data,
                )
                flash(f"Added {start:%H:%M}–{end:%H:%M} on {on:%a %-d %b %Y} only.", "success")
        except ServiceError as exc:
            if exc.status == 403:
                abort(403)
            form.start_time.errors = [*form.start_time.errors, exc.message]
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
    instructor = _instructor_from(form.instructor.data)
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
            if exc.status == 403:
                abort(403)
            target = form.end_on if "date" in exc.message else form.end_time
            target.errors = [*target.errors, exc.message]
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


@bp.route("/schedule/windows/<kind>/<int:window_id>", methods=["GET", "POST"])
@login_required
def edit_window(kind: str, window_id: int) -> Response | str:
    """Edit a window's times and length, or delete it."""
    try:
        window = service.get_window(kind, window_id)
    except ServiceError:
        abort(404)
    instructor = _instructor_from(str(window.instructor_id))
    tz = service.instructor_timezone(instructor)
    on = _parse_date(request.args.get("on"), utc_to_local(clock_now(), tz).date())
    view = request.values.get("view") or "week"
    form: EditWeeklyForm | EditOneTimeForm
    # Selects hold "HH:MM" strings, so the stored times are given as such (not through obj=).
    times = {"start_time": f"{window.start_time:%H:%M}", "end_time": f"{window.end_time:%H:%M}", "lesson_minutes": window.lesson_minutes}
    if isinstance(window, WeeklyWindow):
        form = EditWeeklyForm(weekday=window.weekday, effective_from=window.effective_from,
                              effective_until=window.effective_until, **times)
    else:
        form = EditOneTimeForm(occurs_on=window.occurs_on, **times)
    if request.method == "GET":
        _return_fields(form, instructor, view, on)
    if form.validate_on_submit():
        start, end = parse_time(form.start_time.data), parse_time(form.end_time.data)
        try:
            if isinstance(form, EditWeeklyForm):
                change = service.update_weekly_window(
                    current_user, window_id, weekday=form.weekday.data, start_time=start, end_time=end,
                    lesson_minutes=form.lesson_minutes.data, effective_from=form.effective_from.data,
                    effective_until=form.effective_until.data, clear_effective=True,
                )
            else:
                change = service.update_one_time_window(
                    current_user, window_id, occurs_on=form.occurs_on.data, start_time=start, end_time=end,
                    lesson_minutes=form.lesson_minutes.data,
                )
        except ServiceError as exc:
            form.start_time.errors = [*form.start_time.errors, exc.message]
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
                f"The window no longer repeats from {from_on:%a %-d %b %Y} on." if change.item is not None and from_on
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
    instructor = _instructor_from(request.values.get("instructor"))
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
            target = getattr(form, exc.field or "", None) or form.timezone
            if exc.field == "min_notice_minutes":
                target = form.min_notice_hours
            target.errors = [*target.errors, exc.message]
        else:
            flash("Your settings were saved.", "success")
            _flash_conflicts(change.conflicts)
            args: dict[str, Any] = {"instructor": instructor.id} if instructor.id != current_user.id else {}
            return redirect(url_for(".settings", **args))
    return render_template("availability/settings.html", form=form, instructor=instructor,
                           back=_back_url(instructor.id, "week", None))
