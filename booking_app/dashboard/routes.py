"""Dashboards for instructors, students and the owner; the notifications list and the header bell."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import wording
from ..domain.bookings import Role
from ..domain.bounds import history_date_problem
from ..domain.timeutil import start_of_day, utc_to_local
from ..forms_common import int_arg, parse_id
from ..services import clock, notifications
from ..services import dashboards as service
from ..services.header import header_state
from ..views import render_page, viewer_timezone
from ..wording import STATUS_ORDER, iso_utc

bp = Blueprint("dashboard", __name__)

CSV_COLUMNS = (
    "id", "instructor", "student", "starts_at_utc", "starts_local", "timezone", "minutes", "status",
    "status_reason", "requested_at_utc", "decided_at_utc", "notes",
)


@bp.app_context_processor
def notification_bell() -> dict[str, Any]:
    """Offer `unread_notifications()` to templates: one query per page, only when signed in."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return header_state(current_user).notifications

    return {"unread_notifications": unread_notifications}


def _forms() -> dict[str, Any]:
    from ..booking.forms import ActionForm

    return {"action_form": ActionForm()}


def page_link(endpoint: str, args: dict[str, Any], param: str, number: int) -> str:
    """Return the URL of another page of a list, keeping the other query arguments."""
    return url_for(endpoint, **{**args, param: number})


def _render(template: str, **context: Any) -> str:
    context.setdefault("now", clock.now())
    context.setdefault("page_link", page_link)
    context.setdefault("time_left", service.time_left)
    context.setdefault("overdue_soon", service.overdue_soon)
    return render_page(template, **context, **_forms())


@bp.route("/dashboard")
@login_required
def index() -> str:
    """Show the viewer's dashboard: requests and lessons to teach, or appointments as a student."""
    page = int_arg(request.args, "page")
    ahead = int_arg(request.args, "upcoming")
    if current_user.teaches:
        tab = request.args.get("tab", "past")
        board = service.instructor_dashboard(current_user, tab=tab, page=page, upcoming_page=ahead)
        as_student = service.student_dashboard(current_user, page=1) if board.as_student else None
        return _render(
            "dashboard/instructor.html",
            board=board, as_student=as_student, is_owner=current_user.role == Role.OWNER.value,
        )
    board_s = service.student_dashboard(current_user, page=page, upcoming_page=ahead)
    return _render("dashboard/student.html", board=board_s)


# --- owner overview ------------------------------------------------------------------------------


def _owner_only() -> None:
    if not current_user.is_owner:
        abort(403)


def _parse_date(raw: str | None, errors: list[str]) -> date | None:
    try:
        on = date.fromisoformat(raw or "")
    except ValueError:
        return None
    problem = history_date_problem(on, "date")
    if problem:
        errors.append(problem.removesuffix("Choose a date in that range.") + "The current month is shown instead.")
        return None
    return on


def _filters() -> tuple[service.StudioFilters, dict[str, Any]]:
    """Read the overview's filters from the query string; the range defaults to the current month."""
    tz = viewer_timezone()
    today = utc_to_local(clock.now(), tz).date()
    first = today.replace(day=1)
    default_last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    errors: list[str] = []
    start_on = _parse_date(request.args.get("from"), errors) or first
    end_on = _parse_date(request.args.get("to"), errors) or default_last
    if end_on < start_on:
        errors.append("The end date is before the start date, so the dates were swapped. Check the range.")
        start_on, end_on = end_on, start_on
    instructor_id = request.args.get("instructor", type=int)
    if instructor_id is not None and parse_id(str(instructor_id)) is None:
        errors.append("No instructor has that number, so every instructor is shown. Choose one from the list.")
        instructor_id = None
    status = request.args.get("status") or None
    if status not in STATUS_ORDER:
        status = None
    filters = service.StudioFilters(
        instructor_id=instructor_id, status=status,
        starts_from=start_of_day(start_on, tz),
        starts_before=start_of_day(end_on + timedelta(days=1), tz),
    )
    shown = {"instructor": instructor_id, "status": status, "from": start_on.isoformat(), "to": end_on.isoformat()}
    return filters, {"args": shown, "errors": errors, "start_on": start_on, "end_on": end_on, "tz": tz}


