"""The JSON API under /api: bearer-token or session auth, spec-shaped errors, an OpenAPI document."""

from __future__ import annotations

from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow import resolver as default_schema_name
from flask import Flask, request
from flask_login import current_user
from flask_smorest import Api
from marshmallow import Schema
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from ..extensions import csrf, login_manager
from ..services import ServiceError
from ..services.sessions import user_for_token
from . import (
    availability,
    booking,
    invitations,
    messages,
    passwords,
    privacy,
    routes,
    series,
    students,
    studio,
)
from .common import error_response
from .schemas import ErrorSchema


class BookingApi(Api):
    """flask-smorest's Api with errors in the studio's JSON shape, and HTML error pages left alone."""

    # Document the default error response with our shape (one "Error" schema, not two that clash).
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):  # type: ignore[no-untyped-def,override]
        if not request.path.startswith("/api/"):
            return error
        data = getattr(error, "data", None) or {}
        details = data.get("messages") or data.get("errors")
        message = data.get("message") or _sentence_for(error.code or 500, details)
        return error_response(error.code or 500, message, details=details)


def _sentence_for(status: int, details: Any) -> str:
    if status == 422 and details:
        fields = sorted({name for location in details.values() for name in location} if isinstance(details, dict) else [])
        problems = []
        for location in details.values() if isinstance(details, dict) else []:
            for name, msgs in location.items():
                problems.append(f"{name}: {' '.join(msgs) if isinstance(msgs, list) else msgs}")
        if problems:
            return "Some fields are not valid — " + "; ".join(problems)
        return f"Check these fields: {', '.join(fields)}."
    return {
        401: "Sign in or send a valid bearer token.",
        403: "You are not allowed to do this.",
        404: "Not found.",
        405: "This method is not allowed here.",
        429: "Too many requests. Wait a minute and try again.",
    }.get(status, "Something went wrong on our side. Please try again.")



def schema_name(schema: Any) -> str | None:
    """Name a schema in the OpenAPI document: `SettingsSchema(partial=True)` becomes `SettingsPatch`."""
    name = default_schema_name(schema)
    if isinstance(schema, Schema):
        if schema.only or schema.exclude:
            return None  # a cut-down variant: inline it rather than clash with the full schema's name
        if schema.partial:
            return f"{name}Patch"
    return name


def init_api(app: Flask) -> None:
    """Bind the API, token sign-in and its blueprints."""
    @login_manager.request_loader
    def load_user_from_token(req):  # type: ignore[no-untyped-def]
        header = req.headers.get("Authorization", "")
        if req.path.startswith("/api/") and header.startswith("Bearer "):
            return user_for_token(header.removeprefix("Bearer ").strip())
        return None

    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
                }
            },
            "security": [{"bearerAuth": []}, {"cookieAuth": []}],
            "info": {"description": "Private lesson booking. Instants are ISO 8601 UTC with Z."},
        },
    )
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)  # type: ignore[arg-type]  # None = inline
    api = BookingApi(app, spec_kwargs={"marshmallow_plugin": plugin})
    for bp in (routes.bp, availability.bp, booking.bp, messages.bp, studio.bp, privacy.bp, invitations.bp, passwords.bp,
               students.bp, series.bp):
        csrf.exempt(bp)
        api.register_blueprint(bp)
    app.before_request(_csrf_for_session_writes)
    _document_event_stream(api)

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return error_response(exc.status, exc.message, exc.code, getattr(exc, "details", None))
        raise exc


def _document_event_stream(api: Api) -> None:
    # GET /api/events is the realtime SSE view (a plain Flask route), so describe it by hand.
    rule = Rule("/api/events", endpoint="realtime.events")
    Map([rule])  # flask-smorest's spec plugin reads the path from a bound rule
    api.spec.path(
        rule=rule,
        operations={
            "get": {
                "tags": ["Live events"],
                "summary": "Stream the signed-in user's live events as server-sent events.",
                "description": (
                    "Each event has an `id`, an `event` type (booking.requested, booking.confirmed, "
                    "booking.declined, booking.cancelled, booking.expired, booking.completed, booking.no_show, "
                    "booking.changed, booking.notes (lesson notes written), message.sent, message.read, availability.changed, notification.created) "
                    "and JSON `data`. Send `Last-Event-ID` to catch up after a dropped connection; ids only "
                    "grow, also across server restarts. An event `refetch` (no id) means events may have been "
                    "lost (the server's Redis restarted or was away): reload what you show. Repeat "
                    "`calendar` to also follow instructors' public calendars."
                ),
                "parameters": [
                    {"name": "calendar", "in": "query", "required": False,
                     "schema": {"type": "array", "items": {"type": "integer"}}, "style": "form", "explode": True},
                    {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {"description": "An endless event stream.",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                },
            }
        },
    )


def _csrf_for_session_writes() -> None:
    # Bearer tokens cannot be sent cross-site by a browser; session cookies can, so they need the token.
    if not request.path.startswith("/api/") or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if not current_user.is_authenticated:
        return  # nothing to forge without a session; the view answers 401
    csrf.protect()
