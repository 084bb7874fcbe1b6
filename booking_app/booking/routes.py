"""Book-a-lesson pages, the booking page, its actions and calendar export, and "My bookings"."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import quote_plus, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import ics
from ..auth.routes import safe_next
from ..domain.bookings import Status
from ..domain.timeutil import is_valid_timezone, local_to_utc, utc_to_local
from ..extensions import limiter
from ..forms_common import int_arg, parse_id
from ..models import Booking, User
from ..names import first_name
from ..services import ServiceError, clock
from ..services import bookings as service
from ..services.availability import instructor_timezone, list_instructors
from ..services.header import header_state
from ..services.pages.book import BookPage, BookQuery, ShownSlot, book_page
from ..services.pages.detail import booking_detail
from ..services.pages.mine import my_bookings
from ..services.studio import get_studio
from ..views import cached_fragment, localtime, render_page, viewer_timezone
from ..wording import ICS_UTC, TIME_UNREADABLE, iso_utc, when_in_zone
from .forms import ActionForm, MoveForm, ReasonForm, RequestForm

bp = Blueprint("booking", __name__)



# --- the book page -------------------------------------------------------------------------------


# What werkzeug leaves unescaped in a query string: links built here are the ones url_for builds.
QUERY_SAFE = "!$'()*,/:;?@"
DAY_MARK = "{day}"


def _with_query(base: str, args: list[tuple[str, Any]]) -> str:
    query = [(key, value) for key, value in args if value is not None]
    return f"{base}?{urlencode(query, safe=QUERY_SAFE)}" if query else base


class LessonMark(NamedTuple):
    """One of the viewer's lessons as the month grid marks it (hashable: the grid is a cached fragment)."""

    id: int
    status: str
    glow: bool
    instructor_name: str
    time: str
    href: str


def _book_links(page: BookPage) -> dict[str, Any]:
    """Return the link builders and the month grid the book page's template calls."""
    bases: dict[int | None, str] = {}

    def book_url(**changes: Any) -> str:
        args = {**page.state, **changes}
        person = args.pop("instructor")
        if person not in bases:
            bases[person] = url_for("booking.book", instructor_id=person) if person else url_for("booking.book")
        return _with_query(bases[person], list(args.items()))

    confirm_base = url_for("booking.confirm_request")
    login_base = url_for("auth.login")

    def confirm_url(item: ShownSlot) -> str:
        target = _with_query(confirm_base, [
            ("instructor", item.instructor.id), ("start", iso_utc(item.slot.starts_at)),
            ("length", item.slot.lesson_minutes if len(page.lengths) > 1 else None),
            ("reschedule", page.reschedule.id if page.reschedule else None), ("tz", page.display_tz),
        ])
        return target if current_user.is_authenticated else _with_query(login_base, [("next", target)])

    def sentence(item: ShownSlot) -> str:
        return _question(item.instructor, item.slot.starts_at, page.display_tz, moving=page.reschedule is not None)

    return {"book_url": book_url, "confirm_url": confirm_url, "sentence": sentence,
            "month_grid": lambda: _month_grid(page, book_url(date=DAY_MARK))}


def _month_grid(page: BookPage, day_link: str) -> Markup:
    """Return the month's table: a fragment kept per distinct content (days, counts, links, the viewer's lessons)."""
    unread = frozenset(header_state(current_user).unread) if page.my_lessons else frozenset()
    lessons = tuple(
        (on, tuple(LessonMark(b.id, b.status, b.id in unread, b.instructor_name,
                              localtime(b.starts_at, "time", page.display_tz),
                              url_for("booking.detail", booking_id=b.id)) for b in marks))
        for on, marks in sorted(page.my_lessons.items())
    )
    day_href = tuple(day_link.replace(quote_plus(DAY_MARK, safe=QUERY_SAFE), DAY_MARK).split(DAY_MARK))
    return cached_fragment(
        "booking/_month.html", month=page.month, today=page.today, selected=page.selected,
        weeks=tuple(tuple(week) for week in page.weeks), per_day=tuple(sorted(page.per_day.items())),
        day_href=day_href, lessons=lessons,
    )


def _question(instructor: User, starts_at: datetime, tz: str, *, moving: bool) -> str:
    when = when_in_zone(starts_at, tz)
    if moving:
        return f"Move your lesson with {first_name(instructor)} to {when}?"
    return f"Request a lesson with {first_name(instructor)} on {when}?"


