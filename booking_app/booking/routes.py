"""Book-a-lesson pages, the booking page, its actions and calendar export, and "My bookings"."""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import ics
from ..auth.routes import safe_next
from ..domain.bookings import ACTIVE_STATUSES, Action, Status, cancellation_window_sentence
from ..domain.slots import Slot
from ..domain.timeutil import is_valid_timezone, local_date_range_to_utc, local_to_utc, utc_to_local
from ..extensions import limiter
from ..forms_common import int_arg, parse_id
from ..models import Booking, User
from ..names import first_name
from ..services import ServiceError, clock
from ..services import bookings as service
from ..services.availability import instructor_timezone, list_instructors
from ..services.slots import horizon_end_at, open_slots
from ..services.studio import get_studio
from ..web import viewer_timezone
from .forms import ActionForm, MoveForm, ReasonForm, RequestForm

bp = Blueprint("booking", __name__)

ACTIONS = {"confirm": Action.CONFIRM, "decline": Action.DECLINE, "cancel": Action.CANCEL, "no_show": Action.NO_SHOW}
BADGES = {
    "pending": "text-bg-warning", "confirmed": "text-bg-success", "declined": "text-bg-secondary",
    "expired": "text-bg-secondary", "cancelled": "text-bg-secondary", "completed": "text-bg-primary",
    "no_show": "text-bg-danger",
}
STATUS_LABELS = {
    "pending": "Pending", "confirmed": "Confirmed", "declined": "Declined", "expired": "Expired",
    "cancelled": "Cancelled", "completed": "Completed", "no_show": "No-show",
}

HISTORY_VERBS = {
    "confirmed": "confirmed the lesson", "declined": "declined the request", "expired": "expired: no answer in time",
    "cancelled": "cancelled the lesson", "completed": "completed after the lesson ended", "no_show": "marked a no-show",
}


def short_when(instant: datetime, tz: str) -> str:
    """Format an instant like "Thu 5 Feb at 2:00 PM" in a timezone."""
    local = utc_to_local(instant, tz)
    return f"{local:%a} {local.day} {local:%b} at {local:%-I:%M %p}"


def zone_label(tz: str) -> str:
    """Name a timezone the way people say it: "America/New_York" -> "New York time", "UTC" -> "UTC"."""
    if "/" not in tz:
        return tz
    return f"{tz.rsplit('/', 1)[-1].replace('_', ' ')} time"


def when_in_zone(instant: datetime, tz: str) -> str:
    """Format an instant like "Thu 5 Feb at 2:00 PM (New York time)"."""
    return f"{short_when(instant, tz)} ({zone_label(tz)})"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.app_context_processor
def booking_helpers() -> dict[str, Any]:
    return {"status_badge": BADGES, "status_label": STATUS_LABELS, "short_when": short_when, "history_verbs": HISTORY_VERBS}


# --- the book page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownSlot:
    instructor: User
    slot: Slot
    local_start: datetime


def _parse_month(raw: str | None, default: date) -> date:
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return default.replace(day=1)


