"""Sign up, sign in, sign out and the profile page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..models import User
from ..services import ServiceError
from ..services import sessions as session_service
from ..services import users as user_service
from .forms import LoginForm, ProfileForm, SignUpForm, TokenForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _after_sign_in() -> str:
    return url_for("main.home")


def _sign_in(user: User) -> None:
    """Start a server-side session for this browser and sign the user in."""
    session.clear()  # a fresh cookie: nothing from before sign-in carries over
    session["sid"] = session_service.start_session(user, request.user_agent.string)
    login_user(user)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def signup() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_after_sign_in())
    form = SignUpForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = user_service.create_user(
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
                timezone=form.timezone.data or "UTC",
            )
        except ServiceError as exc:
            field = getattr(form, exc.field or "", None)
            if field is not None:
                field.errors.append(exc.message)
            else:
                flash(exc.message, "danger")
        else:
            _sign_in(user)
            flash(f"Welcome, {user.name}! Your account is ready.", "success")
            return redirect(safe_next(form.next.data) or _after_sign_in())
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;50/hour", methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or _after_sign_in())
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = user_service.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            form.password.errors.append("That email and password do not match. Check them and try again.")
        elif not user.active:
            form.email.errors.append("This account is deactivated. Contact the studio to reopen it.")
        else:
            _sign_in(user)
            return redirect(safe_next(form.next.data) or _after_sign_in())
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session_service.end_session(session.get("sid"))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))


@bp.post("/profile/sessions/end")
@login_required
def sign_out_everywhere() -> Response:
    """End every session of this account, on every device, this one included."""
    count = session_service.end_all_sessions(current_user)
    logout_user()
    session.clear()
    flash(f"You are signed out on every device ({count} session{'s' if count != 1 else ''} ended). "
          "Sign in again to continue.", "info")
    return redirect(url_for("main.home"))


@bp.post("/profile/tokens")
@login_required
def create_token() -> Response:
    """Issue an API token, shown once."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or "Check the form and try again.", "danger")
        return redirect(url_for("auth.profile") + "#tokens")
    try:
        token = session_service.issue_token(current_user, form.name.data or "", expires_in_days=form.expires_in_days.data)
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash(f"Your new API token (copy it now, it is shown only once): {token}", "success")
    return redirect(url_for("auth.profile") + "#tokens")


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    """Revoke one of the viewer's API tokens."""
    try:
        session_service.revoke_token(token_id, current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash("The token is revoked. Programs using it can no longer sign in.", "info")
    return redirect(url_for("auth.profile") + "#tokens")


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            user_service.update_profile(current_user, name=form.name.data or "", timezone=form.timezone.data or "")
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("auth.profile"))
    from ..services.mail import EMAIL_KINDS

    return render_template(
        "auth/profile.html", form=form, email_kinds=EMAIL_KINDS, tokens=session_service.tokens_of(current_user),
        token_form=TokenForm(), sessions_open=session_service.open_session_count(current_user),
    )


@bp.post("/profile/email")
@login_required
def email_preferences() -> Response:
    from ..services.mail import set_preferences

    try:
        set_preferences(current_user, set(request.form.getlist("kinds")))
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash("Your email choices are saved.", "success")
    return redirect(url_for("auth.profile") + "#email")


@bp.post("/profile/feed")
@login_required
def calendar_feed() -> Response:
    from ..services.feed import enable_feed, revoke_feed

    if request.form.get("action") == "revoke":
        revoke_feed(current_user)
        flash("Your calendar feed is off. Its address no longer works.", "info")
    else:
        enable_feed(current_user)
        flash("Your calendar feed has a new private address. Any earlier address stopped working.", "success")
    return redirect(url_for("auth.profile") + "#calendar")
