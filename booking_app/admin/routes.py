"""The owner's pages: people (list, create instructors, roles, deactivation), studio settings and the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import wording
from ..domain.bookings import Role
from ..domain.bounds import history_date_problem
from ..domain.timeutil import start_of_day, utc_to_local
from ..domain.zones import common_timezones
from ..extensions import db
from ..forms_common import SafeText, int_arg, parse_id
from ..models import User
from ..services import ServiceError, clock
from ..services import audit as audit_service
from ..services import studio as studio_service
from ..services import users as user_service
from ..services.pages.invitations import open_invitations
from ..services.pages.listings import people
from ..views import show_error, viewer_timezone

bp = Blueprint("admin", __name__, url_prefix="/admin")

F = TypeVar("F", bound=Callable[..., Any])


def owner_required(view: F) -> F:
    """Allow only the studio owner."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class CreateUserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120), SafeText("name")])
    email = EmailField("Email", validators=[DataRequired("Enter an email address."), SafeText("email address")])
    password = PasswordField("Temporary password", validators=[DataRequired("Choose a password."), Length(min=8, message="Choose a password of at least 8 characters."), SafeText("password")])
    role = SelectField(
        "Role",
        choices=[SelectChoice("instructor", "Instructor"), SelectChoice("student", "Student"), SelectChoice("owner", "Owner")],
    )
    timezone = SelectField("Timezone", choices=[], validate_choice=False)
    submit = SubmitField("Create account")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(tz, tz.replace("_", " ")) for tz in common_timezones()]


class StudioForm(FlaskForm):
    name = StringField("Studio name", validators=[DataRequired("Enter the studio's name."), Length(max=120), SafeText("studio name")])
    horizon = SelectField(
        "Students can book up to",
        choices=[
            SelectChoice("end_of_month", "The end of the current month"),
            SelectChoice("end_of_next_month", "The end of next month"),
            SelectChoice("days", "A number of days ahead"),
        ],
    )
    horizon_days = IntegerField(
        "Days ahead",
        validators=[Optional(), NumberRange(1, 365, "Enter a number of days between 1 and 365.")],
    )
    pending_expiry_hours = IntegerField(
        "Requests expire after (hours)",
        validators=[
            DataRequired("Enter the hours after which an unanswered request expires."),
            NumberRange(1, 168, "Enter between 1 and 168 hours."),
        ],
    )
    cancellation_window_hours = IntegerField(
        "Students may cancel until (hours before start)",
        validators=[Optional(), NumberRange(0, 336, "Enter between 0 and 336 hours.")],
    )
    series_max_weeks = IntegerField(
        "Weekly lessons may repeat for up to (weeks)",
        validators=[Optional(), NumberRange(0, 52, wording.SERIES_MAX_WEEKS_RANGE)],
    )
    submit = SubmitField("Save settings")


@bp.route("/users", methods=["GET", "POST"])
@owner_required
def users() -> str | Response:
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user = user_service.create_user(
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
                role=form.role.data or "instructor",
                timezone=form.timezone.data or "UTC",
            )
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(f"{user.name} can now sign in as {user.role}.", "success")
            return redirect(url_for("admin.users"))
    elif request.method == "GET":
        form.timezone.data = current_user.timezone
    return render_template("admin/users.html", form=form, people=people(), roles=[r.value for r in Role],
                           invitations=open_invitations(current_user))