def _add_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@bp.route("/book")
@bp.route("/book/<int:instructor_id>")
def book(instructor_id: int | None = None) -> str | Response:
    """Show instructors, a month of days with open slots and the chosen day's slots."""
    now = clock.now()
    me = current_user.id if current_user.is_authenticated else None
    everyone = list_instructors()
    staff = [person for person in everyone if person.id != me]
    chosen_id = instructor_id or int_arg(request.args, "instructor")
    # An instructor may open their own shareable link to see what students see.
    chosen = next((p for p in everyone if p.id == chosen_id), None)
    if (instructor_id or chosen_id) and chosen is None:
        abort(404)
    shown = [chosen] if chosen else staff

    reschedule: Booking | None = None
    reschedule_id = parse_id(request.args.get("reschedule"))
    if reschedule_id and current_user.is_authenticated:
        try:
            reschedule = service.get_for(current_user, reschedule_id)
        except ServiceError:
            reschedule = None

    viewer_tz = viewer_timezone()
    use_instructor_tz = chosen is not None and request.args.get("tz") == "instructor"
    display_tz = instructor_timezone(chosen) if use_instructor_tz and chosen else viewer_tz
    today = utc_to_local(now, display_tz).date()
    this_month = today.replace(day=1)
    horizon_last = max(
        (utc_to_local(horizon_end_at(instructor_timezone(p), now) - timedelta(microseconds=1), display_tz).date() for p in shown),
        default=today,
    )
    last_month = max(horizon_last.replace(day=1), this_month)
    month = min(max(_parse_month(request.args.get("month"), today), this_month), last_month)
    month_end = _add_month(month, 1) - timedelta(days=1)

    found: list[ShownSlot] = []
    for person in shown:
        for slot in open_slots(person, month, month_end, viewer_tz=display_tz, now=now):
            found.append(ShownSlot(person, slot, utc_to_local(slot.starts_at, display_tz)))
    lengths = sorted({s.slot.lesson_minutes for s in found})
    length = int_arg(request.args, "length")
    if length in lengths:
        found = [s for s in found if s.slot.lesson_minutes == length]
    else:
        length = None
    per_day = Counter(s.local_start.date() for s in found)
    # The viewer's own pending and confirmed lessons are marked on the calendar too (and glow when unread).
    my_lessons: dict[date, list[Booking]] = {}
    if current_user.is_authenticated:
        month_from, month_to = local_date_range_to_utc(month, month_end, display_tz)
        for booking in service.list_for(current_user, starts_from=month_from, starts_before=month_to,
                                        upcoming_only=True, now=now):
            if booking.student_id == current_user.id:
                my_lessons.setdefault(utc_to_local(booking.starts_at, display_tz).date(), []).append(booking)

    try:
        selected = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        selected = None
    if selected is None or selected.replace(day=1) != month:
        selected = min(per_day) if per_day else None
    day_slots = sorted(
        (s for s in found if s.local_start.date() == selected), key=lambda s: (s.slot.starts_at, s.instructor.name)
    )

    state = {
        "instructor": chosen.id if chosen else None, "month": f"{month:%Y-%m}",
        "date": selected.isoformat() if selected else None, "tz": "instructor" if use_instructor_tz else None,
        "length": length, "reschedule": reschedule.id if reschedule else None,
    }

    def book_url(**changes: Any) -> str:
        args = {**state, **changes}
        person = args.pop("instructor")
        args = {k: v for k, v in args.items() if v is not None}
        if person:
            return url_for("booking.book", instructor_id=person, **args)
        return url_for("booking.book", **args)

    def confirm_url(item: ShownSlot) -> str:
        target = url_for(
            "booking.confirm_request", instructor=item.instructor.id,
            start=item.slot.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            length=item.slot.lesson_minutes if len(lengths) > 1 else None,
            reschedule=reschedule.id if reschedule else None, tz=display_tz,
        )
        if current_user.is_authenticated:
            return target
        return url_for("auth.login", next=target)

    def sentence(item: ShownSlot) -> str:
        when = when_in_zone(item.slot.starts_at, display_tz)
        if reschedule:
            return f"Move your lesson with {first_name(item.instructor)} to {when}?"
        return f"Request a lesson with {first_name(item.instructor)} on {when}?"

    context = {
        "staff": staff, "chosen": chosen, "shown": shown, "month": month, "this_month": this_month,
        "prev_month": _add_month(month, -1) if month > this_month else None,
        "next_month": _add_month(month, 1) if month < last_month else None,
        "weeks": calendar.Calendar(0).monthdatescalendar(month.year, month.month),
        "per_day": per_day, "my_lessons": my_lessons, "today": today, "selected": selected, "day_slots": day_slots, "lengths": lengths,
        "length": length, "display_tz": display_tz, "viewer_tz": viewer_tz, "use_instructor_tz": use_instructor_tz,
        "chosen_tz": instructor_timezone(chosen) if chosen else None,
        "book_url": book_url, "confirm_url": confirm_url, "sentence": sentence, "reschedule": reschedule,
        "form": RequestForm(), "horizon_last": horizon_last,
    }
    if request.args.get("partial"):
        return render_template("booking/_book_panel.html", **context)
    return render_template("booking/book.html", **context)


