"""Sign up, sign in, sign out and the profile page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..services import ServiceError
from ..services import users as user_service
from .forms import LoginForm, ProfileForm, SignUpForm

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
            login_user(user)
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
            login_user(user)
            return redirect(safe_next(form.next.data) or _after_sign_in())
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("main.home"))


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

    return render_template("auth/profile.html", form=form, email_kinds=EMAIL_KINDS)


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