@bp.post("/users/<int:user_id>/role")
@owner_required
def change_role(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    try:
        user_service.change_role(user, request.form.get("role", ""), acting=current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash(f"{user.name} is now {user.role}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@owner_required
def set_active(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    try:
        change = user_service.set_active(user, active, acting=current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("admin.users"))
    flash(wording.account_change(user.name, active, change.released), "success")
    if change.lessons_ahead:
        flash(wording.lessons_to_rehome(user.name, len(change.lessons_ahead)), "warning")
        first, last = change.lessons_ahead[0].starts_at, change.lessons_ahead[-1].starts_at
        shown: dict[str, Any] = {"instructor": user.id, "status": "confirmed", "from": first.date().isoformat(),
                                 "to": last.date().isoformat()}
        return redirect(url_for("dashboard.studio", **shown))
    return redirect(url_for("admin.users"))


@bp.route("/studio", methods=["GET", "POST"])
@owner_required
def studio() -> str | Response:
    settings = studio_service.get_studio()
    form = StudioForm(obj=settings)
    if form.validate_on_submit():
        try:
            studio_service.update_studio(
                name=form.name.data,
                horizon=form.horizon.data,
                horizon_days=form.horizon_days.data,
                pending_expiry_hours=form.pending_expiry_hours.data,
                cancellation_window_hours=form.cancellation_window_hours.data,
                series_max_weeks=form.series_max_weeks.data,
            )
        except ServiceError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash("Studio settings saved.", "success")
            return redirect(url_for("admin.studio"))
    return render_template("admin/studio.html", form=form)


# --- the audit log -------------------------------------------------------------------------------

AUDIT_DAYS = 30  # the range shown when none is chosen: the last 30 days, today included
AUDIT_CSV_COLUMNS = ("at_utc", "at_local", "timezone", "kind", "action", "actor", "what", "subject", "booking_id",
                     "lesson_at_utc", "detail")


def _audit_date(raw: str | None, errors: list[str], label: str) -> date | None:
    if not raw:
        return None
    try:
        on = date.fromisoformat(raw)
    except ValueError:
        errors.append(f"The {label} date is not a date like 2027-02-05, so the last {AUDIT_DAYS} days are shown.")
        return None
    problem = history_date_problem(on, f"{label} date")
    if problem:
        errors.append(problem.removesuffix("Choose a date in that range.") + f"The last {AUDIT_DAYS} days are shown.")
        return None
    return on


def _audit_filters() -> tuple[audit_service.AuditFilters, dict[str, Any]]:
    """Read the log's filters: a person (as actor or subject) and a date range in the viewer's zone."""
    tz = viewer_timezone()
    today = utc_to_local(clock.now(), tz).date()
    errors: list[str] = []
    end_on = _audit_date(request.args.get("to"), errors, "end") or today
    start_on = _audit_date(request.args.get("from"), errors, "start") or end_on - timedelta(days=AUDIT_DAYS - 1)
    if end_on < start_on:
        errors.append("The end date is before the start date, so the dates were swapped. Check the range.")
        start_on, end_on = end_on, start_on
    raw_person = request.args.get("person") or None
    person = parse_id(raw_person)
    if raw_person and person is None:
        errors.append("No person has that number, so everyone is shown. Choose a person from the list.")
    filters = audit_service.AuditFilters(person, start_of_day(start_on, tz), start_of_day(end_on + timedelta(days=1), tz))
    args = {"person": person, "from": start_on.isoformat(), "to": end_on.isoformat()}
    return filters, {"args": args, "errors": errors, "tz": tz, "start_on": start_on, "end_on": end_on}


@bp.get("/audit")
@owner_required
def audit() -> str:
    """List every account change and booking change, newest first, filtered by person and dates."""
    filters, shown = _audit_filters()
    log = audit_service.page(filters, number=int_arg(request.args, "page"))
    chosen = {k: v for k, v in shown["args"].items() if v}
    return render_template(
        "admin/audit.html", log=log, people=audit_service.people(), csv_url=url_for("admin.audit_csv", **chosen),
        page_link=lambda endpoint, args, param, number: url_for(endpoint, **{**args, param: number}),
        args_for_pager=chosen, **shown,
    )


@bp.get("/audit.csv")
@owner_required
def audit_csv() -> Response:
    """Download the filtered audit log as CSV (every page)."""
    filters, shown = _audit_filters()
    tz = shown["tz"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_CSV_COLUMNS)
    for line in audit_service.export(filters):
        writer.writerow([
            wording.iso_utc(line.at), utc_to_local(line.at, tz).strftime("%Y-%m-%d %H:%M"), tz, line.kind,
            line.action, _csv_safe(line.actor), line.words, _csv_safe(line.subject), line.booking_id or "",
            wording.iso_utc(line.lesson_at) if line.lesson_at else "", _csv_safe(line.detail),
        ])
    name = f"audit-{shown['args']['from']}-to-{shown['args']['to']}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets; a leading quote keeps it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