def _parse_start(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


@bp.route("/book/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit("30/minute", methods=["POST"])
def confirm_request() -> str | Response | tuple[Any, int]:
    """Ask "Request a lesson with … on …?" and, on POST, create the pending request."""
    form = RequestForm(
        instructor=request.args.get("instructor", ""), start=request.args.get("start", ""),
        length=request.args.get("length", ""), reschedule=request.args.get("reschedule", ""),
    )
    instructor_id = parse_id(form.instructor.data)
    starts_at = _parse_start(form.start.data)
    instructor = next((p for p in list_instructors() if p.id == instructor_id), None)
    reschedule_id, length = parse_id(form.reschedule.data), parse_id(form.length.data)
    garbled = (form.reschedule.data and reschedule_id is None) or (form.length.data and length is None)
    if instructor is None or starts_at is None or garbled:
        message = "That time could not be read. Go back to the calendar and select a time again."
        if _wants_json():
            return jsonify(error={"code": "invalid", "message": message}), 422
        flash(message, "warning")
        return redirect(url_for("booking.book"))
    # The zone the slot was shown in (the book page may show the instructor's), else the viewer's.
    shown_tz = request.args.get("tz", "")
    display_tz = shown_tz if shown_tz and is_valid_timezone(shown_tz) else str(current_user.timezone)
    when = when_in_zone(starts_at, display_tz)
    question = (
        f"Move your lesson with {first_name(instructor)} to {when}?" if reschedule_id
        else f"Request a lesson with {first_name(instructor)} on {when}?"
    )
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                result = service.request_booking(
                    current_user, instructor.id, starts_at, length, form.notes.data or "",
                    reschedule_of_id=reschedule_id,
                )
            except ServiceError as exc:
                if _wants_json():
                    return jsonify(error={"code": exc.code, "message": exc.message}), exc.status
                error = exc.message
            else:
                booking = result.booking
                message = (
                    f"Request sent. {first_name(instructor)} will confirm it soon; the time is held for you meanwhile."
                    if result.created else "You already requested this time. Here is your request."
                )
                url = url_for("booking.detail", booking_id=booking.id)
                if _wants_json():
                    return jsonify(id=booking.id, url=url, created=result.created, message=message), (
                        201 if result.created else 200
                    )
                flash(message, "success")
                return redirect(url)
        else:
            error = " ".join(e for errors in form.errors.values() for e in errors) or "Check the form and try again."
            if _wants_json():
                return jsonify(error={"code": "invalid", "message": error}), 422
    in_instructor_tz = display_tz != current_user.timezone and display_tz == instructor_timezone(instructor)
    back = url_for(
        "booking.book", instructor_id=instructor.id, date=utc_to_local(starts_at, display_tz).date().isoformat(),
        tz="instructor" if in_instructor_tz else None,
    )
    return render_template(
        "booking/confirm.html", form=form, question=question, instructor=instructor, starts_at=starts_at,
        error=error, back=back, display_tz=display_tz,
    ), (409 if error and "no longer available" in error else 200)


# --- one booking ---------------------------------------------------------------------------------


def _load(booking_id: int) -> Booking:
    try:
        return service.get_for(current_user, booking_id)
    except ServiceError:
        abort(404)


def _calendar_links(booking: Booking) -> dict[str, str]:
    title = f"Lesson: {booking.instructor.name} and {booking.student.name}"
    details = f"Booking page: {url_for('booking.detail', booking_id=booking.id, _external=True)}"
    fmt = "%Y%m%dT%H%M%SZ"
    google = "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": title,
        "dates": f"{booking.starts_at.strftime(fmt)}/{booking.ends_at.strftime(fmt)}", "details": details,
    })
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": title,
        "startdt": booking.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": booking.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "body": details,
    })
    return {"google": google, "outlook": outlook}


def _detail_context(booking: Booking) -> dict[str, Any]:
    now = clock.now()
    status = service.status_of(booking, now)
    actions = [a.value for a in service.actions_for(current_user, booking, now)]
    refusal = service.cancel_refusal(current_user, booking, now)
    window_sentence = cancellation_window_sentence(get_studio().cancellation_window_hours)
    is_staff = current_user.id != booking.student_id and (current_user.id == booking.instructor_id or current_user.is_owner)
    return {
        "booking": booking, "status": status.value, "actions": actions,
        "refusal": refusal if refusal == window_sentence else None,
        "can_reschedule": service.can_reschedule(current_user, booking, now),
        "reschedule_request": service.pending_reschedule(booking, now),
        "can_move": is_staff and status in ACTIVE_STATUSES and booking.starts_at > now,
        "viewer_tz": viewer_timezone(), "instructor_tz": instructor_timezone(booking.instructor),
        "links": _calendar_links(booking) if status in ACTIVE_STATUSES or status is Status.COMPLETED else None,
        "reason_form": ReasonForm(), "action_form": ActionForm(), "move_form": MoveForm(),
        "original": booking.reschedule_of_id and _visible(booking.reschedule_of_id),
    }


def _visible(booking_id: int) -> Booking | None:
    try:
        return service.get_for(current_user, booking_id)
    except ServiceError:
        return None