@bp.route("/book")
@bp.route("/book/<int:instructor_id>")
def book(instructor_id: int | None = None) -> str | Response:
    """Show instructors, a month of days with open slots and the chosen day's slots."""
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    query = BookQuery(
        instructor_id=instructor_id or int_arg(request.args, "instructor"),
        month=request.args.get("month"), date=request.args.get("date"),
        in_instructor_tz=request.args.get("tz") == "instructor", length=int_arg(request.args, "length"),
        reschedule_id=parse_id(request.args.get("reschedule")),
    )
    page = book_page(viewer, query, viewer_timezone(), clock.now())
    if page is None:
        abort(404)
    shown = {f.name: getattr(page, f.name) for f in fields(page)}
    return render_page(
        "booking/book.html", **shown, prev_month=page.prev_month, next_month=page.next_month, weeks=page.weeks,
        chosen_tz=page.chosen_tz, form=RequestForm(), **_book_links(page),
        series_max_weeks=0 if page.reschedule else get_studio().series_max_weeks,
    )


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
    instructor = next((p for p in list_instructors() if p.id == parse_id(form.instructor.data)), None)
    starts_at = _parse_start(form.start.data)
    reschedule_id, length = parse_id(form.reschedule.data), parse_id(form.length.data)
    # A garbled hidden value must not turn a move into a new request, or a length into the default one.
    garbled = (form.reschedule.data and reschedule_id is None) or (form.length.data and length is None)
    if instructor is None or starts_at is None or garbled:
        flash(TIME_UNREADABLE, "warning")
        return redirect(url_for("booking.book"))
    # The zone the slot was shown in (the book page may show the instructor's), else the viewer's.
    shown_tz = request.args.get("tz", "")
    display_tz = shown_tz if shown_tz and is_valid_timezone(shown_tz) else str(current_user.timezone)
    error: ServiceError | None = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = ServiceError(" ".join(e for errors in form.errors.values() for e in errors)
                                 or "Check the form and try again.", status=200)
        else:
            try:
                result = service.request_booking(current_user, instructor.id, starts_at, length,
                                                 form.notes.data or "", reschedule_of_id=reschedule_id)
            except ServiceError as exc:
                error = exc
            else:
                flash(f"Request sent. {first_name(instructor)} will confirm it soon; the time is held for you meanwhile."
                      if result.created else "You already requested this time. Here is your request.", "success")
                return redirect(url_for("booking.detail", booking_id=result.booking.id))
    return _confirm_page(form, instructor, starts_at, display_tz, error)


def _confirm_page(form: RequestForm, instructor: User, starts_at: datetime, display_tz: str,
                  error: ServiceError | None) -> tuple[str, int]:
    in_instructor_tz = display_tz != current_user.timezone and display_tz == instructor_timezone(instructor)
    back = url_for(
        "booking.book", instructor_id=instructor.id, date=utc_to_local(starts_at, display_tz).date().isoformat(),
        tz="instructor" if in_instructor_tz else None,
    )
    question = _question(instructor, starts_at, display_tz, moving=parse_id(form.reschedule.data) is not None)
    # A taken slot answers 409 Conflict; other refusals re-show the page with 200, as they always have.
    status = error.status if error is not None and error.code == "slot_taken" else 200
    return render_template(
        "booking/confirm.html", form=form, question=question, instructor=instructor, starts_at=starts_at,
        error=error.message if error else None, back=back, display_tz=display_tz,
        series_max_weeks=0 if form.reschedule.data else get_studio().series_max_weeks,
    ), status


# --- one booking ---------------------------------------------------------------------------------


def _load(booking_id: int) -> Booking:
    try:
        return service.get_for(current_user, booking_id)
    except ServiceError:
        abort(404)


def _calendar_links(booking: Booking) -> dict[str, str]:
    title = f"Lesson: {booking.instructor.name} and {booking.student.name}"
    details = f"Booking page: {url_for('booking.detail', booking_id=booking.id, _external=True)}"
    fmt = ICS_UTC
    google = "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": title,
        "dates": f"{booking.starts_at.strftime(fmt)}/{booking.ends_at.strftime(fmt)}", "details": details,
    })
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": title,
        "startdt": iso_utc(booking.starts_at),
        "enddt": iso_utc(booking.ends_at), "body": details,
    })
    return {"google": google, "outlook": outlook}


@bp.route("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int) -> str:
    """Show a booking: status, times, people, note, history and the actions this viewer may take."""
    booking = _load(booking_id)
    page = booking_detail(current_user._get_current_object(), booking, clock.now())
    return render_page(
        "booking/detail.html", **{f.name: getattr(page, f.name) for f in fields(page)}, viewer_tz=viewer_timezone(),
        links=_calendar_links(booking) if page.has_calendar else None,
        reason_form=ReasonForm(), action_form=ActionForm(), move_form=MoveForm(),
    )


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
    active = service.status_of(booking) in (Status.PENDING, Status.CONFIRMED, Status.COMPLETED)
    body = ics.invitation(
        booking, "PUBLISH" if active else "CANCEL", url_for("booking.detail", booking_id=booking.id, _external=True)
    )
    return Response(
        body, mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="lesson-{booking.id}.ics"'},
    )


# --- my bookings ---------------------------------------------------------------------------------


@bp.route("/bookings")
@login_required
def mine() -> str:
    """List the viewer's bookings: requests to answer first, then every upcoming lesson, then the rest paged."""
    shown = my_bookings(current_user, int_arg(request.args, "page") or 1, clock.now())
    return render_page(
        "booking/mine.html", **{f.name: getattr(shown, f.name) for f in fields(shown)}, past_first=shown.past_first,
        reason_form=ReasonForm(), action_form=ActionForm(),
    )
