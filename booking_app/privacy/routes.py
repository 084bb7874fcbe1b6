"""Download my data (a JSON file) and delete my account (asks for the password on a confirm page)."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from .. import wording
from ..extensions import limiter
from ..services import ServiceError, clock
from ..services import privacy as privacy_service
from ..services import users as user_service
from .forms import DeleteAccountForm

bp = Blueprint("privacy", __name__)

TOO_MANY_TRIES = "Too many attempts to delete this account. Wait an hour and try again."
# Shared by the page and the API: each asks for the password, so together they allow only a few guesses.
delete_limit = limiter.shared_limit("10/hour", scope="account-delete", methods=["POST"], error_message=TOO_MANY_TRIES)


@bp.get("/profile/export")
@login_required
def export() -> Response:
    """Download everything the studio keeps about the viewer as one JSON file."""
    data = privacy_service.export_data(current_user)
    name = f"my-data-{clock.now():%Y-%m-%d}.json"
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required
@delete_limit
def delete() -> str | Response:
    """Confirm, then delete the viewer's own account and sign them out."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            done = user_service.delete_account(current_user, form.password.data or "")
        except ServiceError as exc:
            _show_refusal(form, exc)
        else:
            logout_user()
            session.clear()
            flash(wording.account_deleted_notice(done.cancelled), "info")
            return redirect(url_for("main.home"))
    ahead = privacy_service.lessons_ahead(current_user)
    return render_template("privacy/delete.html", form=form, ahead=ahead)


def _show_refusal(form: DeleteAccountForm, exc: ServiceError) -> None:
    """Put a refusal on its field (a wrong password), else above the form; the page is shown again."""
    field = getattr(form, exc.field or "", None)
    if field is None:
        flash(exc.message, "danger")
        return
    field.errors = [*field.errors, exc.message]