@bp.route("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int) -> str:
    """Show a booking: status, times, people, note, history and the actions this viewer may take."""
    booking = _load(booking_id)
    context = _detail_context(booking)
    if request.args.get("partial"):
        return render_template("booking/_detail_body.html", **context)
    return render_template("booking/detail.html", **context)


@bp.route("/bookings/<int:booking_id>/<any(confirm, decline, cancel, no_show):action>", methods=["POST"])
@login_required
def act(booking_id: int, action: str) -> Response:
    """Confirm, decline, cancel or mark a no-show, then go back where the form was."""
    booking = _load(booking_id)
    was_pending = service.status_of(booking) is Status.PENDING
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or "Reload the page and try again.", "danger")
    else:
        reason = form.reason.data or ""
        try:
            if action == "confirm":
                service.confirm(current_user, booking_id)
                flash("Lesson confirmed. The student has been told.", "success")
            elif action == "decline":
                service.decline(current_user, booking_id, reason)
                flash("Request declined. The student has been told.", "success")
            elif action == "cancel":
                service.cancel(current_user, booking_id, reason)
                flash("Request withdrawn; the time is free again." if was_pending
                      else "Lesson cancelled. The other side has been told.", "success")
            else:
                service.mark_no_show(current_user, booking_id)
                flash("Marked as a no-show.", "success")
        except ServiceError as exc:
            flash(exc.message, "danger")
    target = request.form.get("next", "")
    if target == "mine":
        return redirect(url_for("booking.mine"))
    return redirect(safe_next(target) or url_for("booking.detail", booking_id=booking_id))


@bp.route("/bookings/<int:booking_id>/move", methods=["POST"])
@login_required
def move(booking_id: int) -> Response:
    """Move a lesson directly to another open time (instructor or owner), in the instructor's timezone."""
    booking = _load(booking_id)
    form = MoveForm()
    if not form.validate_on_submit() or form.on.data is None or form.at.data is None:
        flash(" ".join(e for errors in form.errors.values() for e in errors) or "Choose the new date and time.", "danger")
        return redirect(url_for("booking.detail", booking_id=booking_id))
    starts_at = local_to_utc(form.on.data, form.at.data, instructor_timezone(booking.instructor))
    if starts_at is None:
        flash("That time does not exist on that date (the clocks change). Choose another time.", "danger")
        return redirect(url_for("booking.detail", booking_id=booking_id))
    try:
        service.move(current_user, booking_id, starts_at)
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash("Lesson moved. The student has been told.", "success")
    return redirect(url_for("booking.detail", booking_id=booking_id))


@bp.route("/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int) -> Response:
    """Open the instructor's calendar to choose the new time for a confirmed lesson."""
    booking = _load(booking_id)
    if not service.can_reschedule(current_user, booking):
        flash("This lesson can no longer be moved from here. Message your instructor instead.", "warning")
        return redirect(url_for("booking.detail", booking_id=booking_id))
    return redirect(url_for("booking.book", instructor_id=booking.instructor_id, reschedule=booking.id))


@bp.route("/bookings/<int:booking_id>.ics")
@login_required
def calendar_file(booking_id: int) -> Response:
    """Download the lesson as an iCalendar file."""
    booking = _load(booking_id)
    active = service.status_of(booking).value in ("pending", "confirmed", "completed")
    body = ics.invitation(
        booking, "PUBLISH" if active else "CANCEL", url_for("booking.detail", booking_id=booking.id, _external=True)
    )
    return Response(
        body, mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="lesson-{booking.id}.ics"'},
    )


# --- my bookings ---------------------------------------------------------------------------------


PAST_PER_PAGE = 50


@bp.route("/bookings")
@login_required
def mine() -> str:
    """List the viewer's bookings: requests to answer first, then every upcoming lesson, then the rest paged."""
    now = clock.now()
    rows = service.list_for(current_user, now=now)  # no limit: every active booking is shown
    statuses = {b.id: service.status_of(b, now).value for b in rows}
    to_answer = [
        b for b in rows
        if statuses[b.id] == "pending" and b.student_id != current_user.id
        and (b.instructor_id == current_user.id or current_user.is_owner)
    ]
    to_answer.sort(key=lambda b: b.created_at)
    answering = {b.id for b in to_answer}
    upcoming = [b for b in rows if b.id not in answering and statuses[b.id] in ("pending", "confirmed") and b.ends_at > now]
    shown = answering | {b.id for b in upcoming}
    past = [b for b in reversed(rows) if b.id not in shown]  # newest first
    pages = max(1, -(-len(past) // PAST_PER_PAGE))
    page = min(int_arg(request.args, "page") or 1, pages)
    first = (page - 1) * PAST_PER_PAGE
    context = {
        "to_answer": to_answer, "upcoming": upcoming, "past": past[first:first + PAST_PER_PAGE],
        "past_total": len(past), "past_first": first + 1, "page": page, "pages": pages,
        "statuses": statuses, "reason_form": ReasonForm(), "action_form": ActionForm(),
    }
    if request.args.get("partial"):
        return render_template("booking/_mine_body.html", **context)
    return render_template("booking/mine.html", **context)