@bp.route("/dashboard/studio")
@login_required
def studio() -> str:
    """Show every instructor's bookings with filters and paging, and figures per instructor for the range."""
    _owner_only()
    filters, shown = _filters()
    staff = service.instructors()
    assert filters.starts_from is not None and filters.starts_before is not None
    figures, _ = service.cached_studio_figures(filters.starts_from, filters.starts_before, staff)
    if filters.instructor_id is not None:
        figures = [f for f in figures if f.instructor.id == filters.instructor_id]
    page = service.studio_bookings(filters, page=int_arg(request.args, "page"))
    awaiting = service.studio_count(service.StudioFilters(status="pending"))

    chosen = {k: v for k, v in shown["args"].items() if v}
    return _render(
        "dashboard/studio.html",
        staff=staff, figures=figures, page=page, statuses=STATUS_ORDER, args_for_pager=chosen,
        csv_url=url_for("dashboard.studio_csv", **chosen), duration_words=wording.duration_words,
        chart=_chart(figures), awaiting_total=awaiting, **shown,
    )


def _chart(figures: list[service.InstructorFigures]) -> dict[str, Any]:
    """Lay out a horizontal bar chart of requests and confirmed lessons per instructor."""
    rows = [f for f in figures if f.requests]
    top = max((f.requests for f in rows), default=0)
    bar_h, gap, label_w, width = 18, 8, 120, 420
    scale = (width - label_w - 50) / top if top else 0
    bars = [
        {
            "name": f.instructor.name, "y": i * (bar_h + gap), "requests": f.requests, "confirmed": f.confirmed,
            "w_requests": round(f.requests * scale, 1), "w_confirmed": round(min(f.confirmed, f.requests) * scale, 1),
        }
        for i, f in enumerate(rows)
    ]
    return {"bars": bars, "height": max(1, len(bars) * (bar_h + gap)), "bar_h": bar_h, "label_w": label_w,
            "width": width}


@bp.route("/dashboard/studio.csv")
@login_required
def studio_csv() -> Response:
    """Download the filtered bookings as CSV (every page)."""
    _owner_only()
    filters, shown = _filters()
    tz = shown["tz"]

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for booking, status in service.studio_export(filters):
        writer.writerow([
            booking.id, _csv_safe(booking.instructor.name), _csv_safe(booking.student.name),
            iso_utc(booking.starts_at),
            utc_to_local(booking.starts_at, tz).strftime("%Y-%m-%d %H:%M"), tz, booking.lesson_minutes,
            status, _csv_safe(booking.status_reason), iso_utc(booking.created_at),
            iso_utc(booking.decided_at) if booking.decided_at else "",
            _csv_safe(booking.notes),
        ])
    name = f"bookings-{shown['args']['from']}-to-{shown['args']['to']}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets; a leading quote keeps it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --- notifications -------------------------------------------------------------------------------


@bp.route("/notifications", endpoint="notifications")
@login_required
def notifications_page() -> str:
    """List the viewer's newest notifications, unread ones marked."""
    items = notifications.recent(current_user, limit=50)
    return render_template("dashboard/notifications.html", items=items, **_forms())


@bp.route("/notifications/count")
@login_required
def notifications_count() -> Response:
    """Return the unread count for the header bell (used after a reconnect)."""
    return jsonify(unread=notifications.unread_count(current_user))


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int) -> Response:
    """Mark one notification read and open its booking (or the list when it has none)."""
    note = notifications.mark_read(current_user, notification_id)
    if note is None:
        abort(404)
    if note.booking_id:
        return redirect(url_for("booking.detail", booking_id=note.booking_id))
    return redirect(url_for("dashboard.notifications"))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all() -> Response:
    """Mark every notification read."""
    changed = notifications.mark_all_read(current_user)
    flash("All notifications are marked read." if changed else "You had no unread notifications.", "success")
    return redirect(url_for("dashboard.notifications"))
