"""Invitation pages: the staff's invite form, CSV preview and import, resend and revoke; the invitee's accept page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import wording
from ..auth.routes import _sign_in
from ..domain.invitations import MAX_CSV_BYTES, MAX_CSV_ROWS
from ..domain.links import LinkState
from ..extensions import limiter
from ..services import ServiceError
from ..services import invitations as invitation_service
from ..services.pages.invitations import AcceptPage, accept_page, invitations_page
from ..views import show_error
from .forms import AcceptForm, ConfirmImportForm, InviteForm, UploadForm

bp = Blueprint("invitations", __name__)
bp.add_app_template_global(wording.as_role, "as_role")
bp.add_app_template_global(wording.invitation_expiry, "invitation_expiry")  # the People page lists them too
bp.add_app_template_global(wording.invitation_refused, "invitation_refused")

F = TypeVar("F", bound=Callable[..., Any])

# Where the list's buttons lead back to: the owner's People page shows the list too.
BACK = {"people": "admin.users"}


def staff_required(view: F) -> F:
    """Allow instructors and the owner."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.teaches:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _back() -> str:
    return url_for(BACK.get(request.form.get("back", ""), "invitations.index")) + "#invitations"


def _index(form: InviteForm | None = None, upload: UploadForm | None = None, status: int = 200) -> tuple[str, int]:
    page = invitations_page(current_user)
    if form is None:
        form = InviteForm(roles=page.roles, formdata=None)
        form.role.data, form.timezone.data = page.roles[0], current_user.timezone
    return render_template("invitations/index.html", page=page, form=form, upload=upload or UploadForm(formdata=None),
                           max_kib=MAX_CSV_BYTES // 1024, max_rows=MAX_CSV_ROWS), status


@bp.get("/invitations")
@staff_required
def index() -> tuple[str, int]:
    return _index()


@bp.post("/invitations")
@staff_required
def invite() -> tuple[str, int] | Response:
    form = InviteForm(roles=invitation_service.roles_for(current_user))
    status = 422
    if form.validate_on_submit():
        try:
            sent = invitation_service.invite(current_user, email=form.email.data or "", name=form.name.data or "",
                                             role=form.role.data or "", timezone=form.timezone.data)
        except ServiceError as exc:
            show_error(form, exc)
            status = exc.status
        else:
            flash(wording.invitation_sent(form.name.data or "", sent.link.email, sent.replaced), "success")
            return redirect(url_for("invitations.index"))
    return _index(form=form, status=status)


@bp.post("/invitations/preview")
@staff_required
def preview() -> tuple[str, int]:
    upload = UploadForm()
    if not upload.validate_on_submit():
        return _index(upload=upload, status=422)
    result = invitation_service.preview_csv(current_user, upload.file.data.read(MAX_CSV_BYTES + 1))
    return render_template("invitations/preview.html", preview=result,
                           confirm=ConfirmImportForm(formdata=None, rows=result.payload)), 200


@bp.post("/invitations/import")
@staff_required
def import_rows() -> tuple[str, int] | Response:
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        flash(" ".join(form.rows.errors) or "The preview expired. Upload the file again.", "danger")
        return redirect(url_for("invitations.index"))
    try:
        sent = invitation_service.import_csv(current_user, form.rows.data or "")
    except invitation_service.CsvRefused as refused:
        flash(refused.message, "danger")
        return render_template("invitations/preview.html", preview=refused.preview,
                               confirm=ConfirmImportForm(formdata=None)), 422
    flash(wording.invitations_sent(len(sent), sum(1 for s in sent if s.replaced)), "success")
    return redirect(url_for("invitations.index"))


@bp.post("/invitations/<int:invitation_id>/resend")
@staff_required
def resend(invitation_id: int) -> Response:
    try:
        sent = invitation_service.resend(current_user, invitation_id)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    else:
        flash(wording.invitation_sent(str(sent.link.data.get("name", "")), sent.link.email, True), "success")
    return redirect(_back())


@bp.post("/invitations/<int:invitation_id>/revoke")
@staff_required
def revoke(invitation_id: int) -> Response:
    try:
        link = invitation_service.revoke(current_user, invitation_id)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    else:
        flash(wording.invitation_revoked(link.email), "info")
    return redirect(_back())


def _private(body: str, status: int = 200) -> Response:
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"  # the page's address holds the invitation's secret
    return response


def _gone(page: AcceptPage) -> Response:
    return _private(render_template("invitations/gone.html", page=page), 410)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("10/minute;50/hour", methods=["POST"])
def accept(token: str) -> Response:
    """Show an invitation (GET changes nothing); POST sets the password, creates the account and signs in."""
    page = accept_page(token)
    if page.state is not LinkState.VALID:
        return _gone(page)
    form = AcceptForm(name=page.name)
    if form.validate_on_submit():
        try:
            user = invitation_service.accept(token, name=form.name.data or "", password=form.password.data or "")
        except ServiceError as exc:
            if exc.status == 410:
                return _gone(accept_page(token))  # spent a moment ago, by another request
            show_error(form, exc)
        else:
            _sign_in(user)
            flash(f"Welcome, {user.name}! Your account is ready.", "success")
            return redirect(url_for("main.home"))
    return _private(render_template("invitations/accept.html", page=page, form=form))
