"""Action links from mails (answer, cancel or move a lesson without signing in) and personal booking links."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from .. import wording
from ..domain.mail_actions import MailAction
from ..extensions import limiter
from ..models import User
from ..services import ServiceError, action_links, booking_links, clock
from ..services.pages.act import ActionPage, action_page
from ..views import viewer_timezone
from .forms import ActForm, ButtonForm, MoveForm, StudentEmailForm

bp = Blueprint("links", __name__)


# --- action links in mails -----------------------------------------------------------------------
# Nothing changes on GET (mail scanners open links); the POST carries the CSRF token of the session cookie
# the GET set, which works signed out as well, and the signed token names who acts.


def _form_error(form: FlaskForm) -> ServiceError:
    return ServiceError(" ".join(e for errors in form.errors.values() for e in errors)
                        or "Reload the page and try again.", "invalid", 422)


def _action_page(template: str, page: ActionPage, form: FlaskForm, error: ServiceError | None) -> tuple[str, int]:
    # A link that no longer works answers gone, whatever else was wrong with the form.
    status = 410 if page.gone else (error.status if error is not None else 200)
    return render_template(template, page=page, form=form, error=error.message if error else None), status


def _done(done: action_links.Done) -> str:
    return render_template("links/done.html", done=done, booking_url=url_for("booking.detail", booking_id=done.booking.id))


@bp.route("/act/<any(accept, decline, cancel):action>/<string(maxlength=400):token>", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def act(action: str, token: str) -> str | tuple[str, int]:
    """Show what an action link would do to the lesson, with one button; on POST, do it as the mail's recipient."""
    mail_action = MailAction(action)
    form = ActForm()
    error: ServiceError | None = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = _form_error(form)
        else:
            try:
                return _done(action_links.perform(mail_action, token, reason=form.reason.data or ""))
            except ServiceError as exc:
                error = exc
    return _action_page("links/act.html", action_page(mail_action, token, clock.now()), form, error)


def _parse_start(raw: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat((raw or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


@bp.route("/act/reschedule/<string(maxlength=400):token>", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def reschedule(token: str) -> str | tuple[str, int]:
    """Offer the instructor's open times for the lesson; on POST, ask to move it to the chosen one."""
    form = MoveForm()
    error: ServiceError | None = None
    if request.method == "POST":
        starts_at = _parse_start(form.start.data) if form.validate_on_submit() else None
        if starts_at is None:
            error = _form_error(form) if form.errors else ServiceError(wording.ACTION_CHOOSE_TIME, "no_time", 422)
        else:
            try:
                return _done(action_links.perform(MailAction.RESCHEDULE, token, starts_at=starts_at))
            except ServiceError as exc:
                error = exc
    page = action_page(MailAction.RESCHEDULE, token, clock.now())
    form.start.choices = [(choice.value, choice.label) for _, choices in page.days for choice in choices]
    return _action_page("links/reschedule.html", page, form, error)


# --- personal booking links ----------------------------------------------------------------------


@bp.route("/with/<string(maxlength=200):token>")
def personal(token: str) -> Response | tuple[str, int]:
    """Open an instructor's book page from a student's personal link (signing in first when needed)."""
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        visit = booking_links.open_personal_link(token, viewer)
    except ServiceError as exc:
        return render_template("links/gone.html", message=exc.message), exc.status
    if viewer is None:
        flash(wording.BOOKING_LINK_SIGN_IN.format(name=visit.instructor_name), "info")
        return redirect(url_for("auth.login", next=request.path))
    if not visit.for_viewer:
        flash(wording.BOOKING_LINK_OTHER_PERSON.format(student=visit.student_name, viewer=viewer.name), "warning")
    return redirect(url_for("booking.book", instructor_id=visit.instructor_id))


def _instructor() -> User:
    if not current_user.teaches:
        abort(403)
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _manage_page(email_form: StudentEmailForm, status: int = 200) -> tuple[str, int]:
    page = booking_links.links_page(_instructor(), viewer_timezone())
    return render_template("links/manage.html", page=page, email_form=email_form, button=ButtonForm()), status


@bp.get("/booking-links")
@login_required
def manage() -> tuple[str, int]:
    """List the instructor's students with their personal links to copy, renew or withdraw."""
    return _manage_page(StudentEmailForm())


@bp.post("/booking-links")
@login_required
def add() -> Response | tuple[str, int]:
    """Make a personal link for a student found by email address."""
    instructor = _instructor()
    form = StudentEmailForm()
    if form.validate_on_submit():
        try:
            student = booking_links.give_link(instructor, email=form.email.data or "")
        except ServiceError as exc:
            form.email.errors = [*form.email.errors, exc.message]
        else:
            flash(wording.BOOKING_LINK_MADE.format(name=student.name), "success")
            return redirect(url_for("links.manage") + f"#student-{student.id}")
    return _manage_page(form, 422)


@bp.post("/booking-links/<int:student_id>")
@login_required
def renew(student_id: int) -> Response:
    """Make a new personal link for one of the instructor's students; the old one stops working at once."""
    instructor = _instructor()
    try:
        student = booking_links.give_link(instructor, student_id=student_id)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("links.manage"))
    flash(wording.BOOKING_LINK_MADE.format(name=student.name), "success")
    return redirect(url_for("links.manage") + f"#student-{student.id}")


@bp.post("/booking-links/<int:student_id>/revoke")
@login_required
def revoke(student_id: int) -> Response:
    """Withdraw a student's personal link."""
    instructor = _instructor()
    try:
        student = booking_links.revoke_link(instructor, student_id)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("links.manage"))
    flash(wording.BOOKING_LINK_REVOKED.format(name=student.name), "info")
    return redirect(url_for("links.manage") + f"#student-{student.id}")
