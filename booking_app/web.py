"""Wire blueprints, sign-in, error pages, security headers and template helpers into the app."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import wording
from .extensions import db, login_manager
from .models import User


def viewer_timezone() -> str:
    """Return the timezone pages are shown in: the user's, else the browser's cookie, else UTC."""
    if current_user.is_authenticated:
        return str(current_user.timezone)
    from .domain.timeutil import is_valid_timezone

    tz = request.cookies.get("tz", "")
    return tz if tz and is_valid_timezone(tz) else "UTC"


def format_local(instant: datetime | None, fmt: str = "day_year", tz: str | None = None) -> str:
    """Say an aware instant in the viewer's (or the given) timezone: a named wording style, or a strftime pattern."""
    return wording.localtime(instant, tz or viewer_timezone(), fmt)


# (endpoint, label, who sees it) — links to areas not yet registered are left out.
NAV = [
    ("booking.book", "Book a lesson", {"anonymous", "student", "instructor", "owner"}),
    ("dashboard.index", "Dashboard", {"student", "instructor", "owner"}),
    ("availability.schedule", "My schedule", {"instructor", "owner"}),
    ("admin.users", "People", {"owner"}),
    ("admin.studio", "Studio settings", {"owner"}),
]


def nav_links(app: Flask) -> list[tuple[str, str, set[str]]]:
    """Return the navigation links the current viewer should see."""
    who = current_user.role if current_user.is_authenticated else "anonymous"
    return [link for link in NAV if who in link[2] and link[0] in app.view_functions]


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    """Register everything the web layer needs."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    from . import realtime
    from .admin.routes import bp as admin_bp
    from .api import init_api
    from .auth.routes import bp as auth_bp
    from .cli import register_cli
    from .main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    realtime.init_app(app)
    init_api(app)
    register_cli(app)
    _register_optional_blueprints(app)

    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.globals["viewer_timezone"] = viewer_timezone
    app.jinja_env.globals["nav_links"] = lambda: nav_links(app)

    @app.context_processor
    def inject_globals() -> dict[str, object]:
        from .services.studio import studio_name

        return {"studio_name": studio_name()}

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
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


def _register_optional_blueprints(app: Flask) -> None:
    # Feature areas register themselves here as they are built.
    import importlib

    for name in ("availability", "booking", "dashboard", "messages"):
        try:
            module = importlib.import_module(f"booking_app.{name}.routes")
        except ModuleNotFoundError as exc:
            if exc.name != f"booking_app.{name}.routes":
                raise
            continue
        app.register_blueprint(module.bp)
