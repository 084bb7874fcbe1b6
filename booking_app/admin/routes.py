"""The owner's pages: people (list, create instructors, roles, deactivation) and studio settings."""

from __future__ import annotations

from collections.abc import Callable
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
from ..domain.zones import common_timezones
from ..extensions import db
from ..forms_common import SafeText
from ..models import User
from ..services import ServiceError
from ..services import studio as studio_service
from ..services import users as user_service
from ..services.pages.invitations import open_invitations
from ..services.pages.listings import people
from ..views import show_error

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
            )
        except ServiceError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash("Studio settings saved.", "success")
            return redirect(url_for("admin.studio"))
    return render_template("admin/studio.html", form=form)
