"""Weekly lesson pages: preview every week before sending, the series page, answer, cancel from a date, renew."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import wording
from ..auth.routes import safe_next
from ..domain.timeutil import is_valid_timezone
from ..extensions import limiter
from ..forms_common import parse_id
from ..services import ServiceError, clock
from ..services.availability import list_instructors
from ..services.bookings import series as service
from ..services.pages.series import series_page
from ..views import render_page, viewer_timezone
from .forms import AnswerForm, CancelFromForm, RenewForm, SeriesRequestForm

bp = Blueprint("series", __name__)


def _start(raw: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat((raw or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _errors(form: SeriesRequestForm | AnswerForm | CancelFromForm | RenewForm) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors) or "Check the form and try again."


@bp.route("/series/new", methods=["POST"])
@login_required
@limiter.limit("30/minute")
def new() -> str | Response | tuple[str, int]:
    """Preview every week of a weekly request (open, or why not); once seen, send it."""
    form = SeriesRequestForm()
    instructor = next((p for p in list_instructors() if p.id == parse_id(form.instructor.data)), None)
    starts_at = _start(form.start.data)
    if instructor is None or starts_at is None:
        flash(wording.TIME_UNREADABLE, "warning")
        return redirect(url_for("booking.book"))
    display_tz = form.tz.data if form.tz.data and is_valid_timezone(form.tz.data) else viewer_timezone()
    error, outcome = None, None
    sending = form.send.data == "1"
    if not form.validate_on_submit():
        error = _errors(form)
    else:
        try:
            outcome = service.request_series(
                current_user,
                instructor.id,
                starts_at,
                parse_id(form.length.data),
                form.weeks.data or 0,
                form.notes.data or "",
                dry_run=not sending,
            )
        except ServiceError as exc:
            error = exc.message
    if outcome is not None and outcome.series is not None:
        flash(wording.SERIES_SENT if outcome.created else wording.SERIES_ALREADY, "success")
        return redirect(url_for("series.detail", series_id=outcome.series.id))
    return render_template(
        "series/preview.html",
        form=form,
        instructor=instructor,
        starts_at=starts_at,
        outcome=outcome,
        error=error,
        display_tz=display_tz,
        skip_sentence=wording.series_skip,
        skip_labels=wording.SERIES_SKIP_LABELS,
    ), 200


@bp.route("/series/<int:series_id>")
@login_required
def detail(series_id: int) -> str:
    """Show every week of a weekly lesson with its status, the weeks skipped, and what this viewer may do."""
    try:
        page = series_page(current_user._get_current_object(), series_id, clock.now())
    except ServiceError:
        abort(404)
    return render_page(
        "series/detail.html",
        **{f.name: getattr(page, f.name) for f in fields(page)},
        weeks=page.weeks,
        viewer_tz=viewer_timezone(),
        answer_form=AnswerForm(),
        cancel_form=CancelFromForm(),
        renew_form=RenewForm(),
    )


def _back(series_id: int, target: str | None = None) -> Response:
    return redirect(safe_next(target or "") or url_for("series.detail", series_id=series_id))


@bp.route("/series/<int:series_id>/answer", methods=["POST"])
@login_required
def answer(series_id: int) -> Response:
    """Accept the checked requests and decline the rest, or decline them all, in one step."""
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return _back(series_id)
    decline_all = form.decision.data == "decline"
    try:
        service.answer_series(
            current_user,
            series_id,
            None if decline_all else list(form.booking_ids.data or []),
            decline_all=decline_all,
            reason=form.reason.data or "",
        )
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    else:
        flash(wording.SERIES_ANSWERED, "success")
    return _back(series_id, form.next.data)


@bp.route("/series/<int:series_id>/cancel", methods=["POST"])
@login_required
def cancel(series_id: int) -> Response:
    """Cancel this and all later lessons of the series (each under the cancellation window)."""
    form = CancelFromForm()
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return _back(series_id)
    try:
        done = service.cancel_series(current_user, series_id, form.from_on.data, form.reason.data or "")
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    else:
        flash(wording.series_cancel_done(len(done.cancelled), len(done.kept)), "success")
    return _back(series_id)


@bp.route("/series/<int:series_id>/renew", methods=["POST"])
@login_required
def renew(series_id: int) -> Response:
    """Add the next weeks at the same local time."""
    form = RenewForm()
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return _back(series_id)
    try:
        done = service.renew_series(current_user, series_id, form.weeks.data or 0)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    else:
        flash(wording.series_renew_done(len(done.bookings), len(done.skipped)), "success")
    return _back(series_id)
