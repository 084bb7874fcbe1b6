"""Forgotten and changed passwords, and a new sign-in address: pages on the auth blueprint."""

from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from .. import wording
from ..extensions import limiter
from ..services import ServiceError
from ..services import addresses as address_service
from ..services import passwords as password_service
from ..services.users import normalize_email
from .password_forms import ChangeAddressForm, ChangePasswordForm, ForgotPasswordForm, NewPasswordForm
from .routes import _after_sign_in, _sign_in, bp


def _forgot_client_rate() -> str:
    return str(current_app.config.get("PASSWORD_FORGOT_RATE_LIMIT", "5/minute;20/hour"))


def _forgot_address_rate() -> str:
    return str(current_app.config.get("PASSWORD_FORGOT_ADDRESS_RATE_LIMIT", "5/hour"))


def _address_key() -> str:
    """Key the per-address budget on the normalised address, from a form or a JSON body."""
    body = request.get_json(silent=True) if request.is_json else None
    raw = body.get("email") if isinstance(body, dict) else request.form.get("email")
    address = normalize_email(raw if isinstance(raw, str) else "")[:254]
    return "address:" + hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()


# One budget per client and one per address, shared by the page and POST /api/password/forgot.
forgot_per_client = limiter.shared_limit(_forgot_client_rate, scope="password-forgot", methods=["POST"])
forgot_per_address = limiter.shared_limit(_forgot_address_rate, scope="password-forgot-address",
                                          key_func=_address_key, methods=["POST"])
reset_limit = limiter.shared_limit("10/minute", scope="password-reset", methods=["POST"])


def _field_error(form: FlaskForm, exc: ServiceError) -> None:
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors.append(exc.message)
    else:
        flash(exc.message, "danger")


def _refused(message: str, status: int, *, retry: bool = False) -> tuple[str, int]:
    return render_template("auth/link_refused.html", message=message, retry=retry), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@forgot_per_client
@forgot_per_address
def forgot_password() -> str | Response:
    """Ask for the address; mail a reset link if an active account uses it, answering the same either way."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            password_service.request_reset(form.email.data or "")
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            flash(wording.RESET_REQUESTED, "info")
            return redirect(url_for("auth.forgot_password"))  # the form stays, to ask again
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@reset_limit
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Show the new-password form of a working link (nothing changes on GET); set it and sign in on POST."""
    page = password_service.reset_page(token)
    if not page.works:
        return _refused(page.refusal, 410, retry=True)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = password_service.reset_password(token, form.password.data or "")
        except ServiceError as exc:
            if exc.status == 410:
                return _refused(exc.message, 410, retry=True)
            _field_error(form, exc)
        else:
            _sign_in(user)
            flash(wording.RESET_DONE, "success")
            return redirect(_after_sign_in())
    return render_template("auth/reset_password.html", form=form, email=page.email)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10/minute;30/hour", methods=["POST"])
def change_password() -> str | Response:
    """Change the password (the current one first); the user's other browsers are signed out, this one stays."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = password_service.change_password(
                current_user, form.current_password.data or "", form.password.data or "",
                keep_session=session.get("sid"),
            )
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            flash(wording.password_changed(ended), "success")
            return redirect(url_for("auth.profile") + "#security")
    return render_template("auth/change_password.html", form=form)


@bp.route("/profile/address", methods=["GET", "POST"])
@login_required
@limiter.limit("10/hour", methods=["POST"])
def change_address() -> str | Response:
    """Ask for the password and a new address; mail a confirmation link there and a notice to the current one."""
    form = ChangeAddressForm()
    if form.validate_on_submit():
        old = current_user.email
        try:
            new = address_service.request_change(current_user, form.password.data or "", form.email.data or "")
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            flash(wording.address_change_sent(new, old), "success")
            return redirect(url_for("auth.profile") + "#security")
    return render_template("auth/change_address.html", form=form,
                           pending=address_service.pending_change(current_user))


@bp.route("/address/confirm/<token>", methods=["GET", "POST"])
@reset_limit
def confirm_address(token: str) -> str | Response | tuple[str, int]:
    """Show the address change a link makes, with one button (nothing changes on GET); make it on POST."""
    page = address_service.confirm_page(token)
    if not page.works:
        return _refused(page.refusal, 409 if page.new_email else 410)
    if request.method == "POST":
        try:
            user = address_service.confirm_change(token)
        except ServiceError as exc:
            return _refused(exc.message, exc.status)
        flash(wording.address_changed(user.email), "success")
        signed_in_here = current_user.is_authenticated and current_user.id == user.id
        return redirect(url_for("auth.profile") + "#security" if signed_in_here else url_for("auth.login"))
    return render_template("auth/confirm_address.html", page=page)
