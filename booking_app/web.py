"""Wire blueprints, sign-in, error pages, security headers and template helpers into the app."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import realtime, views, wording
from .admin.routes import bp as admin_bp
from .api import init_api
from .auth.routes import bp as auth_bp
from .availability.routes import bp as availability_bp
from .booking.routes import bp as booking_bp
from .cli import register_cli
from .dashboard.routes import bp as dashboard_bp
from .extensions import db, login_manager
from .invitations.routes import bp as invitations_bp
from .links.routes import bp as links_bp
from .main import bp as main_bp
from .messages.routes import bp as messages_bp
from .models import User
from .privacy.routes import bp as privacy_bp
from .series.routes import bp as series_bp
from .services.sessions import user_for_session
from .services.studio import studio_name
from .staff_booking.routes import bp as staff_booking_bp
from .students.routes import bp as students_bp

# (endpoint, label, who sees it) — links to areas not yet registered are left out.
NAV = [
    ("booking.book", "Book a lesson", {"anonymous", "student", "instructor", "owner"}),
    ("dashboard.index", "Dashboard", {"student", "instructor", "owner"}),
    ("availability.schedule", "My schedule", {"instructor", "owner"}),
    ("links.manage", "Student links", {"instructor", "owner"}),
    ("invitations.index", "Invitations", {"instructor"}),  # the owner finds them on People
    ("admin.users", "People", {"owner"}),
    ("admin.studio", "Studio settings", {"owner"}),
    ("admin.audit", "Audit log", {"owner"}),
    ("students.index", "Students", {"instructor", "owner"}),
]


def nav_links(app: Flask) -> list[tuple[str, str, set[str]]]:
    """Return the navigation links the current viewer should see."""
    who = current_user.role if current_user.is_authenticated else "anonymous"
    return [link for link in NAV if who in link[2] and link[0] in app.view_functions]


def _wants_json() -> bool:
    # Only the error pages answer JSON, and only under /api/ or when the client asks for JSON alone.
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


# The app uses none of these browser features; say so, so an injected script cannot either.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def init_app(app: Flask) -> None:
    """Register everything the web layer needs."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The signed cookie names a server-side session: once it ended (sign-out, "sign out everywhere",
        # deactivation) a copy of the cookie signs nobody in.
        return user_for_session(int(user_id), session.get("sid")) if user_id.isdigit() else None

    for bp in (main_bp, auth_bp, admin_bp):
        app.register_blueprint(bp)
    realtime.init_app(app)
    init_api(app)
    register_cli(app)
    for bp in (availability_bp, booking_bp, dashboard_bp, messages_bp, links_bp, privacy_bp, invitations_bp,
               series_bp, staff_booking_bp, students_bp):
        app.register_blueprint(bp)

    app.jinja_env.filters["localtime"] = views.localtime
    app.jinja_env.filters["day"] = wording.day
    app.jinja_env.filters["clocktime"] = lambda at, clock=wording.CLOCK_12: wording.time_of_day(at, clock)
    app.jinja_env.filters["iso_utc"] = wording.iso_utc
    app.jinja_env.globals["status_label"] = wording.status_label
    app.jinja_env.globals["status_badge_class"] = wording.STATUS_BADGES.get
    app.jinja_env.globals["history_verb"] = lambda status: wording.HISTORY_VERBS.get(status, status)
    app.jinja_env.globals["status_badge"] = app.jinja_env.get_template("_macros/status.html").module.status_badge  # type: ignore[attr-defined]
    app.jinja_env.globals["viewer_timezone"] = views.viewer_timezone
    app.jinja_env.globals["nav_links"] = lambda: nav_links(app)
    app.jinja_env.globals["lesson_note_verb"] = lambda change: (
        wording.LESSON_NOTE_VERBS if change.body else wording.LESSON_NOTE_CLEARED)[change.field]
    app.jinja_env.globals["url_for"] = views.remembered_url_for

    @app.context_processor
    def inject_globals() -> dict[str, object]:
        return {"studio_name": studio_name()}

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.is_secure:  # over TLS (directly, or behind TRUSTED_PROXIES that say so)
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    def error_page(status: int, title: str, message: str):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if _wants_json():
            code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                    405: "method_not_allowed", 429: "rate_limited"}.get(status, "error")
            return jsonify(error={"code": code, "message": message}), status
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        return error_page(400, "Form expired", "The form expired or was sent from elsewhere. Go back, reload the page and try again.")

    @app.errorhandler(403)
    def forbidden(exc: HTTPException):  # type: ignore[no-untyped-def]
        return error_page(403, "Not allowed", "You do not have access to this page. Sign in with another account or go back.")

    @app.errorhandler(404)
    def not_found(exc: HTTPException):  # type: ignore[no-untyped-def]
        return error_page(404, "Page not found", "We could not find that page. Check the address or start again from the home page.")

    @app.errorhandler(429)
    def too_many(exc: HTTPException):  # type: ignore[no-untyped-def]
        return error_page(429, "Slow down", "Too many attempts in a short time. Wait a minute and try again.")

    @app.errorhandler(500)
    def server_error(exc: Exception):  # type: ignore[no-untyped-def]
        return error_page(500, "Something went wrong", "Something went wrong on our side. Nothing was saved; please try again in a moment.")
